"""Helpers for the durability tests (SPEC §6) and the delivery benchmark:
a webhook receiver that can refuse connections, answer errors and hold a
request open; a strict reader of the file sink; read-only access to the
daemon's SQLite state; `jobwatchctl --json stats`; per-stream delivery
checks that tolerate (and count) duplicates.

Stdlib only. Builds on harness.py (processes, varlink) and events.py.
"""

from __future__ import annotations

import collections
import contextlib
import http.server
import json
import os
import re
import socket
import sqlite3
import threading
import time

import harness as h
from events import event_key, webhook_problem

LOOPBACK = h.LOOPBACK
# How long a held request may stay held before the receiver lets go by
# itself (a bound, so no handler thread outlives the test by much).
MAX_HOLD_S = 60.0


# --------------------------------------------------------------------------
# Webhook receiver with outage modes

class PhasedReceiver:
    """A Standard Webhooks receiver on 127.0.0.1:<ephemeral> that the test
    steers: `refusing` (the port is bound but not listening, so connections
    are refused, yet the port stays ours), then `set_status(code)` for error
    answers (with an optional Retry-After), `set_status(None)` for 204.

    `arm_hold()` makes the next POST block until `release_holds()`; the
    held request is then answered 503, never counted as accepted (its
    sender is expected to be dead by then). `accepted` holds every delivery
    answered 2xx, in arrival order; every POST, whatever the answer, has its
    headers and signature checked (`bad`)."""

    def __init__(self, secret: str | None, verify: bool = True, keep_bodies: bool = True):
        self.secret = secret
        self.verify = verify
        self.keep_bodies = keep_bodies
        self.accepted: list[dict] = []
        self.refused: list[dict] = []
        self.held: list[dict] = []
        self.bad: list[str] = []
        self.posts = 0
        self._lock = threading.Lock()
        self._status: int | None = None
        self._retry_after: str | None = None
        self._hold_armed = False
        self._release = threading.Event()
        self.hold_started = threading.Event()
        self.listening = False
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def do_POST(self):
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length)
                    status, extra = receiver._handle(self.path, self.headers, body)
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    self.close_connection = True

        self.server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler,
                                                      bind_and_activate=False)
        self.server.daemon_threads = True
        self.server.allow_reuse_address = True
        self.server.request_queue_size = 128
        # Bound but not listening: a SYN to the port is answered with RST
        # (ECONNREFUSED), and no other process can take the port meanwhile.
        self.server.server_bind()
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="receiver",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/hook"

    def listen(self) -> "PhasedReceiver":
        if not self.listening:
            self.server.server_activate()
            self.listening = True
            self._thread.start()
        return self

    def set_status(self, status: int | None, retry_after: int | None = None) -> None:
        with self._lock:
            self._status = status
            self._retry_after = None if retry_after is None else str(retry_after)

    def arm_hold(self) -> None:
        with self._lock:
            self._release.clear()
            self.hold_started.clear()
            self._hold_armed = True

    def disarm_hold(self) -> None:
        with self._lock:
            self._hold_armed = False

    def release_holds(self) -> None:
        self._release.set()

    def stop(self) -> None:
        self.release_holds()
        if self.listening:
            self.server.shutdown()
        self.server.server_close()

    def _handle(self, path: str, headers, body: bytes):
        lower = {k.lower(): v for k, v in headers.items()}
        msg_id = lower.get("webhook-id", "")
        received = time.monotonic()
        problem = webhook_problem(self.secret, path, lower, body, time.time()) if self.verify else None
        with self._lock:
            self.posts += 1
            if problem:
                self.bad.append(f"{msg_id or '<no id>'}: {problem}")
                return 401, {}
            hold = self._hold_armed
            if hold:
                self._hold_armed = False
                entry = {"id": msg_id, "held_at": received, "released_at": None}
                self.held.append(entry)
                self.hold_started.set()
        if hold:
            self._release.wait(MAX_HOLD_S)
            with self._lock:
                entry["released_at"] = time.monotonic()
            return 503, {}
        with self._lock:
            status = self._status
            if status is not None:
                self.refused.append({"id": msg_id, "status": status})
                extra = {"Retry-After": self._retry_after} if self._retry_after else {}
                return status, extra
            record = {"id": msg_id, "received": received}
            if self.keep_bodies:
                try:
                    record["event"] = json.loads(body)
                except ValueError:
                    record["event"] = None
            self.accepted.append(record)
        return 204, {}

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.accepted)

    def accepted_count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def events(self) -> list[dict]:
        return [r["event"] for r in self.snapshot() if r.get("event")]


# --------------------------------------------------------------------------
# The file sink, strictly

def read_jsonl_strict(path: str) -> tuple[list[dict], list[str]]:
    """Every line of the file sink as JSON, and a problem for each line
    that is not a complete JSON object ending in a newline (a torn line)."""
    if not os.path.exists(path):
        return [], []
    with open(path, "rb") as f:
        data = f.read()
    events, problems = [], []
    lines = data.split(b"\n")
    last = lines.pop()  # b"" when the file ends with a newline
    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
            if not isinstance(event, dict):
                raise ValueError("not an object")
            events.append(event)
        except ValueError as e:
            problems.append(f"{path}:{number}: not a JSON event ({e}): {line[:160]!r}")
    if last:
        problems.append(f"{path}:{len(lines) + 1}: last line has no newline (torn write?): "
                        f"{last[:160]!r}")
    return events, problems


# --------------------------------------------------------------------------
# Delivery checks

def expected_keys(expectations) -> set:
    return {key for exp in expectations.values() for key in exp.keys()}


class StreamReport:
    """What one sink got: ids per transition, duplicates, and problems
    against the expected transitions (exactly the expected set, one id per
    transition, one transition per id)."""

    def __init__(self, name: str, events: list[dict], expected: set):
        self.name = name
        self.total = len(events)
        self.ids_by_key: dict = collections.defaultdict(set)
        self.keys_by_id: dict = collections.defaultdict(set)
        self.copies = collections.Counter()
        for event in events:
            key = event_key(event)
            eid = event.get("id")
            self.ids_by_key[key].add(eid)
            self.keys_by_id[eid].add(key)
            self.copies[eid] += 1
        self.ids = set(self.keys_by_id)
        self.duplicates = sum(n - 1 for n in self.copies.values())
        self.duplicated_ids = sum(1 for n in self.copies.values() if n > 1)
        self.problems: list[str] = []
        keys = set(self.ids_by_key)
        missing = expected - keys
        extra = keys - expected
        if missing:
            self.problems.append(f"{name}: {len(missing)} of {len(expected)} expected events "
                                 f"missing, e.g. {sorted(missing)[:4]}")
        if extra:
            self.problems.append(f"{name}: {len(extra)} unexpected events, e.g. {sorted(extra)[:4]}")
        several = {k: v for k, v in self.ids_by_key.items() if len(v) > 1}
        if several:
            self.problems.append(f"{name}: {len(several)} transitions carry several ids, "
                                 f"e.g. {list(several.items())[:2]}")
        shared = {i: v for i, v in self.keys_by_id.items() if len(v) > 1}
        if shared:
            self.problems.append(f"{name}: {len(shared)} ids name several transitions, "
                                 f"e.g. {list(shared.items())[:2]}")

    def summary(self) -> str:
        return (f"{self.name}: {self.total} deliveries, {len(self.ids)} distinct ids, "
                f"{self.duplicates} duplicate copies of {self.duplicated_ids} ids")


# --------------------------------------------------------------------------
# The daemon's state and counters

@contextlib.contextmanager
def state_db(state_dir: str):
    """jobwatch.db opened read-only (the daemon should be stopped)."""
    path = os.path.join(state_dir, "jobwatch.db")
    if not os.path.exists(path):
        raise h.HarnessError(f"no state database at {path}")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        yield db
    finally:
        db.close()


def db_summary(state_dir: str) -> dict:
    """Row counts that the durability tests assert on."""
    with state_db(state_dir) as db:
        outbox = db.execute("SELECT sink, count(*) FROM outbox GROUP BY sink").fetchall()
        outbox_sample = db.execute(
            "SELECT event_id, sink, event_type, attempts, last_error FROM outbox "
            "ORDER BY seq LIMIT 5").fetchall()
        dead = db.execute("SELECT event_id, sink, event_type, reason, attempts "
                          "FROM dead_letters ORDER BY seq").fetchall()
        watches = dict(db.execute("SELECT status, count(*) FROM watches GROUP BY status").fetchall())
        unfinished = db.execute("SELECT job_id, status FROM watches WHERE finished_at IS NULL "
                                "LIMIT 5").fetchall()
        unfinished_count = db.execute(
            "SELECT count(*) FROM watches WHERE finished_at IS NULL").fetchone()[0]
        watch_ids = {row[0] for row in db.execute("SELECT job_id FROM watches")}
    return {"outbox": dict(outbox), "outbox_rows": sum(n for _, n in outbox),
            "outbox_sample": outbox_sample, "dead_letters": dead, "watches_by_status": watches,
            "unfinished": unfinished_count, "unfinished_sample": unfinished,
            "watch_ids": watch_ids}


def ctl_stats(socket_path: str) -> dict:
    """`jobwatchctl --json stats` as a dict."""
    return h.ctl_json(["stats"], socket_path)


# Plain lines name the level ("warning"); under systemd it is a <4> prefix.
DEAD_LETTER_LINE = re.compile(r"(?:\bwarn\w*\b|^<4>).*\bdead letter (evt_[0-9A-Za-z]+)")


def dead_letter_log_ids(log_text: str) -> collections.Counter:
    """Event ids named by warn-level dead-letter lines of the daemon log."""
    return collections.Counter(m.group(1) for m in map(DEAD_LETTER_LINE.search,
                                                       log_text.splitlines()) if m)


def watch_in_batches(daemon: h.Daemon, job_ids: list[str], batch: int = 500,
                     labels: dict | None = None, timeout: float = 120.0) -> list[dict]:
    """Watch over varlink, `batch` jobs per call; every job must be listed."""
    infos: list[dict] = []
    with daemon.client(timeout=timeout) as client:
        for i in range(0, len(job_ids), batch):
            chunk = job_ids[i:i + batch]
            params = {"jobs": h.job_refs(chunk)}
            if labels:
                params["labels"] = labels
            reply = client.call("io.jobwatch.Watch", params)
            got = reply.get("watches") or []
            if len(got) != len(chunk):
                raise h.HarnessError(f"Watch answered {len(got)} watches for {len(chunk)} jobs")
            infos += got
    return infos


def start_timed(daemon: h.Daemon, timeout: float = 120.0) -> dict:
    """Starts the daemon and measures, from the spawn: the control socket
    accepting, and List answering (with its watch count); also the List
    call on its own (to its last byte, and parsed) and the daemon's RSS
    (KiB) just before it."""
    started = time.monotonic()
    daemon.start(timeout=timeout)
    accepting = time.monotonic() - started
    rss_before = daemon.rss_kib()
    with daemon.client(timeout=timeout) as client:
        asked = time.monotonic()
        client.send({"method": "io.jobwatch.List"})
        raw = client.recv_raw()
        received = time.monotonic()
        if raw is None:
            raise h.HarnessError("List: connection closed without a reply")
        watches = (json.loads(raw).get("parameters") or {}).get("watches") or []
    listed = time.monotonic() - started
    return {"accept_s": accepting, "list_s": listed, "list_bytes_s": received - asked,
            "list_call_s": time.monotonic() - asked, "list_bytes": len(raw),
            "rss_before_list_kib": rss_before, "watches": watches}


def ready_log_ms(log_text: str) -> list[int]:
    """The daemon's own `ready in N ms` figures, in order."""
    return [int(m) for m in re.findall(r"ready in (\d+) ms", log_text)]


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}"


def report(problems: list[str], limit: int = 60) -> str:
    more = f"\n… and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} problem(s):\n  " + "\n  ".join(problems[:limit]) + more
