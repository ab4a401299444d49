#!/usr/bin/env bash
# Prepares a Debian 12 machine (as root) to build, run and test AutoServe. Idempotent: each step
# checks first and skips what is already done, so a second run takes a few seconds.
#   1. apt: docker.io nginx busybox-static libnginx-mod-http-lua wrk git chromium firefox-esr (only
#      what is missing; the browsers run the dashboard's browser tests headless)
#   2. the system nginx service must not hold ports (AutoServe runs its own nginx master)
#   3. dockerd running (started in the background when `docker info` fails)
#   4. npm ci when node_modules is missing or older than package-lock.json
#   5. npm run build when src/, schema/ or the build config changed since the last build
#   6. local images (scripts/build-images.sh; rebuilt only when their build context changed)
# Env: SKIP_IMAGES=1 skips step 6; FORCE_BUILD=1 forces step 5.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly APT_PACKAGES=(docker.io nginx busybox-static libnginx-mod-http-lua wrk git chromium firefox-esr)
readonly DOCKERD_START_TIMEOUT_S=60
readonly DOCKERD_LOG=/var/log/dockerd.log
readonly BUILD_STAMP=dist/.build-stamp

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

started_at=$SECONDS
[[ $(id -u) == 0 ]] || die "run as root (installs packages and starts dockerd)"

systemd_running() { [[ "$(cat /proc/1/comm 2>/dev/null)" == systemd ]]; }

# --- 1. packages ---------------------------------------------------------------------------
is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  # A Docker engine from another source (docker-ce) conflicts with docker.io: keep it.
  [[ "$pkg" == docker.io ]] && command -v docker >/dev/null && command -v dockerd >/dev/null && continue
  is_installed "$pkg" || missing+=("$pkg")
done
nginx_newly_installed=0
if ((${#missing[@]})); then
  is_installed nginx || nginx_newly_installed=1
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep maintainer scripts from starting services (system nginx on :80, dockerd): we start what
  # we need ourselves. policy-rc.d is honoured by invoke-rc.d and deb-systemd-invoke.
  policy_created=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_created=1
  fi
  apt_ok=1
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || apt_ok=0
  if ((policy_created)); then rm -f /usr/sbin/policy-rc.d; fi
  ((apt_ok)) || die "apt-get install ${missing[*]} failed"
  log "installed ${missing[*]}"
else
  log "packages present"
fi

# --- 2. system nginx -----------------------------------------------------------------------
# Only the package's own service is touched: its master writes /run/nginx.pid (Debian's
# nginx.conf) and runs without -p/-c; AutoServe's nginx master uses its own prefix and pid file.
stop_system_nginx() {
  if systemd_running; then
    if systemctl is-enabled --quiet nginx 2>/dev/null; then
      systemctl disable --now nginx >/dev/null 2>&1 || true
      log "disabled the system nginx service"
    fi
    if systemctl is-active --quiet nginx 2>/dev/null; then systemctl stop nginx || true; fi
  fi
  local pid cmd
  pid=$(cat /run/nginx.pid 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  [[ "$cmd" == *"nginx: master process"* && "$cmd" != *" -c "* && "$cmd" != *" -p "* ]] || return 0
  log "stopping the system nginx service (pid $pid)"
  service nginx stop >/dev/null 2>&1 || kill -QUIT "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -TERM "$pid" 2>/dev/null || true
}
stop_system_nginx
if ((nginx_newly_installed)) && ! systemd_running && command -v update-rc.d >/dev/null; then
  update-rc.d nginx disable >/dev/null 2>&1 || true
fi

# --- 3. dockerd ----------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  log "dockerd running"
else
  if systemd_running && systemctl start docker >/dev/null 2>&1; then
    log "started docker.service"
  else
    # Started here (no systemd): with live-restore, so that a dockerd restart leaves the app
    # replicas running (docs/operations.md, "Failure modes"), unless daemon.json decides it
    # (a key given both as a flag and in daemon.json stops dockerd from starting).
    dockerd_flags=()
    grep -qs '"live-restore"' /etc/docker/daemon.json || dockerd_flags+=(--live-restore)
    log "starting dockerd ${dockerd_flags[*]} (log: $DOCKERD_LOG)"
    nohup dockerd "${dockerd_flags[@]}" >"$DOCKERD_LOG" 2>&1 &
    disown || true
  fi
  deadline=$((SECONDS + DOCKERD_START_TIMEOUT_S))
  until docker info >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true; die "dockerd did not answer within ${DOCKERD_START_TIMEOUT_S}s"; }
    sleep 0.5
  done
  log "dockerd ready"
fi

# --- 4. npm dependencies -------------------------------------------------------------------
command -v node >/dev/null || die "node is not installed (need Node >= 20.19)"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
else
  log "node_modules up to date"
fi

# --- 5. build ------------------------------------------------------------------------------
needs_build() {
  [[ "${FORCE_BUILD:-0}" == 1 || ! -f "$BUILD_STAMP" ]] && return 0
  [[ -n "$(find src ui schema tsconfig.json package.json package-lock.json scripts/copy-assets.mjs scripts/build-ui.mjs \
    -newer "$BUILD_STAMP" -print -quit 2>/dev/null)" ]]
}
if needs_build; then
  log "npm run build"
  npm run --silent build
  touch "$BUILD_STAMP"
else
  log "build up to date"
fi

# --- 6. images -----------------------------------------------------------------------------
if [[ "${SKIP_IMAGES:-0}" == 1 ]]; then
  log "skipping images (SKIP_IMAGES=1)"
else
  bash scripts/build-images.sh
  # AutoServe runs containers with HostConfig.Init=true: dockerd needs its docker-init binary
  # (Debian's docker.io: /usr/bin/docker-init -> tini-static).
  docker run --rm --init --network none --entrypoint /bin/busybox autoserve-demo:v1 true >/dev/null 2>&1 ||
    die "docker run --init failed: is docker-init installed? (docker info: $(docker info --format '{{.InitBinary}}' 2>&1))"
  log "docker run --init works"
fi

log "done in $((SECONDS - started_at))s"
