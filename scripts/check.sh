#!/usr/bin/env bash
# Static checks CI keeps (run by scripts/test.sh before the tests; quick on their own):
#   ruff (style and likely bugs), import-linter (the layers in .importlinter: the core never
#   imports providers, providers never import kinds/content/rubric, ...), mypy --strict.
# Each failure names the offending file, line or import; any failure fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
run() {
  printf '[check] %s\n' "$*"
  "$@" || { printf '[check] FAILED: %s\n' "$*" >&2; status=1; }
}
run python3 -m ruff check runner tests bench
run lint-imports --no-cache
run python3 -m mypy
exit $status
