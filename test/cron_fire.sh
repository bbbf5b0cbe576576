#!/bin/sh
# A cron trigger really starts executions through mistral-server: a trigger
# firing every second with remaining_executions 2 starts exactly two
# executions of its workflow, with its input, params and Mistral's
# description, and is deleted after its last slot. With a second engine
# process on the same store, a trigger still starts one execution per slot.
# usage: cron_fire.sh BIN_DIR
set -eu
BIN="$1/mistral-server"
WORK=$(mktemp -d)
PID=""
PID2=""
cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
  [ -n "$PID2" ] && kill -9 "$PID2" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '[api]\nport = %s\n[database]\nconnection = sqlite:///%s/mistral.db\n[cron_trigger]\nexecution_interval = 1\n' \
  "$PORT" "$WORK" > "$WORK/mistral.conf"
"$BIN" --server all --config-file "$WORK/mistral.conf" > "$WORK/server.log" 2>&1 &
PID=$!
URL="http://127.0.0.1:$PORT/v2"
i=0
until curl -fsS "$URL/" -o /dev/null 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "server did not answer within 20 s"
  kill -0 "$PID" 2>/dev/null || fail "server exited early"
  sleep 0.2
done

printf -- "---\nversion: '2.0'\ncron_wf:\n  input:\n    - name\n  tasks:\n    t1:\n      action: std.echo output=<%% \$.name %%>\n" \
  > "$WORK/wf.yaml"
code=$(curl -sS -o "$WORK/wf.json" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$WORK/wf.yaml" "$URL/workflows")
[ "$code" = "201" ] || fail "workflow create gave $code: $(cat "$WORK/wf.json")"
code=$(curl -sS -o "$WORK/trigger.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"name": "every_second", "workflow_name": "cron_wf", "workflow_input": {"name": "cron"}, "workflow_params": {"env": {"k": "v"}}, "pattern": "* * * * * *", "remaining_executions": 2}' \
  "$URL/cron_triggers")
[ "$code" = "201" ] || fail "cron trigger create gave $code: $(cat "$WORK/trigger.json")"
echo "ok: cron trigger created"

count() { curl -sS "$URL/executions?workflow_name=cron_wf" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["executions"]))'; }
i=0
until [ "$(count)" = "2" ]; do
  i=$((i + 1)); [ $i -gt 150 ] && fail "two executions did not start within 30 s (have $(count))"
  sleep 0.2
done
code=$(curl -sS -o /dev/null -w '%{http_code}' "$URL/cron_triggers/every_second")
[ "$code" = "404" ] || fail "the trigger still exists after its last slot ($code)"
sleep 2
[ "$(count)" = "2" ] || fail "more than two executions started: $(count)"
curl -sS "$URL/executions?workflow_name=cron_wf" > "$WORK/executions.json"
python3 - "$WORK/executions.json" "$WORK/trigger.json" <<'PY' || fail "executions do not carry the trigger's input, params and description"
import json, sys
executions = json.load(open(sys.argv[1]))["executions"]
trigger = json.load(open(sys.argv[2]))
for ex in executions:
    assert json.loads(ex["input"]) == {"name": "cron"}, ex
    assert json.loads(ex["params"]) == {"env": {"k": "v"}, "namespace": ""}, ex
    d = json.loads(ex["description"])
    assert d == {"description": "Workflow execution created by cron trigger '(%s)'." % trigger["id"],
                 "triggered_by": {"type": "cron_trigger", "id": trigger["id"], "name": "every_second"}}, d
PY
echo "ok: two executions started by the trigger, then it was deleted"

# A second process with the engine role shares the store: both schedulers
# see every slot, each slot is claimed once.
"$BIN" --server engine,executor --config-file "$WORK/mistral.conf" > "$WORK/server2.log" 2>&1 &
PID2=$!
sleep 1
kill -0 "$PID2" 2>/dev/null || fail "second engine process exited early"
code=$(curl -sS -o "$WORK/trigger2.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"name": "shared", "workflow_name": "cron_wf", "workflow_input": {"name": "two"}, "pattern": "* * * * * *", "remaining_executions": 4}' \
  "$URL/cron_triggers")
[ "$code" = "201" ] || fail "second cron trigger create gave $code: $(cat "$WORK/trigger2.json")"
count_two() { curl -sS "$URL/executions?workflow_name=cron_wf&input=has:two" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["executions"]))'; }
i=0
until [ "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/cron_triggers/shared")" = "404" ]; do
  i=$((i + 1)); [ $i -gt 150 ] && fail "the shared trigger was not used up within 30 s (executions: $(count_two))"
  sleep 0.2
done
sleep 2
[ "$(count_two)" = "4" ] || fail "two engines started $(count_two) executions for 4 slots"
echo "ok: two engine processes started one execution per slot (4 of 4)"
echo "   slots claimed: api+engine process $(grep -c "by cron trigger 'shared'" "$WORK/server.log" || true), engine-only process $(grep -c "by cron trigger 'shared'" "$WORK/server2.log" || true)"
