#!/usr/bin/env python3
"""A small cluster on loopback: 1 api, 1 engine, 2 executors as separate
processes (deploy/cluster.sh). Workflows run over HTTP to SUCCESS; a task
with a target runs only on the executor of that target ([executor] host),
one whose target is absent waits with a clear state_info; then an
executor is killed with kill -9 while two non-safe-rerun and two safe-rerun
std.sleep actions run (round robin puts one of each on either executor): the
non-safe one of the dead node fails with the clear text within 5 s, every
other one succeeds.

usage: cluster_test.py BIN_DIR SOURCE_DIR [--netns]   (exit 77 when PostgreSQL,
or for --netns root and `ip netns`, are absent). --netns puts every node in its
own network namespace.
The ports start at $MISTRAL_CLUSTER_TEST_BASE_PORT (default 29100).
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN, SRC = sys.argv[1], sys.argv[2]
NETNS = "--netns" in sys.argv[3:]
SCRIPT = os.path.join(SRC, "deploy", "cluster.sh")
LOST = "The action was running on executor node '%s', which stopped responding; it is not safe-rerun so it was failed"

WORKFLOWS = """
version: '2.0'
chain:
  input: [name]
  output:
    greeting: <% $.greeting %>
  tasks:
    hello:
      action: std.echo output="hello <% $.name %>"
      publish:
        greeting: <% task().result %>
      on-success: [done]
    done:
      action: std.noop
items:
  output:
    all: <% $.all %>
  tasks:
    each:
      with-items: x in <% [1, 2, 3, 4, 5] %>
      action: std.echo output=<% $.x * 2 %>
      publish:
        all: <% task().result %>
parent:
  output:
    child: <% $.child %>
  tasks:
    call:
      workflow: chain name="child"
      publish:
        child: <% task().result.greeting %>
targeted:
  input: [target]
  tasks:
    there:
      action: std.echo output="ran"
      target: <% $.target %>
      timeout: 4
sleeper:
  input: [safe, seconds]
  tasks:
    nap:
      action: std.sleep seconds=<% $.seconds %>
      safe-rerun: <% $.safe %>
"""


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def call(url, method="GET", body=None, ctype="application/json"):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def start(api, wf, inp):
    code, ex = call(api + "/v2/executions", "POST", json.dumps({"workflow_name": wf, "input": inp}))
    if code != 201:
        fail("start %s: %s %s" % (wf, code, ex))
    return ex["id"]


def wait_state(api, ex_id, states, secs):
    deadline = time.monotonic() + secs
    while True:
        code, ex = call(api + "/v2/executions/" + ex_id)
        if code == 200 and ex["state"] in states:
            return ex
        if time.monotonic() > deadline:
            fail("execution %s still %s after %s s" % (ex_id, ex.get("state") if code == 200 else code, secs))
        time.sleep(0.1)


def action_running(api, ex_id):
    code, body = call(api + "/v2/executions/%s/tasks" % ex_id)
    return code == 200 and any(t["state"] == "RUNNING" for t in body["tasks"])


def main():
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        print("SKIP: PostgreSQL binaries are absent")
        return 77
    if NETNS and (os.geteuid() != 0 or not shutil.which("ip")
                  or subprocess.run(["ip", "netns", "list"], capture_output=True).returncode):
        print("SKIP: network namespaces need root and iproute2")
        return 77
    began = time.monotonic()
    state = tempfile.mkdtemp(prefix="mistral-cluster-test-")
    os.chmod(state, 0o755)
    env = dict(os.environ, MISTRAL_CLUSTER_DIR=state, MISTRAL_BIN_DIR=BIN)
    base = os.environ.get("MISTRAL_CLUSTER_TEST_BASE_PORT", "29100")

    def cluster(*args):
        return subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True, timeout=180)

    try:
        up = cluster("up", "--engines", "1", "--executors", "2", "--base-port", base,
                     "--executor-targets", ",gpu", *(["--netns"] if NETNS else []))
        if up.returncode != 0:
            fail("cluster.sh up: %s\n%s" % (up.stdout, up.stderr))
        api = up.stdout.strip().splitlines()[-1]
        print("ok: cluster up at %s in %.1f s" % (api, time.monotonic() - began))

        code, services = call(api + "/v2/services")
        kinds = sorted((s["name"], s["type"]) for s in services["services"])
        want = [("api", "api_group"), ("engine-1", "engine_group"), ("executor-1", "executor_group"),
                ("executor-2", "executor_group")]
        if kinds != want:
            fail("services: %s" % services)

        code, body = call(api + "/v2/workflows", "POST", WORKFLOWS, "text/plain")
        if code != 201:
            fail("create workflows: %s %s" % (code, body))
        runs = [("chain", {"name": "ann"}, {"greeting": "hello ann"}),
                ("items", {}, {"all": [2, 4, 6, 8, 10]}),
                ("parent", {}, {"child": "hello child"})]
        ids = [(start(api, wf, inp), wf, out) for wf, inp, out in runs for _ in range(3)]
        for ex_id, wf, out in ids:
            ex = wait_state(api, ex_id, ("SUCCESS", "ERROR"), 60)
            if ex["state"] != "SUCCESS" or json.loads(ex["output"]) != out:
                fail("%s ended %s with %s (state_info %s)" % (wf, ex["state"], ex["output"], ex["state_info"]))
        print("ok: %d workflows ran to SUCCESS across the nodes" % len(ids))

        ex = wait_state(api, start(api, "targeted", {"target": "gpu"}), ("SUCCESS", "ERROR"), 30)
        if ex["state"] != "SUCCESS":
            fail("the task for target gpu ended %s: %s" % (ex["state"], ex["state_info"]))
        waiting = start(api, "targeted", {"target": "tpu"})
        deadline = time.monotonic() + 3
        while True:
            code, body = call(api + "/v2/executions/%s/tasks" % waiting)
            infos = [t["state_info"] for t in body["tasks"]] if code == 200 else []
            if "Waiting for an executor with target 'tpu'" in infos:
                break
            if time.monotonic() > deadline:
                fail("no waiting state_info on the task for target tpu: %s" % body)
            time.sleep(0.1)
        ex = wait_state(api, waiting, ("SUCCESS", "ERROR"), 30)
        if ex["state"] != "ERROR":
            fail("the task for the absent target tpu ended %s instead of timing out" % ex["state"])
        print("ok: a task with target gpu ran on the gpu executor; one for the absent tpu waited, "
              "saying so, until its timeout")
        code, run = call(api + "/v2/action_executions", "POST", json.dumps(
            {"name": "std.echo", "input": {"output": "far"}, "params": {"target": "gpu", "run_sync": True}}))
        if code != 201 or json.loads(run["output"]) != {"result": "far"}:
            fail("run-action with params.target: %s %s" % (code, run))
        print("ok: a run-action with params.target ran through the gpu executor")

        # Consecutive dispatches alternate between the two executors.
        sleepers = []
        for safe in (False, False, True, True):
            ex_id = start(api, "sleeper", {"safe": safe, "seconds": 10})
            deadline = time.monotonic() + 20
            while not action_running(api, ex_id):
                if time.monotonic() > deadline:
                    fail("the sleeper's task did not start")
                time.sleep(0.05)
            sleepers.append((ex_id, safe))
        killed = cluster("kill", "executor-1")
        if killed.returncode != 0:
            fail("cluster.sh kill: " + killed.stderr)
        t_kill = time.monotonic()
        failed_at = None
        ends = {}
        while len(ends) < 4:
            for ex_id, safe in sleepers:
                if ex_id in ends:
                    continue
                code, ex = call(api + "/v2/executions/" + ex_id)
                if code == 200 and ex["state"] in ("SUCCESS", "ERROR"):
                    ends[ex_id] = ex
                    if ex["state"] == "ERROR" and failed_at is None:
                        failed_at = time.monotonic() - t_kill
            if time.monotonic() - t_kill > 60:
                fail("sleepers still running 60 s after the kill: %s" % ends)
            time.sleep(0.1)
        unsafe = [ends[i] for i, safe in sleepers if not safe]
        safe = [ends[i] for i, s in sleepers if s]
        errors = [e for e in unsafe if e["state"] == "ERROR"]
        if len(errors) != 1 or LOST % "executor-1" not in (errors[0]["state_info"] or ""):
            fail("non-safe-rerun sleepers: %s" % [(e["state"], e["state_info"]) for e in unsafe])
        if failed_at is None or failed_at > 5:
            fail("the lost action failed %s s after the kill (limit 5 s)" % failed_at)
        if any(e["state"] != "SUCCESS" for e in safe):
            fail("safe-rerun sleepers: %s" % [(e["state"], e["state_info"]) for e in safe])
        print("ok: executor killed: the non-safe action failed in %.2f s naming the node, "
              "the safe-rerun ones completed" % failed_at)

        code, services = call(api + "/v2/services")
        if any(s["name"] == "executor-1" for s in services["services"]):
            fail("the dead executor is still listed: %s" % services)
        print("ok: the dead executor left GET /v2/services")
    finally:
        down = cluster("down")
        if down.returncode != 0:
            print("cluster.sh down: " + down.stderr, file=sys.stderr)
        if os.environ.get("MISTRAL_CLUSTER_TEST_KEEP") != "1":
            shutil.rmtree(state, ignore_errors=True)
    print("ok: cluster test took %.1f s" % (time.monotonic() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
