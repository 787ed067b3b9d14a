#!/bin/sh
# Start the service on http://127.0.0.1:8000 (Ctrl-C stops it).
cd "$(dirname "$0")" && exec python3 -m app.server "${PORT:-8000}"
