#!/usr/bin/env bash
# Idempotent Docker test infrastructure, used by scripts/setup.sh (so by CI) and by developers:
#   - Debian's docker.io, docker-registry and debootstrap, installed when missing;
#   - dockerd, started in the background when its socket does not answer;
#   - a registry on 127.0.0.1:5000 (config of our own: no auth, filesystem storage);
#   - the base image taskform/base:bookworm (debootstrap minbase + git, patch, python3),
#     built once, its rootfs tarball cached so a wiped engine re-imports in seconds,
#     and pushed to the local registry so that pull tests are real.
# Quick when everything is up (a few seconds); fails loudly, naming what could not be set up.
set -euo pipefail

log() { printf '[docker-up] %s\n' "$*"; }
die() { printf '[docker-up] ERROR: %s\n' "$*" >&2; exit 1; }

CACHE=${TASKFORM_CACHE:-/var/cache/taskform}
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_DIR=$CACHE/registry
DOCKERD_LOG=/var/log/taskform-dockerd.log
REGISTRY_LOG=/var/log/taskform-registry.log
BASE_IMAGE=taskform/base:bookworm
BASE_TARBALL=$CACHE/base-bookworm-rootfs.tar
export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}

mirror() {
  # the apt mirror this machine already uses answers; debootstrap must use the same one
  local uri
  uri=$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -n1 || true)
  [ -n "$uri" ] || uri=$(grep -h -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "packages ${missing[*]} are missing and installing them needs root"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -q >/dev/null || die "apt-get update failed"
    apt-get install -y -q -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
  }
}

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_dockerd() {
  if engine_answers; then
    log "dockerd answers ($(docker version --format '{{.Server.Version}}'))"
    return
  fi
  [ "$DOCKER_HOST" = unix:///var/run/docker.sock ] \
    || die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine, or unset DOCKER_HOST"
  log "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    engine_answers && { log "dockerd is up"; return; }
    sleep 0.5
  done
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  die "dockerd did not answer on /var/run/docker.sock within 30s (see $DOCKERD_LOG)"
}

registry_answers() { curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

start_registry() {
  if registry_answers; then
    log "registry answers on $REGISTRY_ADDR"
    return
  fi
  mkdir -p "$REGISTRY_DIR"
  cat >"$CACHE/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
  log "starting docker-registry on $REGISTRY_ADDR (log: $REGISTRY_LOG)"
  nohup docker-registry serve "$CACHE/registry.yml" >>"$REGISTRY_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 40); do
    registry_answers && { log "registry is up"; return; }
    sleep 0.25
  done
  tail -n 20 "$REGISTRY_LOG" >&2 || true
  die "docker-registry did not answer on $REGISTRY_ADDR within 10s (see $REGISTRY_LOG)"
}

build_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE is present"
    return
  fi
  if [ ! -s "$BASE_TARBALL" ]; then
    local root
    root=$(mktemp -d /var/tmp/taskform-rootfs.XXXXXX)
    log "debootstrap bookworm minbase (+git, patch, python3) from $(mirror); takes about a minute"
    debootstrap --variant=minbase --include=git,patch,python3 bookworm "$root" "$(mirror)" \
      >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE/debootstrap.log" >&2; rm -rf "$root"; die "debootstrap failed (see $CACHE/debootstrap.log)"; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$BASE_TARBALL.tmp" . && mv "$BASE_TARBALL.tmp" "$BASE_TARBALL"
    rm -rf "$root"
  fi
  log "importing $BASE_TARBALL as $BASE_IMAGE"
  docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    "$BASE_TARBALL" "$BASE_IMAGE" >/dev/null || die "docker import of $BASE_TARBALL failed"
}

push_base_image() {
  local remote=$REGISTRY_ADDR/$BASE_IMAGE
  if curl -fsS "http://$REGISTRY_ADDR/v2/taskform/base/manifests/bookworm" \
       -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' >/dev/null 2>&1; then
    log "registry holds $remote"
    return
  fi
  log "pushing $remote"
  docker tag "$BASE_IMAGE" "$remote"
  docker push -q "$remote" >/dev/null || die "docker push $remote failed"
}

mkdir -p "$CACHE"
install_packages
start_dockerd
start_registry
build_base_image
push_base_image
log "ready: engine $DOCKER_HOST, registry $REGISTRY_ADDR, base image $BASE_IMAGE"
