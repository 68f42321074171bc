"""Events for jobwatch's integration tests: a Standard Webhooks receiver,
the file sink reader, and what a scenario's events must look like (SPEC §5).

Stdlib only; no processes here (see harness.py).
"""

from __future__ import annotations

import base64
import collections
import datetime
import hashlib
import hmac
import http.server
import json
import os
import threading
import time

LOOPBACK = "127.0.0.1"
NON_TERMINAL_STATES = ("initializing", "handling")


# --------------------------------------------------------------------------
# Webhook receiver

def webhook_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def webhook_problem(secret: str | None, path: str, lower: dict, body: bytes,
                    now: float) -> str | None:
    """Why a POST is not a Standard Webhooks delivery of a jobwatch event to
    /hook (`lower`: its headers with lower-case names), or None."""
    if path != "/hook":
        return f"unexpected path {path}"
    msg_id = lower.get("webhook-id", "")
    if not msg_id:
        return "no webhook-id header"
    timestamp = lower.get("webhook-timestamp", "")
    if not timestamp.isdigit():
        return f"webhook-timestamp {timestamp!r} is not unix seconds"
    if abs(int(timestamp) - now) > 300:
        return f"webhook-timestamp {timestamp} is {int(timestamp) - now:.0f}s off"
    content_type = lower.get("content-type", "")
    if not content_type.startswith("application/json"):
        return f"Content-Type {content_type!r}"
    try:
        doc_id = json.loads(body).get("id")
    except (ValueError, AttributeError):
        return "body is not a JSON object"
    if doc_id != msg_id:
        return f"webhook-id {msg_id} differs from the body's id {doc_id}"
    if secret:
        expected = webhook_signature(secret, msg_id, timestamp, body)
        offered = lower.get("webhook-signature", "").split()
        if not any(hmac.compare_digest(sig, expected) for sig in offered):
            return "webhook-signature does not verify"
    return None


class WebhookReceiver:
    """A Standard Webhooks receiver on 127.0.0.1:<ephemeral>.

    Records every accepted delivery in arrival order; deliveries with a bad
    signature are answered 401 and recorded in `bad`. `fail_with()` makes it
    answer an error status for a while (refused deliveries go to `refused`)."""

    def __init__(self, secret: str | None):
        self.secret = secret
        self.records: list[dict] = []
        self.bad: list[str] = []
        self.refused: list[dict] = []
        self._lock = threading.Lock()
        self._fail_status = None
        self._fail_until = 0.0
        self._fail_count = 0
        self._retry_after = None
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, extra = receiver._handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhook",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/hook"

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_with(self, status: int, seconds: float | None = None, count: int | None = None,
                  retry_after: int | None = None) -> None:
        with self._lock:
            self._fail_status = status
            self._fail_until = time.monotonic() + seconds if seconds is not None else float("inf")
            self._fail_count = count if count is not None else 1 << 60
            self._retry_after = retry_after

    def succeed(self) -> None:
        with self._lock:
            self._fail_status = None

    def _handle(self, path: str, headers: dict, body: bytes):
        lower = {k.lower(): v for k, v in headers.items()}
        msg_id = lower.get("webhook-id", "")
        timestamp = lower.get("webhook-timestamp", "")
        now = time.time()
        with self._lock:
            if self._fail_status is not None:
                if time.monotonic() < self._fail_until and self._fail_count > 0:
                    self._fail_count -= 1
                    self.refused.append({"id": msg_id, "status": self._fail_status})
                    extra = {}
                    if self._retry_after is not None:
                        extra["Retry-After"] = str(self._retry_after)
                    return self._fail_status, extra
                self._fail_status = None
            problem = webhook_problem(self.secret, path, lower, body, now)
            if problem:
                self.bad.append(f"{msg_id or '<no id>'}: {problem}")
                return 401, {}
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            self.records.append({"id": msg_id, "timestamp": timestamp, "body": body,
                                 "event": event, "headers": lower, "received": now})
        return 204, {}

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.records)


# --------------------------------------------------------------------------
# Events: reading the file sink and computing what must be there

def read_jsonl(path: str) -> list[dict]:
    """Every event in the file sink, in file order. A line that is not JSON
    (e.g. a torn write) is a test failure."""
    if not os.path.exists(path):
        return []
    events = []
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        # Last line without newline: a write in progress, or a torn line.
        lines.pop()
    for number, line in enumerate(lines, 1):
        try:
            events.append(json.loads(line))
        except ValueError as e:
            raise AssertionError(f"{path}:{number}: not JSON ({e}): {line[:200]!r}") from None
    return events


ExpectedKey = tuple  # (job_id, subjob_id or "", type)


# The error fields a final answer may carry: app-v1 execute_*, app-v2
# subjobs error_code/error_message, desktop-v2 job_error_code/fail_reason
# (jobs) and error_code/fail_reason/message (subjobs).
UPSTREAM_ERROR_FIELDS = ("execute_code", "execute_message", "error_code", "error_message",
                         "job_error_code", "fail_reason", "message")

# SPEC §5: which upstream fields an event's execute_code/execute_message carry.
EXECUTE_FIELDS = {
    ("app-v1", False): ("execute_code", "execute_message"),
    ("app-v1", True): ("execute_code", "execute_message"),
    ("app-v2", False): (None, None),
    ("app-v2", True): ("error_code", "error_message"),
    ("desktop-v2", False): ("job_error_code", "fail_reason"),
    ("desktop-v2", True): ("error_code", "fail_reason"),
}


class Expectation:
    """What one watched job must produce."""

    def __init__(self, job_id: str, project_id: str, outcome: str, subjobs=(),
                 labels: dict | None = None):
        self.job_id = job_id
        self.project_id = project_id
        self.outcome = outcome  # success | failure | ghost
        self.subjobs = list(subjobs)  # [(subjob_id, "success"|"failure")]
        self.labels = dict(labels or {})
        self.watched_at: float | None = None  # time.time() of the Watch reply
        self.not_found_s = 0.0  # the simulator answers 404 this long after creating it
        # What the simulator said the API will send (annotate()); an app-v1
        # job with nothing known upstream until then.
        self.api = "app-v1"
        self.job_type = None
        self.upstream_status = None  # the job's last status as sent: 1, "FAILED"…
        self.upstream_errors: dict = {}  # the job's final error fields as sent
        self.subjob_upstream: dict = {}  # {subjob_id: {upstream_status, job_type, errors…}}

    def annotate(self, described: dict) -> "Expectation":
        """Takes the upstream details from the simulator's describe_expected."""
        self.api = described.get("api", "app-v1")
        self.job_type = described.get("job_type")
        self.upstream_status = described.get("upstream_status")
        self.upstream_errors = {k: described[k] for k in UPSTREAM_ERROR_FIELDS if k in described}
        self.subjob_upstream = {
            s["job_id"]: {k: v for k, v in s.items() if k != "job_id"}
            for s in described.get("subjobs") or [] if isinstance(s, dict) and "job_id" in s}
        return self

    @property
    def final_status(self) -> str:
        return {"success": "succeeded", "failure": "failed", "ghost": "abandoned"}[self.outcome]

    def keys(self) -> list[ExpectedKey]:
        if self.outcome == "ghost":
            return [(self.job_id, "", "watch.abandoned")]
        keys = [(self.job_id, sub_id, "subjob." + _word(outcome))
                for sub_id, outcome in self.subjobs]
        keys.append((self.job_id, "", "job." + _word(self.outcome)))
        return keys


def _word(outcome: str) -> str:
    return {"success": "succeeded", "failure": "failed"}[outcome]


def expectations_from_random(reply: dict, project_id: str) -> dict[str, Expectation]:
    """From POST /admin/random's `expected` map."""
    out = {}
    for job_id, exp in reply["expected"].items():
        subjobs = [(s["job_id"], s["outcome"]) for s in exp.get("subjobs") or []]
        out[job_id] = Expectation(job_id, project_id, exp["outcome"], subjobs).annotate(exp)
        out[job_id].not_found_s = float(exp.get("not_found_s") or 0)
    return out


def expectation_from_created(created: dict, project_id: str, spec: dict) -> Expectation:
    """From one entry of POST /admin/jobs' `jobs` list plus the spec sent."""
    return _expectation_from_created(created, project_id, spec).annotate(created)


def _expectation_from_created(created: dict, project_id: str, spec: dict) -> Expectation:
    if isinstance(created.get("subjobs"), list) and created.get("outcome"):
        subjobs = [(s["job_id"], s["outcome"]) for s in created["subjobs"]]
        return Expectation(created["job_id"], project_id, created["outcome"], subjobs)
    outcome = "ghost" if spec.get("ghost") else created.get("outcome") or spec.get("outcome", "success")
    subjob_specs = spec.get("subjobs")
    sub_outcomes = []
    for index, sub_id in enumerate(created.get("subjob_ids") or []):
        sub_outcome = "success"
        if isinstance(subjob_specs, list) and index < len(subjob_specs):
            sub_outcome = subjob_specs[index].get("outcome", "success")
        sub_outcomes.append((sub_id, sub_outcome))
    return Expectation(created["job_id"], project_id, outcome, sub_outcomes)


def event_key(event: dict) -> ExpectedKey:
    data = event.get("data") or {}
    return (data.get("job_id"), data.get("subjob_id") or "", event.get("type"))


def parse_rfc3339(text) -> datetime.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def check_event_document(event: dict, exp: Expectation) -> list[str]:
    """SPEC §5 shape and content of one event against its job's expectation."""
    problems = []
    eid = event.get("id")
    etype = event.get("type")
    data = event.get("data")
    where = f"event {eid} ({etype} {exp.job_id})"
    if not isinstance(eid, str) or not eid.startswith("evt_") or len(eid) < 8:
        problems.append(f"{where}: bad id {eid!r}")
    if parse_rfc3339(event.get("timestamp")) is None:
        problems.append(f"{where}: timestamp {event.get('timestamp')!r} is not RFC 3339")
    if not isinstance(data, dict):
        return problems + [f"{where}: data is not an object"]
    if data.get("project_id") != exp.project_id:
        problems.append(f"{where}: data.project_id {data.get('project_id')!r} != {exp.project_id!r}")
    if data.get("job_id") != exp.job_id:
        problems.append(f"{where}: data.job_id {data.get('job_id')!r}")
    if data.get("labels") != exp.labels:
        problems.append(f"{where}: data.labels {data.get('labels')!r} != {exp.labels!r}")
    if parse_rfc3339(data.get("observed_at")) is None:
        problems.append(f"{where}: data.observed_at {data.get('observed_at')!r}")
    is_sub = isinstance(etype, str) and etype.startswith("subjob.")
    if is_sub != bool(data.get("subjob_id")):
        problems.append(f"{where}: data.subjob_id {data.get('subjob_id')!r} for type {etype}")
    if data.get("api") != exp.api:
        problems.append(f"{where}: data.api {data.get('api')!r} != {exp.api!r}")

    if etype == "watch.abandoned":
        if data.get("reason") != "not_found":
            problems.append(f"{where}: data.reason {data.get('reason')!r}, expected not_found")
        if data.get("status") not in (None, "abandoned"):
            problems.append(f"{where}: data.status {data.get('status')!r}")
        return problems

    word = etype.split(".", 1)[1] if isinstance(etype, str) and "." in etype else None
    code = {"succeeded": 1, "failed": 0}.get(word)
    if data.get("status") != word:
        problems.append(f"{where}: data.status {data.get('status')!r}")
    if data.get("status_code") != code:
        problems.append(f"{where}: data.status_code {data.get('status_code')!r}, expected {code}")
    if "previous_status" not in data:
        problems.append(f"{where}: no data.previous_status (null is allowed, absence is not)")
    elif data["previous_status"] not in (None,) + NON_TERMINAL_STATES:
        problems.append(f"{where}: data.previous_status {data['previous_status']!r}")
    problems += _check_upstream_fields(where, data, exp, is_sub)
    detail = data.get("detail")
    v1 = exp.api == "app-v1"
    if not isinstance(detail, dict):
        problems.append(f"{where}: data.detail is not an object")
    else:
        detail_id = data.get("subjob_id") if is_sub else exp.job_id
        id_key, status_key = ("job_id", "job_status") if v1 else ("id", "status")
        if detail.get(id_key) != detail_id:
            problems.append(f"{where}: detail.{id_key} {detail.get(id_key)!r} != {detail_id!r}")
        if detail.get(status_key) != data.get("upstream_status"):
            problems.append(f"{where}: detail.{status_key} {detail.get(status_key)!r} != "
                            f"upstream_status {data.get('upstream_status')!r}")
        if v1 and detail.get("job_status") != code:
            problems.append(f"{where}: detail.job_status {detail.get('job_status')!r} != {code}")
    # A transition that ended well after the job became visible (the watch
    # started after the job was created) must have been seen in a
    # non-terminal state first: the first poll is due at once, and 404s are
    # retried within poll.max_interval.
    end_text = data.get("end_time")
    if end_text is None and isinstance(detail, dict):
        end_text = detail.get("end_time")
    end = parse_rfc3339(end_text)
    if (exp.watched_at is not None and end is not None and end.tzinfo is not None
            and end.timestamp() > exp.watched_at + exp.not_found_s + 8
            and data.get("previous_status") is None):
        problems.append(f"{where}: previous_status is null although it ended "
                        f"{end.timestamp() - exp.watched_at:.0f}s after the watch began "
                        f"(visible after {exp.not_found_s:.1f}s)")
    return problems


def _check_upstream_fields(where: str, data: dict, exp: Expectation, is_sub: bool) -> list[str]:
    """data.job_type, upstream_status and execute_* against what the
    simulator said the API sends (only where it said anything)."""
    problems = []
    known = exp.subjob_upstream.get(data.get("subjob_id")) if is_sub else (
        {"job_type": exp.job_type, "upstream_status": exp.upstream_status, **exp.upstream_errors}
        if exp.upstream_status is not None else None)
    if not known:
        return problems
    if known.get("job_type") is not None and data.get("job_type") != known["job_type"]:
        problems.append(f"{where}: data.job_type {data.get('job_type')!r} != {known['job_type']!r}")
    if data.get("upstream_status") != known.get("upstream_status"):
        problems.append(f"{where}: data.upstream_status {data.get('upstream_status')!r} != "
                        f"{known.get('upstream_status')!r}")
    for out_key, in_key in zip(("execute_code", "execute_message"),
                               EXECUTE_FIELDS[(exp.api, is_sub)]):
        expected = known.get(in_key) if in_key else None
        if expected is not None and data.get(out_key) != expected:
            problems.append(f"{where}: data.{out_key} {data.get(out_key)!r} != {expected!r}")
    return problems


def check_event_stream(name: str, events: list[dict], expectations: dict[str, Expectation],
                       check_order: bool = True, allow_duplicates: bool = False) -> list[str]:
    """Every expected event exactly once (at least once with
    allow_duplicates, e.g. after a crash), nothing extra, each valid, and per
    job the subjob events (first copies) before the job's own event."""
    problems = []
    expected_keys = {key: exp for exp in expectations.values() for key in exp.keys()}
    seen = collections.Counter()
    ids_by_key: dict[ExpectedKey, set] = collections.defaultdict(set)
    position: dict[ExpectedKey, int] = {}
    for index, event in enumerate(events):
        key = event_key(event)
        seen[key] += 1
        ids_by_key[key].add(event.get("id"))
        position.setdefault(key, index)
        exp = expected_keys.get(key)
        if exp is None:
            problems.append(f"{name}: unexpected event {event.get('id')} {key}")
            continue
        problems += [f"{name}: {p}" for p in check_event_document(event, exp)]
    dups = {key: n for key, n in seen.items() if n > 1}
    if dups and not allow_duplicates:
        sample = list(dups.items())[:5]
        problems.append(f"{name}: {len(dups)} events delivered more than once "
                        f"({sum(dups.values()) - len(dups)} duplicates), e.g. {sample}")
    missing = [key for key in expected_keys if key not in seen]
    if missing:
        problems.append(f"{name}: {len(missing)} of {len(expected_keys)} expected events missing, "
                        f"e.g. {missing[:5]}")
    for key, ids in ids_by_key.items():
        if len(ids) > 1:
            problems.append(f"{name}: one transition {key} has several ids {sorted(map(str, ids))}")
    ids = collections.Counter(e.get("id") for e in events)
    clashes = [i for i, n in ids.items() if n > 1 and len({event_key(e) for e in events
                                                           if e.get("id") == i}) > 1]
    if clashes:
        problems.append(f"{name}: ids shared by different transitions: {clashes[:5]}")
    if check_order:
        for exp in expectations.values():
            if exp.outcome == "ghost":
                continue
            final = (exp.job_id, "", "job." + _word(exp.outcome))
            if final not in position:
                continue
            late = [k[1] for k in exp.keys()[:-1] if k in position and position[k] > position[final]]
            if late:
                problems.append(f"{name}: job {exp.job_id}: subjob events {late} after the job event")
    return problems


def wait_for_events(get_events, expectations: dict[str, Expectation], timeout: float,
                    what: str) -> list[dict]:
    """Waits (bounded) until every expected key is present; returns the
    events seen then (missing ones are reported by check_event_stream)."""
    expected = {key for exp in expectations.values() for key in exp.keys()}
    deadline = time.monotonic() + timeout
    while True:
        events = get_events()
        if expected <= {event_key(e) for e in events} or time.monotonic() >= deadline:
            return events
        time.sleep(0.25)
