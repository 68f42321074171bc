"""Harness for jobwatch's integration tests and benchmark: starts the real
binaries (simulator, daemon, control client) on loopback and Unix sockets
and talks to them (varlink, the simulator's admin API, jobwatchctl). The
webhook receiver and the event checks live in events.py (re-exported here).

Stdlib only. Every wait is bounded; every process started here is stopped
at the end (try/finally in the callers, atexit and PR_SET_PDEATHSIG here).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing
import urllib.error
import urllib.request

from events import (  # noqa: F401 - re-exported for the tests
    NON_TERMINAL_STATES, Expectation, WebhookReceiver, check_event_document, check_event_stream,
    event_key, expectation_from_created, expectations_from_random,
    read_jsonl, wait_for_events, webhook_signature)

LOOPBACK = "127.0.0.1"
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

TERMINAL_STATES = ("succeeded", "failed", "abandoned")


class HarnessError(AssertionError):
    """A test precondition failed (a process did not start, a wait ran out)."""


# --------------------------------------------------------------------------
# Binaries and processes

def binary(env_var: str, target: str) -> str:
    """The binary ctest passes in env_var, else one found in a build dir."""
    path = os.environ.get(env_var)
    if path:
        return path
    for build in ("build-itest", "build", "build-asan"):
        candidate = os.path.join(REPO_ROOT, build, target)
        if os.access(candidate, os.X_OK):
            return candidate
    raise HarnessError(f"{target}: set {env_var} or build it in {REPO_ROOT}/build-itest")


def jobwatchd() -> str:
    return binary("JOBWATCHD", "jobwatchd")


def jobwatchctl() -> str:
    return binary("JOBWATCHCTL", "jobwatchctl")


def jobwatch_sim() -> str:
    return binary("JOBWATCH_SIM", "jobwatch-sim")


_processes: list[subprocess.Popen] = []
_processes_lock = threading.Lock()


def _die_with_parent() -> None:
    # If the test runner is killed (ctest timeout sends SIGKILL), the kernel
    # kills the children too: no orphans even when atexit never runs.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort only
        pass


def spawn(argv: list[str], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
          env: dict | None = None) -> subprocess.Popen:
    """Starts a long-running child that is killed when this process exits.

    Call from the main thread only: PR_SET_PDEATHSIG fires when the thread
    that forked the child exits."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                            env=env, preexec_fn=_die_with_parent, close_fds=True)
    with _processes_lock:
        _processes.append(proc)
    return proc


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM,
                 timeout: float = 15.0) -> int | None:
    """Sends sig, waits up to timeout, then SIGKILLs. Returns the exit code
    of the graceful stop, or None when it had to be killed."""
    if proc.poll() is not None:
        return proc.returncode
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        return None


def _kill_all() -> None:
    with _processes_lock:
        procs = list(_processes)
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


atexit.register(_kill_all)


def _exit_on_sigterm(signum, _frame):
    raise SystemExit(128 + signum)


if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Polls predicate until it returns a truthy value; raises after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def run_tests(tests) -> int:
    """Runs plain test functions in order, reporting each; the exit status
    for the test script (1 when any failed). Every test runs even after a
    failure, so one report shows them all."""
    failed = 0
    for test in tests:
        try:
            test()
            print(f"ok   {test.__name__}")
        except Exception as e:  # noqa: BLE001 - report every test
            failed += 1
            print(f"FAIL {test.__name__}: {e}")
    return 1 if failed else 0


def tail(path: str, lines: int = 60) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "\n".join(data.splitlines()[-lines:])


# --------------------------------------------------------------------------
# Loopback HTTP (the simulator's admin API)

# No proxy, ever: http_proxy in the environment must not send admin calls away.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_json(method: str, url: str, body=None, timeout: float = 30.0):
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise HarnessError(f"refusing non-loopback URL {url}")
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with _opener.open(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as e:
        raise HarnessError(f"{method} {url}: HTTP {e.code}: {e.read()[:500]!r}") from None
    return json.loads(raw) if raw.strip() else None


class Sim:
    """jobwatch-sim on 127.0.0.1:<ephemeral>, with admin helpers."""

    def __init__(self, workdir: str, seed: int = 1, quiet: bool = True, extra_args=()):
        self.workdir = workdir
        self.seed = seed
        self.quiet = quiet
        self.extra_args = list(extra_args)
        self.port_file = os.path.join(workdir, "sim.port")
        self.log_path = os.path.join(workdir, "sim.log")
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self, timeout: float = 10.0) -> "Sim":
        argv = [jobwatch_sim(), "--listen", f"{LOOPBACK}:0", "--port-file", self.port_file,
                "--seed", str(self.seed)]
        if self.quiet:
            argv.append("--quiet")
        argv += self.extra_args
        self._log = open(self.log_path, "wb")
        self.proc = spawn(argv, stdout=self._log, stderr=subprocess.STDOUT)

        def port_known():
            if self.proc.poll() is not None:
                raise HarnessError(f"jobwatch-sim exited with {self.proc.returncode}:\n"
                                   f"{tail(self.log_path)}")
            try:
                with open(self.port_file) as f:
                    text = f.read().strip()
            except FileNotFoundError:
                return None
            return int(text) if text.isdigit() else None

        self.port = wait_until(port_known, timeout, what="jobwatch-sim port file")
        return self

    def stop(self) -> int | None:
        code = None
        if self.proc is not None:
            code = stop_process(self.proc)
            self._log.close()
        return code

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def admin(self, method: str, path: str, body=None, timeout: float = 60.0):
        return http_json(method, self.endpoint + path, body, timeout)

    def create_jobs(self, specs: list[dict]) -> dict:
        return self.admin("POST", "/admin/jobs", {"jobs": specs})

    def create_job(self, **spec) -> dict:
        """One job; returns {"job_id", "subjob_ids", "outcome"}."""
        return self.create_jobs([spec])["jobs"][0]

    def create_expected(self, specs: list[dict], project_id: str) -> dict[str, Expectation]:
        """Creates the jobs; what each must produce, keyed by job id."""
        created = self.create_jobs(specs)["jobs"]
        return {c["job_id"]: expectation_from_created(c, project_id, spec)
                for c, spec in zip(created, specs)}

    def random_jobs(self, **params) -> dict:
        return self.admin("POST", "/admin/random", params)

    def add_fault(self, **rule) -> dict:
        return self.admin("POST", "/admin/faults", rule)

    def clear_faults(self) -> None:
        self.admin("DELETE", "/admin/faults")

    def stats(self) -> dict:
        return self.admin("GET", "/admin/stats")

    def job(self, job_id: str) -> dict:
        return self.admin("GET", f"/admin/jobs/{job_id}")

    def requests(self) -> dict:
        return self.admin("GET", "/admin/requests")

    def requests_by_api(self) -> dict:
        """{"app-v1": n, "app-v2": n, "desktop-v2": n}: requests on each API's path."""
        return self.stats()["requests_by_api"]

    def wrong_api_requests(self) -> int:
        """Requests naming a job on another API's path (each answered 404)."""
        return self.stats()["wrong_api_requests"]


# --------------------------------------------------------------------------
# Daemon

def random_project_id() -> str:
    return secrets.token_hex(16)


def random_job_specs(project_id: str, count: int, seed: int, duration_s=(1.0, 4.0),
                     initializing_s: float = 0.3, api=None) -> list[dict]:
    """Simulator jobs: two in three succeed, 0-3 subjobs each. `api` (a name or a
    list, round-robin) puts them in that API; None leaves the simulator's app-v1."""
    rng = random.Random(seed)
    specs = [{"project_id": project_id, "duration_s": round(rng.uniform(*duration_s), 1),
              "initializing_s": initializing_s,
              "outcome": rng.choice(["success", "success", "failure"]),
              "subjobs": rng.randint(0, 3)} for _ in range(count)]
    apis = [api] if isinstance(api, str) else list(api or [])
    for index, spec in enumerate(specs if apis else []):
        spec["api"] = apis[index % len(apis)]
    return specs


def write_secret(path: str, value: str) -> str:
    """A secret file as an operator would keep it: one line, mode 0600."""
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def to_yaml(value, indent: int = 0) -> str:
    """A small block-style YAML writer for the config (strings double-quoted)."""
    pad = "  " * indent
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:")
                out.append(to_yaml(item, indent + 1))
            else:
                out.append(f"{pad}{key}: {_yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 1).splitlines()
                out.append(f"{pad}- {body[0].lstrip()}")
                out.extend(body[1:])
            else:
                out.append(f"{pad}- {_yaml_scalar(item)}")
    else:
        out.append(pad + _yaml_scalar(value))
    return "\n".join(out)


def _yaml_scalar(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return json.dumps(str(value))


def deep_merge(base: dict, overrides: dict) -> dict:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Daemon:
    """jobwatchd in the foreground with a config in workdir; stderr to a file."""

    def __init__(self, workdir: str, sim_endpoint: str, project_id: str | None = None,
                 webhook_url: str | None = None, webhook_secret: str | None = None,
                 overrides: dict | None = None):
        self.workdir = workdir
        self.project_id = project_id or random_project_id()
        self.socket_path = os.path.join(workdir, "control.sock")
        self.state_dir = os.path.join(workdir, "state")
        self.events_path = os.path.join(workdir, "events.jsonl")
        self.config_path = os.path.join(workdir, "jobwatch.yaml")
        self.log_path = os.path.join(workdir, "jobwatchd.log")
        self.webhook_secret = webhook_secret
        sinks = [{"name": "log", "type": "log"},
                 {"name": "archive", "type": "file", "path": self.events_path}]
        if webhook_url:
            hook = {"name": "hook", "type": "webhook", "url": webhook_url, "timeout": "2s"}
            if webhook_secret:
                hook["secret"] = webhook_secret
            sinks.append(hook)
        self.config = deep_merge({
            "api": {"endpoint": sim_endpoint, "project_id": self.project_id,
                    "auth": {"type": "none"}, "rate_limit": 500, "max_connections": 8,
                    "request_timeout": "2s"},
            "poll": {"min_interval": "200ms", "max_interval": "2s",
                     "default_deadline": "10m", "not_found_grace": "5s"},
            "control": {"socket": self.socket_path, "socket_mode": "0660",
                        "idle_timeout": "2s"},
            "state": {"dir": self.state_dir},
            "sinks": sinks,
            "log": {"level": "info"},
        }, overrides or {})
        self.proc: subprocess.Popen | None = None
        self._log = None

    def write_config(self) -> str:
        os.makedirs(self.state_dir, exist_ok=True)
        with open(self.config_path, "w") as f:
            f.write(to_yaml(self.config) + "\n")
        return self.config_path

    def start(self, timeout: float = 10.0, env: dict | None = None) -> "Daemon":
        """`env`: the daemon's whole environment (default: this process's)."""
        self.write_config()
        self._log = open(self.log_path, "ab")
        self.proc = spawn([jobwatchd(), "--config", self.config_path],
                          stdout=self._log, stderr=self._log, env=env)

        def ready():
            if self.proc.poll() is not None:
                raise HarnessError(f"jobwatchd exited with {self.proc.returncode} at start:\n"
                                   f"{self.log_tail()}")
            with contextlib.suppress(OSError):
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(1)
                    s.connect(self.socket_path)
                    return True
            return False

        wait_until(ready, timeout, interval=0.05, what="jobwatchd control socket")
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM; the exit code, or None if it had to be killed."""
        code = None
        if self.proc is not None:
            code = stop_process(self.proc, signal.SIGTERM, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def kill(self) -> None:
        """SIGKILL, as a crash would; the log and the state stay."""
        if self.proc is not None:
            stop_process(self.proc, signal.SIGKILL, 5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def watch(self, job_ids, labels: dict | None = None) -> dict:
        """Watch, in the daemon's default project; the reply's parameters."""
        params: dict = {"jobs": job_refs(job_ids if isinstance(job_ids, dict) else list(job_ids))}
        if labels:
            params["labels"] = labels
        with self.client() as client:
            return client.call("io.jobwatch.Watch", params)

    def watches(self) -> dict[str, dict]:
        """List, keyed by job_id."""
        with self.client() as client:
            return {w.get("job_id"): w for w in client.call("io.jobwatch.List").get("watches") or []}

    def wait_finished(self, job_ids, timeout: float) -> dict[str, dict]:
        """Polls List until every job's watch is finished; returns List."""
        job_ids = list(job_ids)
        last: dict[str, dict] = {}

        def done():
            nonlocal last
            last = self.watches()
            return all(last.get(j, {}).get("status") in TERMINAL_STATES for j in job_ids)

        try:
            wait_until(done, timeout, interval=0.5, what="every watch to finish")
        except HarnessError as e:
            open_ = [last.get(j, {"job_id": j, "status": "<not listed>"}) for j in job_ids
                     if last.get(j, {}).get("status") not in TERMINAL_STATES]
            raise HarnessError(f"{e}: {len(open_)} open, e.g. {json.dumps(open_[:3])[:1500]}") from None
        return last

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def log_text(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def client(self, timeout: float = 10.0) -> "Varlink":
        return Varlink(self.socket_path, timeout)

    # /proc readings for the benchmark
    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise HarnessError("no VmRSS")

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[11], fields[12] are utime, stime (fields 14, 15 of stat(5)).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def logs_on_failure(*components):
    """Prints the tail of each component's log when the body raises."""
    try:
        yield
    except BaseException:
        for comp in components:
            if comp is None:
                continue
            name = type(comp).__name__
            path = getattr(comp, "log_path", None)
            if path and os.path.exists(path):
                sys.stderr.write(f"\n----- {name} log tail ({path}) -----\n{tail(path)}\n")
        raise


class Stack(typing.NamedTuple):
    workdir: str
    sim: "Sim"
    daemon: "Daemon"


@contextlib.contextmanager
def stack(prefix: str, seed: int, receiver=None, overrides: dict | None = None,
          env: dict | None = None, webhook_url: str | None = None,
          webhook_secret: str | None = None):
    """A simulator and a started daemon in a fresh work dir, with a webhook
    sink for `receiver` (or at webhook_url) when given. Everything, the
    receiver included, is stopped at the end; logs are printed when the body
    raises."""
    if receiver is not None:
        webhook_url = webhook_url or receiver.url
        webhook_secret = webhook_secret or receiver.secret
    with temp_workdir(prefix) as work:
        sim = Sim(work, seed=seed)
        daemon = None
        try:
            sim.start()
            daemon = Daemon(work, sim.endpoint, webhook_url=webhook_url,
                            webhook_secret=webhook_secret, overrides=overrides)
            with logs_on_failure(daemon, sim):
                daemon.start(env=env)
                yield Stack(work, sim, daemon)
        finally:
            if daemon is not None:
                daemon.stop()
            sim.stop()
            if receiver is not None:
                receiver.stop()


def scrub(text: str, *secret_values: str) -> str:
    for value in secret_values:
        if value:
            text = text.replace(value, "<secret>")
    return text


# --------------------------------------------------------------------------
# varlink client

class VarlinkError(AssertionError):
    def __init__(self, reply: dict):
        super().__init__(f"varlink error {reply.get('error')}: {reply.get('parameters')}")
        self.reply = reply
        self.error = reply.get("error")
        self.parameters = reply.get("parameters") or {}


class Varlink:
    """A blocking varlink client: NUL-terminated JSON over a Unix stream socket."""

    def __init__(self, path: str, timeout: float = 10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self._buf = bytearray()
        # A full listen backlog answers EAGAIN on Unix sockets: retry (bounded).
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.sock.close()
                    raise
                time.sleep(0.02)

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def settimeout(self, timeout):
        self.sock.settimeout(timeout)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, message: dict) -> None:
        self.send_raw(json.dumps(message).encode() + b"\0")

    def recv(self) -> dict | None:
        """The next message, or None at EOF. Raises socket.timeout."""
        raw = self.recv_raw()
        return None if raw is None else json.loads(raw)

    def recv_raw(self) -> bytes | None:
        """The next message's bytes (without the NUL), or None at EOF."""
        # A bytearray grown in place and searched only where new bytes
        # landed: a 22 MB List reply would otherwise cost seconds of
        # quadratic copying and rescanning here, not in the daemon.
        searched = 0
        while (end := self._buf.find(b"\0", searched)) < 0:
            searched = len(self._buf)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                if self._buf:
                    raise HarnessError(f"EOF inside a message: {bytes(self._buf[:200])!r}")
                return None
            self._buf += chunk
        raw = bytes(self._buf[:end])
        del self._buf[:end + 1]
        return raw

    def at_eof(self, timeout: float) -> bool:
        """True if the peer closes within timeout (without sending more)."""
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self._buf += chunk
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(old)

    def call_raw(self, method: str, parameters: dict | None = None, **flags) -> dict:
        message = {"method": method}
        if parameters is not None:
            message["parameters"] = parameters
        message.update(flags)
        self.send(message)
        reply = self.recv()
        if reply is None:
            raise HarnessError(f"{method}: connection closed without a reply")
        return reply

    def call(self, method: str, parameters: dict | None = None) -> dict:
        """The reply's parameters; raises VarlinkError on an error reply."""
        reply = self.call_raw(method, parameters)
        if "error" in reply:
            raise VarlinkError(reply)
        return reply.get("parameters") or {}

    def stream(self, method: str, parameters: dict | None = None):
        """Yields every reply of a `more` call, the last one included."""
        message = {"method": method, "more": True}
        if parameters is not None:
            message["parameters"] = parameters
        self.send(message)
        while True:
            reply = self.recv()
            if reply is None:
                raise HarnessError(f"{method}: connection closed mid-stream")
            yield reply
            if "error" in reply or not reply.get("continues"):
                return


def job_refs(job_ids, project_id: str | None = None) -> list[dict]:
    """Watch/Wait/Cancel entries. Given a {job_id: Expectation} map, each
    entry names the job's API unless it is app-v1 (the default)."""
    refs = []
    for job_id in job_ids:
        ref = {"job_id": job_id}
        if project_id is not None:
            ref["project_id"] = project_id
        api = getattr(job_ids[job_id], "api", None) if isinstance(job_ids, dict) else None
        if api and api != "app-v1":
            ref["api"] = api
        refs.append(ref)
    return refs


# --------------------------------------------------------------------------
# jobwatchctl

def run_ctl(args: list[str], socket_path: str | None = None, timeout: float = 60.0,
            use_env: bool = False) -> subprocess.CompletedProcess:
    """Runs jobwatchctl; the socket goes in --socket, or in $JOBWATCH_SOCKET
    when use_env is set."""
    env = dict(os.environ)
    env.pop("JOBWATCH_SOCKET", None)
    argv = [jobwatchctl()]
    if socket_path is not None:
        if use_env:
            env["JOBWATCH_SOCKET"] = socket_path
        else:
            argv += ["--socket", socket_path]
    argv += args
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, env=env, text=True)
    except subprocess.TimeoutExpired as e:
        raise HarnessError(f"{' '.join(argv)} did not exit within {timeout}s; "
                           f"stdout={e.stdout!r} stderr={e.stderr!r}") from None


def ctl_json(args: list[str], socket_path: str, timeout: float = 30.0):
    """`jobwatchctl --json ARGS…`, parsed; HarnessError when it fails."""
    result = run_ctl(["--json", *args], socket_path, timeout=timeout)
    if result.returncode != 0:
        raise HarnessError(f"{args[0]} failed: {describe(result)}")
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise HarnessError(f"{args[0]} printed no JSON: {result.stdout[:500]!r}") from None


def describe(result: subprocess.CompletedProcess) -> str:
    return (f"`{' '.join(result.args)}` exited {result.returncode}\n"
            f"  stdout: {result.stdout.strip()[:2000]!r}\n  stderr: {result.stderr.strip()[:2000]!r}")


def temp_workdir(prefix: str) -> tempfile.TemporaryDirectory:
    # Unix socket paths are limited to 108 bytes: keep the directory short.
    return tempfile.TemporaryDirectory(prefix=f"jw-{prefix}-", dir="/tmp")
