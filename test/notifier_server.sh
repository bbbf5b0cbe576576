#!/bin/sh
# Notifications through a real mistral-server (--server all, so the notifier
# role runs in the process): [notifier] notify from the config file publishes
# every execution's events to a local HTTP receiver that refuses the first two
# POSTs; the retries still deliver all six events of a two-task workflow, with
# Mistral's body (JSON text, no Content-Type) and the configured headers.
# usage: notifier_server.sh BIN_DIR
set -eu
BIN="$1/mistral-server"
WORK=$(mktemp -d)
PID=""
RECV=""
cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
  [ -n "$RECV" ] && kill -9 "$RECV" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2; exit 1; }

# Debian's interpreter when there is one: a pyenv shim on PATH starts slowly.
PY=$(command -v /usr/bin/python3 || command -v python3)
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
HOOK_PORT=$(free_port)

cat > "$WORK/receiver.py" <<'PY'
import http.server, json, sys
seen = {"n": 0}
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen["n"] += 1
        if seen["n"] <= 2:
            self.send_response(500); self.end_headers(); return
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body.decode()}) + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
PY
"$PY" "$WORK/receiver.py" "$HOOK_PORT" "$WORK/got.jsonl" &
RECV=$!
i=0
until "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$HOOK_PORT" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "the receiver did not listen within 20 s"
  sleep 0.2
done

cat > "$WORK/mistral.conf" <<CONF
[api]
port = $PORT
[database]
connection = sqlite:///$WORK/mistral.db
[notifier]
notify = [{"type": "webhook", "url": "http://127.0.0.1:$HOOK_PORT/events", "headers": {"X-Token": "t0k"}}, {"type": "noop"}]
webhook_retry_delay = 0.1
CONF
"$BIN" --server all --config-file "$WORK/mistral.conf" > "$WORK/server.log" 2>&1 &
PID=$!
URL="http://127.0.0.1:$PORT/v2"
i=0
until curl -fsS "$URL/" -o /dev/null 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "server did not answer within 20 s"
  kill -0 "$PID" 2>/dev/null || fail "server exited early"
  sleep 0.2
done

printf -- "---\nversion: '2.0'\nhooked:\n  tasks:\n    t1:\n      action: std.noop\n      on-success: t2\n    t2:\n      action: std.echo output=1\n" \
  > "$WORK/wf.yaml"
code=$(curl -sS -o "$WORK/wf.json" -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$WORK/wf.yaml" "$URL/workflows")
[ "$code" = "201" ] || fail "workflow create gave $code: $(cat "$WORK/wf.json")"
curl -sS -H 'Content-Type: application/json' -d '{"workflow_name": "hooked"}' "$URL/executions" > "$WORK/ex.json"
ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/ex.json")

lines() { [ -f "$WORK/got.jsonl" ] && wc -l < "$WORK/got.jsonl" || echo 0; }
i=0
until [ "$(lines)" -ge 6 ]; do
  i=$((i + 1)); [ $i -gt 150 ] && fail "six events did not arrive within 30 s (have $(lines))"
  sleep 0.2
done
curl -sS "$URL/executions/$ID" > "$WORK/row.json"
"$PY" - "$WORK/got.jsonl" "$WORK/row.json" "$ID" <<'PY' || fail "the delivered events are not Mistral's"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1])]
row = json.load(open(sys.argv[2]))
bodies = [json.loads(g["body"]) for g in got]
events = sorted(b["name"] + " " + b["event"] for b in bodies)
assert events == sorted(["hooked WORKFLOW_LAUNCHED", "t1 TASK_LAUNCHED", "t1 TASK_SUCCEEDED",
                         "t2 TASK_LAUNCHED", "t2 TASK_SUCCEEDED", "hooked WORKFLOW_SUCCEEDED"]), events
for g in got:
    assert g["headers"].get("x-token") == "t0k", g["headers"]
    assert "content-type" not in g["headers"], g["headers"]
done = [b for b in bodies if b["event"] == "WORKFLOW_SUCCEEDED"][0]
assert done["id"] == sys.argv[3] and done["state"] == "SUCCESS" and done["created_at"] == row["created_at"], done
assert list(done) == ["id", "name", "workflow_name", "workflow_namespace", "workflow_id", "state", "state_info",
                      "project_id", "task_execution_id", "root_execution_id", "created_at", "updated_at",
                      "event"], list(done)
assert len(json.loads(row["params"])["notify"]) == 2, row["params"]
PY
echo "ok: six events delivered after two refused POSTs"
grep -q "is published by the noop notification publisher" "$WORK/server.log" || fail "the noop publisher logged nothing"

kill -TERM "$PID"
i=0
while kill -0 "$PID" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 50 ] && fail "server did not stop within 10 s of SIGTERM"
  sleep 0.2
done
PID=""
echo "ok: stopped"
