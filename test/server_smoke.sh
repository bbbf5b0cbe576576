#!/bin/sh
# End-to-end checks of mistral-server as an operator runs it:
#  - starts with the committed sample config (port overridden by a 2nd file)
#  - answers GET /, GET /v2/, GET /v2 (302) and 404 exactly as Mistral does
#  - stops on SIGTERM within 5 s
#  - exits 2 and names the line on a malformed config
#  - rejects an unknown role, listing the valid ones
# usage: server_smoke.sh BIN_DIR SOURCE_DIR
set -eu
BIN="$1/mistral-server"
SRC="$2"
WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/server.log" ] && cat "$WORK/server.log" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '[api]\nport = %s\n[database]\nconnection = sqlite:///%s/mistral.db\n' "$PORT" "$WORK" > "$WORK/port.conf"

"$BIN" --server all --config-file "$SRC/deploy/mistral.conf.sample" --config-file "$WORK/port.conf" \
  > "$WORK/server.log" 2>&1 &
PID=$!

i=0
until curl -fsS "http://127.0.0.1:$PORT/" -o "$WORK/root.json" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "server did not answer within 20 s"
  kill -0 "$PID" 2>/dev/null || fail "server exited early"
  sleep 0.2
done
expected="{\"versions\": [{\"id\": \"v2.0\", \"status\": \"CURRENT\", \"links\": [{\"href\": \"http://127.0.0.1:$PORT/v2\", \"target\": \"v2\", \"rel\": \"self\"}]}]}"
[ "$(cat "$WORK/root.json")" = "$expected" ] || fail "GET / body: $(cat "$WORK/root.json")"
[ "$(curl -sS "http://127.0.0.1:$PORT/v2/")" = "{\"uri\": \"http://127.0.0.1:$PORT/v2\"}" ] || fail "GET /v2/"
code=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$PORT/v2")
[ "$code" = "302 http://127.0.0.1:$PORT/v2/" ] || fail "GET /v2 gave $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/no/such/route")
[ "$code" = "404" ] || fail "unknown route gave $code"
echo "ok: root endpoints"

start=$(date +%s)
kill -TERM "$PID"
i=0
while kill -0 "$PID" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 50 ] && fail "server still running 5 s after SIGTERM"
  sleep 0.1
done
wait "$PID" || fail "server exit status $? after SIGTERM"
PID=""
echo "ok: SIGTERM stop in $(( $(date +%s) - start )) s"

printf '[api]\nport = 8989\nthis line is broken\n' > "$WORK/bad.conf"
set +e
"$BIN" --config-file "$WORK/bad.conf" > "$WORK/bad.out" 2>&1
rc=$?
set -e
[ "$rc" = "2" ] || fail "malformed config exit code $rc"
grep -q "bad.conf" "$WORK/bad.out" && grep -q ":3" "$WORK/bad.out" || fail "malformed config message: $(cat "$WORK/bad.out")"
echo "ok: malformed config exits 2 naming the line"

set +e
"$BIN" --server api,bogus > "$WORK/role.out" 2>&1
rc=$?
set -e
[ "$rc" = "2" ] || fail "unknown role exit code $rc"
grep -q "event-engine" "$WORK/role.out" || fail "unknown role message: $(cat "$WORK/role.out")"
echo "ok: unknown role rejected"

"$BIN" --gen-config > "$WORK/sample.conf"
cmp -s "$WORK/sample.conf" "$SRC/deploy/mistral.conf.sample" || fail "deploy/mistral.conf.sample differs from --gen-config"
echo "ok: committed sample equals --gen-config"
