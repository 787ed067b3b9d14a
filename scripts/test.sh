#!/usr/bin/env bash
# The test command: set everything up, run the static checks (scripts/check.sh), then the
# whole suite.
# With CI=true a skipped test fails the run (CI installs every part, so nothing may skip),
# and "no tests collected" (pytest exit code 5) is a failure everywhere.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
bash scripts/check.sh || exit 1
python3 -m pytest "$@"
code=$?
if [ "$code" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$code"
