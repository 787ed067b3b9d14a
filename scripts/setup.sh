#!/usr/bin/env bash
# Idempotent setup for developers and CI: installs taskform and everything its tests use.
# Safe to run again: each part checks before it installs or starts anything.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

log "python packages"
python3 -m pip install --quiet --disable-pip-version-check -e '.[docker,llm,github,ssh,postgres,test]'
# An editable install leaves the sources uncompiled, and where PYTHONDONTWRITEBYTECODE is set
# (it is on this machine) every command would compile them again: ~50 ms of a 170 ms no-op
# plan. Compile them once, as pip does for a regular install; Python reads them whatever that
# variable says, and recompiles a file that changed.
python3 -m compileall -q -j 0 runner >/dev/null
# pyenv finds a new console script only after a rehash
if command -v pyenv > /dev/null 2>&1; then pyenv rehash; fi
command -v taskform > /dev/null || log "warning: the taskform command is not on PATH; use python3 -m runner"

# PostgreSQL binaries: the state tests start their own server from initdb/pg_ctl on a temp dir
# (tests/postgres_server.py); the package's own cluster is neither created nor started
if ! command -v initdb > /dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    log "postgresql (binaries only: the tests start their own servers)"
    export DEBIAN_FRONTEND=noninteractive
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
    apt-get update -qq > /dev/null
    apt-get install -y -qq -o Dpkg::Options::=--force-confold postgresql > /dev/null
  else
    log "postgresql is missing and this is not root: the PostgreSQL tests will skip"
  fi
fi

log "docker engine, local registry and base image"
bash scripts/docker-up.sh

# chromium: the grading report test opens the HTML report in a real headless browser
if ! command -v chromium > /dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    log "chromium (headless browser for the HTML report test)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq > /dev/null
    apt-get install -y -qq chromium > /dev/null
  else
    log "chromium is missing and this is not root: the HTML report browser test will skip"
  fi
fi

# openssh-server: the droplet tests start their own sshd per test droplet on 127.0.0.2-4
# (tests/droplet_fixtures.py); nothing here starts one or listens anywhere
if [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "openssh-server (the droplet tests' sshd)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq -o DPkg::Lock::Timeout=300 openssh-server > /dev/null 2>&1 || {
      apt-get update -qq > /dev/null
      apt-get install -y -qq -o DPkg::Lock::Timeout=300 openssh-server > /dev/null
    }
  else
    log "openssh-server is missing and this is not root: the droplet tests will skip"
  fi
fi

log "done"
