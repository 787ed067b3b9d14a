#!/usr/bin/env bash
# Merge job: apply exactly the plan the pull request showed (its saved plan file). A plan made
# before the state or the specs changed, because another merge got there first, is refused
# with the reason; plan the pull request again (push to it, or re-run its plan job).
# Usage: merge-apply.sh PLAN_FILE   (run in the workspace, at the merged commit)
set -euo pipefail
plan=${1:?usage: merge-apply.sh PLAN_FILE}
if [ ! -f "$plan" ]; then
  echo "merge-apply: no saved plan at $plan: the pull request's plan job must run (and upload" \
       "its plan) before the merge" >&2
  exit 1
fi
taskform show "$plan"
exec taskform apply -lock-timeout "${TASKFORM_LOCK_TIMEOUT:-10m}" "$plan"
