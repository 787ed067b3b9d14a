#!/usr/bin/env bash
# Pull request job: validate the specs, then plan against the shared state and save
#   OUT/plan.json  the plan the merge job applies, exactly (refused there once stale)
#   OUT/plan.md    the pull-request comment (comment.py posts it)
#   OUT/exitcode   0: no changes, 2: changes (plan -detailed-exitcode)
# Exits 0 when a plan was made; 1 when validation or planning failed, after writing plan.md
# saying why, so the comment still tells the author.
# Usage: pr-plan.sh [OUT]   (default OUT: taskform-plan; run in the workspace)
set -uo pipefail
out=${1:-taskform-plan}
mkdir -p "$out"
rm -f "$out/plan.json" "$out/exitcode"

# A failure as the comment body: what failed and its output (bounded: a comment holds 65,536
# characters).
failed() {
  {
    printf '### taskform plan\n\n**`taskform %s` failed**, so there is no plan to apply:\n\n' "$1"
    printf '```text\n'
    head -c 60000 "$2"
    printf '\n```\n'
  } > "$out/plan.md"
  cat "$2" >&2
  exit 1
}

taskform validate > "$out/validate.txt" 2>&1 || failed validate "$out/validate.txt"
cat "$out/validate.txt"

taskform plan -detailed-exitcode -out "$out/plan.json" --format markdown \
  > "$out/plan.md" 2> "$out/plan.err"
code=$?
case $code in
  0|2)
    echo "$code" > "$out/exitcode"
    taskform show "$out/plan.json"   # the plan in the job's log, as text
    ;;
  *)
    failed plan "$out/plan.err"
    ;;
esac
