#!/usr/bin/env bash
# Scheduled job: does the real world still match the specs on the default branch?
#   no changes (plan exit 0): say so, and close the drift issue if one is open
#   changes    (plan exit 2): open the drift issue, or update the open one, with the plan
#   error      (plan exit 1): fail the job
# Usage: drift.sh [OUT]   (default OUT: taskform-drift; run in the workspace; comment.py's
# environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-taskform-drift}
mkdir -p "$out"
taskform plan -detailed-exitcode --format markdown --title "taskform drift" \
  > "$out/drift.md" 2> "$out/drift.err"
code=$?
case $code in
  0)
    echo "No drift: the real world matches the specs."
    exec python3 "$here/comment.py" close-issue
    ;;
  2)
    echo "Drift: the real world no longer matches the specs."
    exec python3 "$here/comment.py" issue "$out/drift.md" --title "taskform: drift detected"
    ;;
  *)
    cat "$out/drift.err" >&2
    exit 1
    ;;
esac
