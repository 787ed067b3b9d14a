#!/bin/sh
# Stops only what run.sh started (its pid file). Containers a task starts carry
# --label "$TASKFORM_LABEL", and taskform removes those itself after this script.
[ -f server.pid ] && kill "$(cat server.pid)" 2>/dev/null || true
rm -f server.pid server.port
