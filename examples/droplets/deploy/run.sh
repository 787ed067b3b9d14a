#!/bin/sh
# Starts the task's environment in its own folder ($TASKFORM_DIR, the working directory). Runs
# again after a change, once kill.sh has stopped what it started.
set -e
rm -f server.port
nohup python3 serve.py > server.log 2>&1 &
echo $! > server.pid
echo "serving the task's files from $TASKFORM_DIR (slot $TASKFORM_SLOT)"
