#!/usr/bin/python3
"""Cluster fault test: kill -9 an engine and an executor of a running cluster.

1. deploy/cluster.sh up --engines 2 --executors 3 starts PostgreSQL, 1 api,
   2 engines and 3 executors as separate processes on loopback ports
   (MISTRAL_CLUSTER_BASE_PORT, default 19200) and prints the API URL last.
2. Baseline: one fault-free run of every (workflow, input) pair of
   workflows.yaml (the single-node crash test's mix: sequences, fan-out and
   join, with-items, retries, timers, a sub-workflow, a safe-rerun and a
   non-safe action), read back through the API.
3. Fault run: 500 executions of those pairs are launched over a window while
   engine-1 and executor-2 are killed with kill -9 at random moments of it.
4. Every execution must end (bounded time) with the baseline's state, output
   and per-task action execution counts, and the non-safe action
   (fault_unsafe.call, a std.http to a counter run here) must have reached
   the counter at most once per execution.

usage: cluster_fault_test.py BIN_DIR SRC_DIR [--executions N] [--seed S] [--window W] [--keep DIR]
Exits 77 (skipped) when PostgreSQL's server binaries or deploy/cluster.sh are absent.
"""

import argparse
import calendar
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kill_restart_test import TERMINAL, VARIANTS, WORKFLOWS, Counter, call, launch, log  # noqa: E402


def have_postgresql():
    return bool(shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb"))


class Cluster:
    def __init__(self, src_dir, bin_dir, work):
        self.script = os.path.join(src_dir, "deploy", "cluster.sh")
        self.env = dict(os.environ)
        self.env["MISTRAL_BIN_DIR"] = bin_dir
        self.env["MISTRAL_CLUSTER_DIR"] = work
        self.env.setdefault("MISTRAL_CLUSTER_BASE_PORT", "19200")
        self.work = work
        self.url = None

    def run(self, *args, timeout=120):
        out = subprocess.run(
            [self.script] + list(args), env=self.env, capture_output=True, text=True, timeout=timeout
        )
        with open(os.path.join(self.work, "cluster-sh.log"), "a") as f:
            f.write("$ cluster.sh %s\n%s%s" % (" ".join(args), out.stdout, out.stderr))
        if out.returncode != 0:
            raise RuntimeError("cluster.sh %s failed (%d): %s" % (" ".join(args), out.returncode, out.stderr[-2000:]))
        return out.stdout

    def up(self, engines, executors):
        lines = self.run("up", "--engines", str(engines), "--executors", str(executors), timeout=180).split("\n")
        self.url = [line for line in lines if line.strip()][-1].strip().rstrip("/")
        return self.url

    def kill(self, node):
        self.run("kill", node)

    def down(self):
        try:
            self.run("down", timeout=60)
        except Exception as e:  # noqa: BLE001 - best effort at the end
            log("cluster.sh down: %s" % e)


def read_api(base):
    """Like kill_restart_test.read_store, through the API: per root execution
    its (workflow, n), state, output and action count per task; every
    execution's state; the runs of the non-safe action per execution."""
    rows = call(base, "GET", "/executions?limit=100000", timeout=120)["executions"]
    executions, states = {}, {}
    for r in rows:
        states[r["id"]] = r["state"]
        if not r.get("task_execution_id"):
            n = json.loads(r.get("input") or "{}").get("n")
            executions[r["id"]] = {
                "pair": (r["workflow_name"], n),
                "state": r["state"],
                "output": json.loads(r.get("output") or "{}"),
                "tasks": {},
            }
    tasks = call(base, "GET", "/tasks?limit=100000", timeout=120)["tasks"]
    task_of = {t["id"]: t for t in tasks}
    for t in tasks:
        if t["workflow_execution_id"] in executions:
            executions[t["workflow_execution_id"]]["tasks"].setdefault(t["name"], 0)
    actions = call(base, "GET", "/action_executions?limit=100000", timeout=120)["action_executions"]
    unsafe = {}
    for a in actions:
        t = task_of.get(a.get("task_execution_id"))
        if not t:
            continue
        wf_id = t["workflow_execution_id"]
        if wf_id in executions:
            counts = executions[wf_id]["tasks"]
            counts[t["name"]] = counts.get(t["name"], 0) + 1
        if t.get("workflow_name") == "fault_unsafe" and t["name"] == "call":
            unsafe.setdefault(wf_id, []).append((a["state"], a.get("output") or ""))
    # Sub-workflow links count as the task's executions too (as the store query does).
    for r in rows:
        t = task_of.get(r.get("task_execution_id"))
        if t and t["workflow_execution_id"] in executions:
            counts = executions[t["workflow_execution_id"]]["tasks"]
            counts[t["name"]] = counts.get(t["name"], 0) + 1
    return executions, states, unsafe


def wait_all_finished(base, timeout):
    deadline = time.time() + timeout
    left = []
    while time.time() < deadline:
        try:
            rows = call(base, "GET", "/executions?limit=100000&fields=state")["executions"]
            left = [r for r in rows if r["state"] not in TERMINAL]
            if not left:
                return len(rows)
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise AssertionError("%d executions still unfinished after %d s" % (len(left), timeout))


def check(expected, executions, states, unsafe, hits, launched):
    problems = []
    unfinished = [i for i, s in states.items() if s not in TERMINAL]
    if unfinished:
        problems.append("%d executions unfinished: %s" % (len(unfinished), unfinished[:5]))
    missing = [i for i in launched if i not in executions]
    if missing:
        problems.append("launched executions missing: %s" % missing[:5])
    for id_, e in executions.items():
        want = expected.get(e["pair"])
        if want is None:
            continue
        for field in ("state", "output", "tasks"):
            if e[field] != want[field]:
                problems.append("%s %s: %s %r, fault-free %r" % (id_, e["pair"], field, e[field], want[field]))
        if e["pair"][0] == "fault_unsafe":
            if len(unsafe.get(id_, [])) != 1:
                problems.append("%s: the non-safe action has %d executions" % (id_, len(unsafe.get(id_, []))))
            if hits.get("/" + id_, 0) > 1:
                problems.append("%s: the non-safe action ran %d times" % (id_, hits["/" + id_]))
    return problems


def fault_run(cluster, base, counter_url, total, rng, window):
    pairs = [(wf, n) for wf in WORKFLOWS for n in VARIANTS]
    start = time.time()
    launched, failed_posts = [], [0]
    done = threading.Event()

    def launcher():
        for i in range(total):
            wf, n = pairs[i % len(pairs)]
            pause = start + window * i / total - time.time()
            if pause > 0:
                time.sleep(pause)
            for _ in range(100):
                try:
                    launched.append(launch(base, wf, n, counter_url))
                    break
                except (OSError, urllib.error.URLError, json.JSONDecodeError):
                    failed_posts[0] += 1  # the engine it reached died under it: try again
                    time.sleep(0.2)
        done.set()

    t = threading.Thread(target=launcher, daemon=True)
    t.start()
    moments = sorted([("engine-1", rng.uniform(0.25, 0.45) * window), ("executor-2", rng.uniform(0.5, 0.7) * window)],
                     key=lambda x: x[1])
    killed_at = {}
    for node, at in moments:
        time.sleep(max(0.0, start + at - time.time()))
        killed_at[node] = time.time()
        cluster.kill(node)
        log("kill -9 %s after %d launched" % (node, len(launched)))
    done.wait(300)
    t.join(1)
    if not done.is_set():
        raise AssertionError("could not launch every execution")
    return launched, failed_posts[0], killed_at


def takeover_delay(work, killed_at):
    """Seconds from the kill of engine-1 to the other engine's takeover
    ("recovery: ... taken over by" in its log), or None when nothing was
    left to take over."""
    first = None
    for path in glob.glob(os.path.join(work, "engine-*.log")):
        with open(path) as f:
            for line in f:
                if "taken over by" not in line or "engine-1" in line.split("taken over by")[-1]:
                    continue
                stamp = calendar.timegm(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) + float("0" + line[19:23])
                if stamp >= killed_at and (first is None or stamp < first):
                    first = stamp
    return None if first is None else first - killed_at


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("src_dir")
    ap.add_argument("--executions", type=int, default=500)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--keep", default=None)
    args = ap.parse_args()
    if not have_postgresql():
        print("skipped: PostgreSQL's server binaries (initdb) are not installed")
        return 77
    if not os.access(os.path.join(args.src_dir, "deploy", "cluster.sh"), os.X_OK):
        print("skipped: deploy/cluster.sh is not there")
        return 77
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    log("seed %d" % seed)
    work = args.keep or tempfile.mkdtemp(prefix="mistral-cluster-fault-")
    os.makedirs(work, exist_ok=True)
    counter = Counter()
    threading.Thread(target=counter.serve_forever, daemon=True).start()
    counter_url = "http://127.0.0.1:%d" % counter.server_address[1]
    cluster = Cluster(args.src_dir, args.bin_dir, work)
    started = time.time()
    ok = False
    try:
        base = cluster.up(2, 3)
        log("cluster up at %s in %.0f s" % (base, time.time() - started))
        with open(os.path.join(HERE, "workflows.yaml")) as f:
            call(base, "POST", "/workflows", f.read(), "text/plain")
        ids = [launch(base, wf, n, counter_url) for wf in WORKFLOWS for n in VARIANTS]
        wait_all_finished(base, 120)
        executions, _, _ = read_api(base)
        expected = {executions[i]["pair"]: executions[i] for i in ids}
        for pair, e in sorted(expected.items()):
            if e["state"] != "SUCCESS":
                raise AssertionError("fault-free %s ended %s" % (pair, e["state"]))
        log("baseline: %d pairs in %.0f s" % (len(expected), time.time() - started))
        fault_started = time.time()
        launched, failed_posts, killed_at = fault_run(cluster, base, counter_url, args.executions, rng, args.window)
        log("launched %d executions (%d POSTs retried)" % (len(launched), failed_posts))
        total = wait_all_finished(base, 120)
        log("all %d executions finished %.1f s after the first launch" % (total, time.time() - fault_started))
        executions, states, unsafe = read_api(base)
        with counter.lock:
            hits = dict(counter.hits)
        problems = check(expected, executions, states, unsafe, hits, launched)
        interrupted = sum(1 for runs in unsafe.values() for st, out in runs if "not safe" in out)
        log("checked %d root executions; %d non-safe actions failed by a fault" % (len(executions), interrupted))
        delay = takeover_delay(work, killed_at["engine-1"])
        if delay is None:
            log("engine-1 left nothing unfinished to take over")
        else:
            log("engine-1's executions were taken over %.1f s after its kill" % delay)
            if delay > 5.0:
                problems.append("the takeover came %.1f s after the kill (at most 5 s)" % delay)
        if problems:
            for p in problems[:30]:
                print("FAIL:", p)
            print("FAIL: %d problems (seed %d, work folder %s)" % (len(problems), seed, work))
            return 1
        ok = True
        log("ok: every execution ended as in the fault-free run, in %.0f s" % (time.time() - started))
        return 0
    finally:
        cluster.down()
        counter.shutdown()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
