#!/usr/bin/env bash
# Idempotent setup for developers and CI: installs taskform and everything its tests use.
# Safe to run again: each part checks before it installs or starts anything.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }

log "python packages"
python3 -m pip install --quiet --disable-pip-version-check -e '.[docker,llm,github,ssh,postgres,test]'

log "docker engine, local registry and base image"
bash scripts/docker-up.sh

log "done"
