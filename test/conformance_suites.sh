#!/bin/sh
# The real `mistral` CLI scenario and the mistral-tempest-plugin API suite
# against our server. Two servers on free loopback ports, each on a fresh
# SQLite database, run in parallel:
#   - Mistral's default config for the CLI scenario, which must pass whole;
#   - the upstream gate config for tempest (action-execution deletion on,
#     mistral-extra's system workflows populated): at least 104 passed and
#     no failures except the tests that need several tenants.
# Both runners' closing lines ("N passed, N failed") and their wall times are
# printed; the CLI scenario (one python CLI process per step) is the long pole.
# The suites live outside the repo (../shared/conformance next to the
# checkout); without them, or without the Debian packages their runners need,
# the test exits 77 (skipped).
# usage: conformance_suites.sh BIN_DIR SOURCE_DIR
# CONFORMANCE_CLI_PORT / CONFORMANCE_TEMPEST_PORT pick the ports (default:
# free ones).
set -eu
BIN="$1"
SOURCE="$2"
SUITES="$SOURCE/../shared/conformance"
SYSTEM_WORKFLOWS="$SOURCE/../shared/reference/system-workflows"
PY=/usr/bin/python3
MIN_TEMPEST_PASSED=104
# With auth off every client is the same identity: these cannot pass.
MULTI_TENANT="test_update_execution_by_other_fail
test_delete_wf_with_trigger_associate_in_other_tenant
test_get_list_other_project_private_workflows
test_get_list_workflows_by_admin
test_get_list_workflows_with_project_by_admin"

skip() { echo "skipped: $*"; exit 77; }
[ -f "$SUITES/cli/run_cli.py" ] || skip "no CLI suite at $SUITES/cli"
[ -f "$SUITES/tempest/run-tempest-api.sh" ] || skip "no tempest suite at $SUITES/tempest"
[ -d "$SYSTEM_WORKFLOWS" ] || skip "no system workflows at $SYSTEM_WORKFLOWS"
[ -x /usr/bin/mistral ] && [ -x "$PY" ] || skip "the mistral CLI (python3-mistralclient) is not installed"
for p in python3-mistralclient python3-tempest mistral-tempest-plugin; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || skip "Debian package $p is not installed"
done

WORK=$(mktemp -d)
PIDS=""
cleanup() {
  for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in $PIDS; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server NAME EXTRA_API_LINES: config, database and log in $WORK/NAME;
# prints the port.
start_server() {
  dir="$WORK/$1"
  mkdir -p "$dir"
  port=$(free_port)
  [ "$1" = cli ] && port=${CONFORMANCE_CLI_PORT:-$port}
  [ "$1" = tempest ] && port=${CONFORMANCE_TEMPEST_PORT:-$port}
  printf '[api]\nport = %s\n%s\n[database]\nconnection = sqlite:///%s/mistral.db\n' \
    "$port" "$2" "$dir" > "$dir/mistral.conf"
  if [ "$1" = tempest ]; then
    "$BIN/mistral-db-manage" --config-file "$dir/mistral.conf" upgrade head > "$dir/db.log" 2>&1 &&
      "$BIN/mistral-db-manage" --config-file "$dir/mistral.conf" populate \
        --workflows-dir "$SYSTEM_WORKFLOWS" >> "$dir/db.log" 2>&1 ||
      fail "populate with system workflows: $(cat "$dir/db.log")"
  fi
  "$BIN/mistral-server" --config-file "$dir/mistral.conf" > "$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"
  echo "$port" > "$dir/port"
}

wait_ready() {
  dir="$WORK/$1"
  url="http://127.0.0.1:$(cat "$dir/port")/v2/"
  i=0
  until curl -fsS "$url" -o /dev/null 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 150 ] && fail "$1 server did not answer within 30 s"
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || fail "$1 server exited early: $(tail -5 "$dir/server.log")"
    sleep 0.2
  done
}

start_server cli ""
PIDS="$PIDS $(cat "$WORK/cli/pid")"
start_server tempest "allow_action_execution_deletion = True"
PIDS="$PIDS $(cat "$WORK/tempest/pid")"
wait_ready cli
wait_ready tempest
TEMPEST_PORT=$(cat "$WORK/tempest/port")
curl -fsS "http://127.0.0.1:$TEMPEST_PORT/v2/workflows/create_instance" -o /dev/null ||
  fail "the tempest server has no system workflow create_instance"

START=$(date +%s)
{
  $PY "$SUITES/cli/run_cli.py" --url "http://127.0.0.1:$(cat "$WORK/cli/port")" > "$WORK/cli.log" 2>&1 || true
  date +%s > "$WORK/cli.end"
} &
CLI_PID=$!
mkdir -p "$WORK/tempest-results"
{
  TEMPEST_RESULTS_DIR="$WORK/tempest-results" MISTRAL_URL="http://127.0.0.1:$TEMPEST_PORT" \
    bash "$SUITES/tempest/run-tempest-api.sh" > "$WORK/tempest.log" 2>&1 || true
  date +%s > "$WORK/tempest.end"
} &
TEMPEST_PID=$!
wait "$CLI_PID" || true
wait "$TEMPEST_PID" || true

status=0
elapsed() { if [ -f "$1" ]; then echo "$(($(cat "$1") - START)) s"; else echo "? s"; fi; }
echo "== CLI scenario (default config): $(elapsed "$WORK/cli.end")"
grep -E '^(FAIL|  )' "$WORK/cli.log" | head -60 || true
cli_last=$(tail -1 "$WORK/cli.log")
echo "$cli_last"
echo "$cli_last" | grep -Eq '^[0-9]+ passed, 0 failed$' || { echo "FAIL: the CLI scenario has failures" >&2; status=1; }

echo "== tempest API suite (gate config): $(elapsed "$WORK/tempest.end")"
# Where the time goes (the CI budget): the five slowest tests.
$PY - "$WORK/tempest-results/api-v2-results.json" <<'EOF' || true
import json, sys
tests = sorted(json.load(open(sys.argv[1]))["tests"], key=lambda t: -t["secs"])[:5]
print("slowest: " + ", ".join("%s %.1f s" % (t["id"].split(".")[-1].split("[")[0], t["secs"]) for t in tests))
EOF
cat "$WORK/tempest.log"
tempest_last=$(tail -1 "$WORK/tempest.log")
passed=$(echo "$tempest_last" | sed -n 's/^\([0-9]*\) passed, .*/\1/p')
[ -n "$passed" ] && [ "$passed" -ge "$MIN_TEMPEST_PASSED" ] ||
  { echo "FAIL: tempest passed ${passed:-?}, need at least $MIN_TEMPEST_PASSED" >&2; status=1; }
unexpected=$(grep -E '^(FAIL|ERROR) ' "$WORK/tempest.log" | sed 's/^[A-Z]* *\([^ |]*\).*/\1/' |
  while read -r id; do
    echo "$MULTI_TENANT" | grep -qx "${id##*.}" || echo "$id"
  done)
[ -z "$unexpected" ] || { echo "FAIL: tempest failures beyond the multi-tenant tests:" >&2; echo "$unexpected" >&2; status=1; }
exit $status
