#!/usr/bin/env bash
# Browser tests against a real safeguard: a fresh SQLite database seeded through the CLI
# (the administrator) and the JSON API (a team and its staff), the server in the
# background, then `node --test`. The server is always stopped at the end.
#
#   bash e2e/run.sh target/release/safeguard
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 PATH/TO/safeguard" >&2
  exit 2
fi
BIN=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
SERVER_PID=""

cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$TMP/server.log" ]; then
    echo "--- server log (last 40 lines) ---" >&2
    tail -n 40 "$TMP/server.log" >&2 || true
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT INT TERM

cd "$HERE"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi

# A free port, chosen by the kernel.
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
BASE="http://127.0.0.1:$PORT"
DB="$TMP/safeguard.db"
PASSWORD="e2e correct horse battery"
export SAFEGUARD_LOG=warn

"$BIN" user add --db "$DB" --login admin --name "Ada Administrator" --role administrator --password "$PASSWORD" >/dev/null

"$BIN" serve --db "$DB" --bind "127.0.0.1:$PORT" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if curl -fsS "$BASE/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "the server did not start" >&2; exit 1; fi
  sleep 0.1
done
curl -fsS "$BASE/health" >/dev/null

SEED=$(node seed.mjs "$BASE" admin "$PASSWORD")
export E2E_BASE_URL="$BASE" E2E_PASSWORD="$PASSWORD" E2E_SEED="$SEED"
mkdir -p test-results
node --test --test-concurrency=1 tests/
