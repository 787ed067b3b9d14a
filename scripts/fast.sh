#!/usr/bin/env bash
# The fast lane for the edit-test loop: every test that needs no Docker engine, no sshd, no
# PostgreSQL server and no seconds of its own (those are marked; CI runs everything through
# scripts/test.sh), on two workers (pytest-xdist: these tests share no server, port or fixed
# path, so they run side by side; `-n 0` runs them in one process). Extra arguments go to
# pytest: `bash scripts/fast.sh tests/spec -x`.
set -uo pipefail
cd "$(dirname "$0")/.."
workers=()
python3 -c "import xdist" 2> /dev/null && workers=(-n 2)
python3 -m pytest -m "not docker and not slow and not ssh and not postgres" -p no:cacheprovider \
  "${workers[@]}" "$@"
code=$?
if [ "$code" -eq 5 ]; then
  echo "fast.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$code"
