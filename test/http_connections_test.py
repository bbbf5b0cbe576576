#!/usr/bin/python3
"""No dropped connections: the HTTP front answers every request it reads.

Starts mistral-server on a fresh SQLite store and drives it the way the
conformance clients do, counting every request that gets no complete answer
(RemoteDisconnected, reset, broken pipe, a status line that is not one,
timeouts). It must be zero.

1. tempest's client: every request says "Connection: close" and urllib3 puts
   the socket back in its pool unless the answer says close. Every answer to
   such a request must say "Connection: close" (RFC 9112 9.6), and a pooled
   client that reuses what is not announced closed must see no drop.
2. python-requests style keep-alive: several threads, GET/POST/PUT/DELETE,
   bodies of 0 B to 300 kB, 4xx answers, connections reused after an error
   answer and after an idle pause, HEAD and OPTIONS (a HEAD answer must carry
   no body), chunked bodies and "Expect: 100-continue".
3. HTTP/1.0 with and without keep-alive, on raw sockets.

usage: http_connections_test.py BIN_DIR [--requests N] [--threads T] [--seed S]
Stdlib only.
"""

import argparse
import http.client
import json
import os
import random
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

WF = "---\nversion: '2.0'\n%s:\n  input:\n    - pad: ''\n  tasks:\n    t1:\n      action: std.noop\n"
DROPS = (
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionError,
    socket.timeout,
    TimeoutError,
)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.answered = 0
        self.drops = []
        self.wrong = []

    def ok(self):
        with self.lock:
            self.answered += 1

    def drop(self, what, exc):
        with self.lock:
            self.drops.append("%s: %s %s" % (what, type(exc).__name__, exc))

    def bad(self, text):
        with self.lock:
            self.wrong.append(text)


class PooledClient:
    """One pooled connection handled as urllib3 1.26/2.x does: reused unless
    the answer said close, dropped when the socket already reads EOF."""

    def __init__(self, port, tally, close_header):
        self.port = port
        self.tally = tally
        self.close_header = close_header
        self.conn = None

    def _connection(self):
        if self.conn is not None and self.conn.sock is not None:
            readable, _, _ = select.select([self.conn.sock], [], [], 0)
            if readable:  # urllib3's is_connection_dropped
                self.conn.close()
                self.conn = None
        if self.conn is None or self.conn.sock is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.conn

    def request(self, method, path, body=None, headers=None, chunked=False):
        headers = dict(headers or {})
        if self.close_header:
            headers["Connection"] = "close"
        conn = self._connection()
        what = "%s %s" % (method, path)
        try:
            if chunked:
                conn.request(method, path, body=iter(body), headers=headers, encode_chunked=True)
            else:
                conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except DROPS as e:
            self.tally.drop(what, e)
            conn.close()
            self.conn = None
            return None, None
        self.tally.ok()
        said_close = (resp.getheader("Connection") or "").lower() == "close"
        if self.close_header and not said_close:
            self.tally.bad("%s asked to close; the answer said %r" % (what, resp.getheader("Connection")))
        if method == "HEAD" and data:
            self.tally.bad("HEAD %s answered with a %d-byte body" % (path, len(data)))
        if resp.will_close:
            conn.close()
            self.conn = None
        return resp.status, data

    def close(self):
        if self.conn is not None:
            self.conn.close()


def workload(client, rng, tag, count, pause_s):
    """A mix of creates, reads, updates, deletes and errors on one client."""
    for i in range(count):
        name = "conn_%s_%d" % (tag, i)
        pad = "x" * rng.choice([0, 10, 1000, 5000, 70000, 300000])
        r = rng.random()
        if r < 0.25:
            client.request("POST", "/v2/workflows", WF % name, {"Content-Type": "text/plain"})
            client.request("GET", "/v2/workflows/" + name)
            client.request("PUT", "/v2/workflows", (WF % name).replace("''", "'%s'" % pad[:5000]),
                           {"Content-Type": "text/plain"})
            client.request("DELETE", "/v2/workflows/" + name)
        elif r < 0.35:
            # 400 for a malformed definition, then the connection is reused
            client.request("POST", "/v2/workflows", "version: '2.0'\n" + pad + ": [", {"Content-Type": "text/plain"})
        elif r < 0.45:
            client.request("POST", "/v2/executions", json.dumps({"workflow_name": "missing_" + name, "input": pad}),
                           {"Content-Type": "application/json"})
        elif r < 0.55:
            env = {"name": "env_" + tag, "variables": json.dumps({"pad": pad})}
            status, _ = client.request("PUT", "/v2/environments", json.dumps(env), {"Content-Type": "application/json"})
            if status == 404:
                client.request("POST", "/v2/environments", json.dumps(env), {"Content-Type": "application/json"})
        elif r < 0.60:
            client.request("GET", "/v2/workflows/missing_" + name)
            client.request("DELETE", "/v2/executions/missing-" + name)
        elif r < 0.65:
            client.request("HEAD", "/v2/workflows")
            client.request("OPTIONS", "/v2/workflows")
        elif r < 0.72:
            parts = [(WF % name)[:20].encode(), (WF % name)[20:].encode()]
            client.request("POST", "/v2/workflows", parts, {"Content-Type": "text/plain"}, chunked=True)
            client.request("DELETE", "/v2/workflows/" + name)
        elif r < 0.78:
            client.request("POST", "/v2/workflows", WF % name,
                           {"Content-Type": "text/plain", "Expect": "100-continue"})
            client.request("DELETE", "/v2/workflows/" + name)
        elif r < 0.80:
            client.request("GET", "/no/such/route")
        else:
            client.request("GET", "/v2/workflows?limit=3&sort_keys=name")
        if pause_s and rng.random() < 0.03:
            time.sleep(rng.random() * pause_s)  # an idle keep-alive socket, reused after a pause


def raw_http10(port, tally, keep_alive):
    """HTTP/1.0 on a raw socket; with keep-alive, two requests on it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    rounds = 2 if keep_alive else 1
    try:
        for n in range(rounds):
            extra = "Connection: keep-alive\r\n" if keep_alive else ""
            s.sendall(("GET /v2/workflows?limit=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n" % extra).encode())
            resp = http.client.HTTPResponse(s, method="GET")
            resp.begin()
            resp.read()
            tally.ok()
            said = (resp.getheader("Connection") or "").lower()
            if keep_alive and said != "keep-alive":
                tally.bad("HTTP/1.0 keep-alive request answered Connection: %r" % said)
            if not keep_alive and said != "close":
                tally.bad("HTTP/1.0 request answered Connection: %r" % said)
    except DROPS as e:
        tally.drop("HTTP/1.0 GET (keep-alive=%s)" % keep_alive, e)
    finally:
        s.close()


def wait_ready(port, proc, deadline_s=60):
    end = time.time() + deadline_s
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/v2/")
            ok = c.getresponse().status == 200
            c.close()
            if ok:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--requests", type=int, default=150, help="workload rounds per client")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print("seed %d" % seed, flush=True)

    work = tempfile.mkdtemp(prefix="http-conn-")
    port = args.port or free_port()
    conf = os.path.join(work, "mistral.conf")
    with open(conf, "w") as f:
        f.write("[api]\nport = %d\n[database]\nconnection = sqlite:///%s/mistral.db\n" % (port, work))
    log = open(os.path.join(work, "server.log"), "wb")
    proc = subprocess.Popen([os.path.join(args.bin_dir, "mistral-server"), "--config-file", conf],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_ready(port, proc):
            print("FAIL: the server did not answer within 60 s")
            return 1
        tally = Tally()
        t0 = time.time()
        clients = []
        threads = []
        # tempest's ClosingHttp: close asked on every request, pooled socket
        for t in range(2):
            c = PooledClient(port, tally, close_header=True)
            clients.append(c)
            threads.append(threading.Thread(target=workload,
                                            args=(c, random.Random(seed + t), "close%d" % t, args.requests, 0)))
        # python-requests keep-alive, with idle pauses
        for t in range(args.threads):
            c = PooledClient(port, tally, close_header=False)
            clients.append(c)
            threads.append(threading.Thread(target=workload,
                                            args=(c, random.Random(seed + 100 + t), "ka%d" % t, args.requests, 1.0)))
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for c in clients:
            c.close()
        for keep in (False, True):
            raw_http10(port, tally, keep)
        elapsed = time.time() - t0
        print("%d requests answered, %d dropped, %d wrong answers in %.1f s" %
              (tally.answered, len(tally.drops), len(tally.wrong), elapsed))
        for d in tally.drops[:20]:
            print("DROPPED " + d)
        for w in sorted(set(tally.wrong))[:20]:
            print("WRONG " + w)
        if proc.poll() is not None:
            print("FAIL: the server exited with %s" % proc.returncode)
            return 1
        return 0 if not tally.drops and not tally.wrong else 1
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
