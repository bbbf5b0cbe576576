#!/usr/bin/python3
"""Crash test: kill -9 the all-in-one server three times under load.

1. Baseline: one uncrashed run of every (workflow, input) pair of
   workflows.yaml, recorded from the store: final state, output and the
   number of action executions of each task.
2. Crash run: 300 executions of those pairs are launched while the server is
   killed with SIGKILL at three random moments and restarted after each.
3. Every execution must end (none stays RUNNING) with the baseline's state,
   output and per-task action execution counts, and the action that is not
   safe-rerun (fault_unsafe.call, a std.http to a counter run here) must have
   reached the counter at most once per execution.

usage: kill_restart_test.py BIN_DIR [--backend sqlite|postgresql] [--executions N]
                            [--seed S] [--keep DIR]
Stdlib only; run with /usr/bin/python3 or any python3. On PostgreSQL the
store is a new database on MISTRAL_TEST_PG_URL's server, read back with psql;
without that variable the test exits 77 (skipped).
"""

import argparse
import csv
import io
import http.server
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
WORKFLOWS = [
    "fault_sequential",
    "fault_with_items",
    "fault_items_chunks",
    "fault_join",
    "fault_sleeps",
    "fault_parent",
    "fault_retries",
    "fault_unsafe",
]
VARIANTS = [1, 2, 3]
TERMINAL = {"SUCCESS", "ERROR", "CANCELLED"}


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Counter(http.server.ThreadingHTTPServer):
    """Counts GETs per path: the side effect of the non-safe action."""

    daemon_threads = True

    def __init__(self):
        self.hits = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                time.sleep(1.0)  # slow, so that kills find calls in flight
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request, client_address):
        pass  # a killed server hangs up on its calls


class Server:
    def __init__(self, bin_dir, work, port, store):
        self.bin = os.path.join(bin_dir, "mistral-server")
        self.work = work
        self.port = port
        self.store = store
        self.conf = os.path.join(work, "mistral.conf")
        with open(self.conf, "w") as f:
            f.write(
                "[DEFAULT]\nserver = all\n[api]\nport = %d\n[database]\nconnection = %s\n"
                "[execution_expiration_policy]\nevaluation_interval =\n"
                "[engine]\nwith_items_per_commit = 4\n" % (port, store.url)
            )
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        out = open(os.path.join(self.work, "server-%d.log" % self.starts), "w")
        self.proc = subprocess.Popen([self.bin, "--config-file", self.conf], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s; see %s" % (self.proc.returncode, out.name))
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/" % self.port, timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer within 60 s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def call(base, method, path, body=None, content_type="application/json", timeout=30):
    """One v2 request to the server at `base` (http://host:port, with or without /v2)."""
    data = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    url = base + ("" if base.endswith("/v2") else "/v2") + path
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def api(port, *args, **kwargs):
    return call("http://127.0.0.1:%d" % port, *args, **kwargs)


def launch(base, wf, n, url):
    inp = {"n": n}
    if wf == "fault_unsafe":
        inp["url"] = url
    return call(base, "POST", "/executions", {"workflow_name": wf, "input": json.dumps(inp)})["id"]


class SqliteStore:
    def __init__(self, work):
        self.path = os.path.join(work, "mistral.db")
        self.url = "sqlite:///" + self.path

    def query(self, sql):
        c = sqlite3.connect(self.path, timeout=30)
        try:
            return c.execute(sql).fetchall()
        finally:
            c.close()

    def drop(self):
        pass


class PostgresStore:
    """A new database on the server of MISTRAL_TEST_PG_URL."""

    def __init__(self, server_url):
        self.server_url = server_url
        self.name = "fault_%d_%d" % (os.getpid(), int(time.time()))
        self.psql(server_url, "CREATE DATABASE " + self.name)
        self.url = server_url.rsplit("/", 1)[0] + "/" + self.name

    @staticmethod
    def psql(url, sql):
        return subprocess.run(
            ["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, text=True
        ).stdout

    def query(self, sql):
        out = self.psql(self.url, "COPY (%s) TO STDOUT WITH CSV" % sql)
        rows = []
        for row in csv.reader(io.StringIO(out)):
            rows.append(tuple(None if v == "" else (int(v) if v.isdigit() else v) for v in row))
        return rows

    def drop(self):
        try:
            self.psql(self.server_url, "DROP DATABASE IF EXISTS " + self.name)
        except subprocess.CalledProcessError:
            pass


def read_store(store):
    """Per root execution: (workflow, n), state, output, {task: action count}; plus
    every execution's state and the action executions of fault_unsafe.call."""
    executions = {}
    states = {}
    for id_, wf, state, inp, out, task_ex in store.query(
        "SELECT id, workflow_name, state, input, output, task_execution_id FROM workflow_executions_v2"
    ):
        states[id_] = state
        if task_ex is None:
            n = json.loads(inp or "{}").get("n")
            executions[id_] = {"pair": (wf, n), "state": state, "output": json.loads(out or "{}"), "tasks": {}}
    for wf_id, name, count in store.query(
        "SELECT t.workflow_execution_id, t.name, COUNT(a.id) FROM task_executions_v2 t "
        "LEFT JOIN action_executions_v2 a ON a.task_execution_id = t.id GROUP BY t.id"
    ):
        if wf_id in executions:
            tasks = executions[wf_id]["tasks"]
            tasks[name] = tasks.get(name, 0) + count
    unsafe = {}
    for wf_id, state, output in store.query(
        "SELECT a.workflow_execution_id, a.state, a.output FROM action_executions_v2 a "
        "JOIN task_executions_v2 t ON a.task_execution_id = t.id "
        "WHERE t.workflow_name = 'fault_unsafe' AND t.name = 'call'"
    ):
        unsafe.setdefault(wf_id, []).append((state, output or ""))
    return executions, states, unsafe


def wait_all_finished(port, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = api(port, "GET", "/executions?limit=100000&fields=state")["executions"]
        left = [r for r in rows if r["state"] not in TERMINAL]
        if not left:
            return len(rows)
        time.sleep(0.5)
    raise AssertionError("%d executions still unfinished after %d s" % (len(left), timeout))


def baseline(server, url):
    ids = [launch("http://127.0.0.1:%d" % server.port, wf, n, url) for wf in WORKFLOWS for n in VARIANTS]
    wait_all_finished(server.port, 120)
    server.stop()
    executions, _, _ = read_store(server.store)
    server.start()
    expected = {}
    for id_ in ids:
        e = executions[id_]
        expected[e["pair"]] = e
    return expected


def kill_moments(rng, window):
    """Three random moments within the launch window, at least 2 s apart."""
    while True:
        moments = sorted(rng.uniform(0.3, window) for _ in range(3))
        if all(b - a >= 2.0 for a, b in zip(moments, moments[1:])):
            return moments


def crash_run(server, url, total, rng, window):
    """Launches `total` executions evenly over `window` seconds, killing the
    server at three random moments of it."""
    pairs = [(wf, n) for wf in WORKFLOWS for n in VARIANTS]
    start = time.time()
    launched = []
    failed_posts = [0]
    done = threading.Event()

    def launcher():
        for i in range(total):
            wf, n = pairs[i % len(pairs)]
            pause = start + window * i / total - time.time()
            if pause > 0:
                time.sleep(pause)
            while True:
                try:
                    launched.append(launch("http://127.0.0.1:%d" % server.port, wf, n, url))
                    break
                except (OSError, urllib.error.URLError, json.JSONDecodeError):
                    # The server is down (killed) or died mid-request: try again.
                    failed_posts[0] += 1
                    time.sleep(0.2)
        done.set()

    t = threading.Thread(target=launcher, daemon=True)
    t.start()
    kills = []
    for k, at in enumerate(kill_moments(rng, window)):
        time.sleep(max(0.0, start + at - time.time()))
        kills.append(len(launched))
        server.kill9()
        log("kill -9 #%d after %d launched" % (k + 1, len(launched)))
        server.start()
    done.wait(300)
    t.join(1)
    if not done.is_set():
        raise AssertionError("could not launch every execution")
    return launched, kills, failed_posts[0]


def check(expected, executions, states, unsafe, hits, launched):
    problems = []
    unfinished = [i for i, s in states.items() if s not in TERMINAL]
    if unfinished:
        problems.append("%d executions unfinished: %s" % (len(unfinished), unfinished[:5]))
    missing = [i for i in launched if i not in executions]
    if missing:
        problems.append("launched executions missing from the store: %s" % missing[:5])
    for id_, e in executions.items():
        want = expected.get(e["pair"])
        if want is None:
            continue  # a baseline execution
        for field in ("state", "output", "tasks"):
            if e[field] != want[field]:
                problems.append("%s %s: %s %r, uncrashed %r" % (id_, e["pair"], field, e[field], want[field]))
    for id_, e in executions.items():
        if e["pair"][0] != "fault_unsafe":
            continue
        runs = unsafe.get(id_, [])
        if len(runs) != 1:
            problems.append("%s: the non-safe action has %d executions" % (id_, len(runs)))
        if hits.get("/" + id_, 0) > 1:
            problems.append("%s: the non-safe action ran %d times" % (id_, hits["/" + id_]))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--executions", type=int, default=300)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--window", type=float, default=20.0, help="seconds over which executions are launched")
    ap.add_argument("--keep", default=None, help="keep the work folder here")
    args = ap.parse_args()
    if args.backend == "postgresql" and not os.environ.get("MISTRAL_TEST_PG_URL"):
        print("skipped: MISTRAL_TEST_PG_URL is not set")
        return 77
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    log("seed %d" % seed)
    work = args.keep or tempfile.mkdtemp(prefix="mistral-fault-")
    os.makedirs(work, exist_ok=True)
    counter = Counter()
    threading.Thread(target=counter.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % counter.server_address[1]
    store = PostgresStore(os.environ["MISTRAL_TEST_PG_URL"]) if args.backend == "postgresql" else SqliteStore(work)
    server = Server(args.bin_dir, work, free_port(), store)
    started = time.time()
    ok = False
    try:
        server.start()
        with open(os.path.join(HERE, "workflows.yaml")) as f:
            api(server.port, "POST", "/workflows", f.read(), "text/plain")
        expected = baseline(server, url)
        log("baseline: %d pairs in %.0f s" % (len(expected), time.time() - started))
        for pair, e in sorted(expected.items()):
            if e["state"] != "SUCCESS":
                raise AssertionError("uncrashed %s ended %s" % (pair, e["state"]))
        crash_started = time.time()
        launched, kills, failed_posts = crash_run(server, url, args.executions, rng, args.window)
        log("launched %d executions (%d POSTs failed on a dead server)" % (len(launched), failed_posts))
        total = wait_all_finished(server.port, 150)
        log("all %d executions finished %.0f s after the first launch" % (total, time.time() - crash_started))
        server.stop()
        executions, states, unsafe = read_store(server.store)
        with counter.lock:
            hits = dict(counter.hits)
        problems = check(expected, executions, states, unsafe, hits, launched)
        interrupted = sum(1 for runs in unsafe.values() for st, output in runs if "server restart" in output)
        reruns = sum(1 for v in hits.values() if v > 1)
        log(
            "checked %d root executions (%d sub-workflows); kills after %s launched; "
            "%d non-safe actions failed by a restart; %d ran twice"
            % (len(executions), len(states) - len(executions), kills, interrupted, reruns)
        )
        for n in range(3, server.starts + 1):  # start 2 is the clean restart after the baseline
            with open(os.path.join(work, "server-%d.log" % n)) as f:
                recovered = [line.strip().split("engine: ")[-1] for line in f if "recovery:" in line]
            log("restart after kill %d: %s" % (n - 2, recovered[0] if recovered else "nothing to recover"))
        if problems:
            for p in problems[:30]:
                print("FAIL:", p)
            print("FAIL: %d problems (seed %d, work folder %s)" % (len(problems), seed, work))
            return 1
        ok = True
        log("ok: every execution ended as in the uncrashed run, in %.0f s" % (time.time() - started))
        return 0
    finally:
        server.stop()
        counter.shutdown()
        if ok:
            store.drop()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
