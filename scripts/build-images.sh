#!/usr/bin/env bash
# Builds AutoServe's local images (there is no registry to pull from):
#   autoserve-demo:v1, autoserve-demo:v2   FROM scratch busybox httpd on :8080 (images/demo/)
#   autoserve-node-echo:v1                 FROM scratch host node + server.mjs on :8080 (images/node-echo/)
#   autoserve-queue-app:v1                 FROM scratch host node + a worker-pool server on :8080 (images/queue-app/)
#   autoserve-busy-cgi:v1                  FROM scratch busybox httpd + a CPU-burning CGI on :8080 (images/busy-cgi/)
#   autoserve-gateway:v1                   FROM scratch busybox sleep: the Swarm runtime's overlay gateway
# Each build context is assembled in a temp dir; its content hash is stored in the image label
# autoserve.context-hash, and an image whose label matches is not rebuilt. FORCE=1 rebuilds.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly HASH_LABEL=autoserve.context-hash
readonly BUSYBOX_BIN=${BUSYBOX_BIN:-/bin/busybox}
FORCE=${FORCE:-0}

log() { printf '[images] %s\n' "$*"; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

work=$(mktemp -d /tmp/autoserve-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Hash of a context dir: paths, modes, symlink targets and file contents; not mtimes.
context_hash() {
  (
    cd "$1"
    find . -printf '%p %y %m %l\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  ) | sha256sum | cut -c1-64
}

# build_if_changed TAG CONTEXT_DIR [smoke]   (smoke: GET /healthz after the build; "none" skips it)
build_if_changed() {
  local tag=$1 ctx=$2 smoke=${3:-smoke} hash current
  hash=$(context_hash "$ctx")
  current=$(docker image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$tag" 2>/dev/null || true)
  if [[ "$FORCE" != 1 && "$current" == "$hash" ]]; then
    log "$tag up to date"
    return 0
  fi
  log "building $tag"
  # The legacy builder works with both Debian's docker.io CLI and newer CLIs without buildx.
  if ! DOCKER_BUILDKIT=0 docker build --label "$HASH_LABEL=$hash" -t "$tag" "$ctx" >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    die "docker build of $tag failed"
  fi
  [[ "${SKIP_SMOKE:-0}" == 1 || "$smoke" == none ]] || smoke_test "$tag"
  log "built $tag"
}

# Runs a freshly built image the way AutoServe does (--init, port published on 127.0.0.1) and
# expects GET /healthz to answer "ok". A failing image is removed so the next run rebuilds it.
smoke_test() {
  local tag=$1 cid addr body=""
  cid=$(docker run -d --rm --init -l autoserve.smoke=1 -p 127.0.0.1::8080 "$tag")
  addr=$(docker port "$cid" 8080/tcp | head -n 1)
  for _ in $(seq 1 40); do
    body=$(node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t), () => {})' "http://$addr/healthz" 2>/dev/null || true)
    [[ "$body" == ok* ]] && break
    sleep 0.25
  done
  if [[ "$body" != ok* ]]; then
    docker logs "$cid" >&2 2>&1 || true
    docker rm -f "$cid" >/dev/null 2>&1 || true
    docker rmi -f "$tag" >/dev/null 2>&1 || true
    die "$tag built but GET /healthz did not answer ok (got: ${body:-nothing})"
  fi
  docker stop -t 5 "$cid" >/dev/null 2>&1 || docker rm -f "$cid" >/dev/null 2>&1 || true
}

build_demo() {
  local version=$1 ctx="$work/demo-$1"
  [[ -x "$BUSYBOX_BIN" ]] || die "$BUSYBOX_BIN not found (apt-get install busybox-static)"
  if ldd "$BUSYBOX_BIN" >/dev/null 2>&1; then
    die "$BUSYBOX_BIN is dynamically linked; install busybox-static"
  fi
  mkdir -p "$ctx/bin" "$ctx/www"
  cp "$BUSYBOX_BIN" "$ctx/bin/busybox"
  ln -s busybox "$ctx/bin/sh"   # lets tests `docker exec <id> sh -c ...`
  cp images/demo/Dockerfile "$ctx/Dockerfile"
  sed "s/@VERSION@/$version/g" images/demo/index.html.tmpl >"$ctx/www/index.html"
  printf 'ok\n' >"$ctx/www/healthz"
  printf '%s\n' "$version" >"$ctx/www/version"
  build_if_changed "autoserve-demo:$version" "$ctx"
}

build_busy_cgi() {
  local ctx="$work/busy-cgi"
  [[ -x "$BUSYBOX_BIN" ]] || die "$BUSYBOX_BIN not found (apt-get install busybox-static)"
  mkdir -p "$ctx/bin" "$ctx/www/cgi-bin"
  cp "$BUSYBOX_BIN" "$ctx/bin/busybox"
  ln -s busybox "$ctx/bin/sh"   # the CGI's interpreter
  cp images/busy-cgi/Dockerfile "$ctx/Dockerfile"
  install -m 0755 images/busy-cgi/busy.cgi "$ctx/www/cgi-bin/busy"
  printf 'ok\n' >"$ctx/www/healthz"
  build_if_changed autoserve-busy-cgi:v1 "$ctx"
}

# Copies FILE (symlinks resolved) into ROOTFS at the same absolute path.
copy_to_rootfs() {
  local rootfs=$1 src=$2
  mkdir -p "$rootfs$(dirname "$src")"
  cp -L "$src" "$rootfs$src"
}

# build_node_image DIR TAG: FROM scratch with the host's node binary and images/DIR/server.mjs.
build_node_image() {
  local dir=$1 tag=$2 ctx="$work/$1" node_bin lib
  local rootfs="$ctx/rootfs"
  node_bin=$(command -v node) || die "node not found on PATH"
  node_bin=$(readlink -f "$node_bin")
  mkdir -p "$rootfs/usr/bin" "$rootfs/app" "$rootfs/tmp"
  chmod 1777 "$rootfs/tmp"
  cp "$node_bin" "$rootfs/usr/bin/node"
  # Every library ldd resolves ("name => /path (addr)") and the loader ("/lib64/ld-... (addr)").
  while read -r lib; do
    copy_to_rootfs "$rootfs" "$lib"
  done < <(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
  cp "images/$dir/server.mjs" "$rootfs/app/server.mjs"
  cp "images/$dir/Dockerfile" "$ctx/Dockerfile"
  build_if_changed "$tag" "$ctx"
}

# Nothing to smoke-test: it serves nothing (test/e2e/runtime/swarm-runtime.test.ts uses it).
build_gateway() {
  local ctx="$work/gateway"
  mkdir -p "$ctx/bin"
  cp "$BUSYBOX_BIN" "$ctx/bin/sleep" # busybox runs the applet its file is named after
  cp images/overlay-gateway/Dockerfile "$ctx/Dockerfile"
  build_if_changed autoserve-gateway:v1 "$ctx" none
}

docker info >/dev/null 2>&1 || die "docker is not reachable (run scripts/setup.sh)"
build_demo v1
build_demo v2
build_node_image node-echo autoserve-node-echo:v1
build_node_image queue-app autoserve-queue-app:v1
build_busy_cgi
build_gateway
