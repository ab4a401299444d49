#!/bin/sh
# GET /cgi-bin/busy?n=N: a shell loop of N iterations (default 20000, at most 1000000), pure CPU
# (tens of milliseconds of one core at the default), then "done N". Each request is its own process,
# so requests beyond what the replica's CPU limit serves pile up and share it.
n=20000
case "$QUERY_STRING" in
  n=*) v=${QUERY_STRING#n=}; case "$v" in ''|*[!0-9]*) ;; *) n=$v ;; esac ;;
esac
[ "$n" -gt 1000000 ] && n=1000000
i=0
while [ "$i" -lt "$n" ]; do i=$((i + 1)); done
printf 'Content-Type: text/plain\r\n\r\ndone %s\n' "$n"
