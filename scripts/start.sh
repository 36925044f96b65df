#!/usr/bin/env bash
# Starts the reference server with the demo site and development tokens. PORT and HOST override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8080}
HOST=${HOST:-127.0.0.1}
echo
echo "tidewire demo: open http://$HOST:$PORT/ in two browser tabs, sign in with two names, and chat."
echo "(development tokens are enabled: do not expose this server to a network)"
echo
exec build/native/src/server/tidewire-server --host "$HOST" --port "$PORT" --static-dir build/site --dev-tokens "$@"
