"""Cancel is limited by the caller's SO_PEERCRED uid (SPEC §3): only root,
the daemon's own uid or the watch's submitter may cancel it. Real processes
with real uids: jobwatchctl runs as two unprivileged users A and B (and raw
varlink as B, to see the error name), a second daemon runs as a third
unprivileged user C.

Needs root (to switch uids); otherwise it says why and exits 77, which ctest
counts as skipped. Stdlib only.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SKIP = 77             # SKIP_RETURN_CODE of every integration test (tests/CMakeLists.txt)
EXIT_OK = 0
EXIT_REJECTED = 65    # jobwatchctl: the daemon rejected the request (NotWatched)
EXIT_DENIED = 77      # jobwatchctl: permission denied (SPEC §2)
UID_A = 65534         # nobody
UID_B = 65533
UID_C = 65532         # runs the second daemon

# The daemon's socket is world-connectable here so that A and B (who share
# no group) reach it; the uid check is all that stands between them.
OVERRIDES = {"control": {"socket_mode": "0666"}}


# --------------------------------------------------------------------------
# Running things as another uid

def as_user(uid: int) -> dict:
    """Popen arguments that run the child as uid (its own gid, no groups)."""
    return {"user": uid, "group": uid, "extra_groups": [], "cwd": "/"}


def ctl_as(uid: int, socket_path: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    argv = [h.jobwatchctl(), "--socket", socket_path, *args]
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=30, env=env, **as_user(uid))
    except subprocess.TimeoutExpired as e:
        raise h.HarnessError(f"{' '.join(argv)} (uid {uid}) did not exit in 30s") from e


def varlink_as(uid: int, socket_path: str, method: str, parameters: dict) -> dict:
    """One varlink call from a forked child that switched to uid: the reply."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into the test
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            with h.Varlink(socket_path, timeout=20) as client:
                reply = client.call_raw(method, parameters)
            with os.fdopen(write_end, "wb") as out:
                out.write(json.dumps(reply).encode())
            code = 0
        except BaseException as e:  # noqa: BLE001 - reported through the exit code
            with contextlib.suppress(Exception):
                os.write(2, f"varlink as uid {uid}: {e}\n".encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not data:
        raise h.HarnessError(f"varlink call as uid {uid} failed (status {status})")
    return json.loads(data)


def _die_with_parent() -> None:
    # Set after the uid switch (Popen runs preexec_fn last): a credential
    # change would clear PR_SET_PDEATHSIG again.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class DaemonAs(h.Daemon):
    """harness.Daemon, but jobwatchd runs as uid (with its own gid) and owns
    its work dir: state, socket and file sink are its own."""

    def __init__(self, uid: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.uid = uid

    def start(self, timeout: float = 10.0) -> "DaemonAs":
        self.write_config()
        for path in (self.workdir, self.state_dir, self.config_path):
            os.chown(path, self.uid, self.uid)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([h.jobwatchd(), "--config", self.config_path],
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, close_fds=True,
                                     preexec_fn=_die_with_parent, **as_user(self.uid))

        def ready():
            if self.proc.poll() is not None:
                raise h.HarnessError(f"jobwatchd (uid {self.uid}) exited with "
                                     f"{self.proc.returncode} at start:\n{self.log_tail()}")
            return os.path.exists(self.socket_path) and self._connects()

        h.wait_until(ready, timeout, interval=0.05, what="jobwatchd control socket")
        return self

    def _connects(self) -> bool:
        try:
            with self.client(timeout=1):
                return True
        except OSError:
            return False


def process_uid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[2])  # effective
    raise h.HarnessError("no Uid: line")


def stored_submitter(daemon: h.Daemon, job_id: str) -> int | None:
    """The uid the daemon stored with the watch (the state store's row)."""
    db = os.path.join(daemon.state_dir, "jobwatch.db")
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        row = conn.execute("SELECT submitter FROM watches WHERE job_id = ?", (job_id,)).fetchone()
    return None if row is None else row[0]


# --------------------------------------------------------------------------
# Checks

def expect(result: subprocess.CompletedProcess, code: int, what: str) -> None:
    if result.returncode != code:
        raise AssertionError(f"{what}: expected exit {code}\n{h.describe(result)}")


def watch_as(uid: int, daemon: h.Daemon, job_id: str) -> None:
    result = ctl_as(uid, daemon.socket_path, "--json", "watch", job_id)
    expect(result, EXIT_OK, f"watch as uid {uid}")
    watches = json.loads(result.stdout)["watches"]
    assert [w["job_id"] for w in watches] == [job_id], result.stdout
    assert watches[0]["created"] is True, result.stdout


def expect_denied(uid: int, daemon: h.Daemon, job_id: str) -> None:
    result = ctl_as(uid, daemon.socket_path, "cancel", job_id)
    expect(result, EXIT_DENIED, f"cancel of {job_id} as uid {uid}")
    assert "permission denied" in result.stderr, h.describe(result)
    assert job_id in daemon.watches(), f"{job_id} is gone after a refused cancel"


def expect_cancelled(uid: int, daemon: h.Daemon, job_id: str) -> None:
    result = ctl_as(uid, daemon.socket_path, "cancel", job_id)
    expect(result, EXIT_OK, f"cancel of {job_id} as uid {uid}")
    assert f"cancelled {job_id}" in result.stdout, h.describe(result)
    assert job_id not in daemon.watches(), f"{job_id} still listed after cancel"
    gone = ctl_as(uid, daemon.socket_path, "show", job_id)
    expect(gone, EXIT_REJECTED, f"show of the cancelled {job_id}")


def long_job(sim: h.Sim) -> str:
    # Still running when the test ends: no watch finishes on its own.
    return sim.create_job(duration_s=600, initializing_s=1)["job_id"]


def run(root: str) -> int:
    dirs = {}
    for name in ("sim", "d1", "d2"):
        dirs[name] = os.path.join(root, name)
        os.makedirs(dirs[name])
        os.chmod(dirs[name], 0o755)
    sim = h.Sim(dirs["sim"])
    daemon = other = None
    try:
        sim.start()
        daemon = h.Daemon(dirs["d1"], sim.endpoint, overrides=OVERRIDES)
        other = DaemonAs(UID_C, dirs["d2"], sim.endpoint, project_id=daemon.project_id,
                         overrides=OVERRIDES)
        with h.logs_on_failure(daemon, other, sim):
            daemon.start()
            other.start()
            return h.run_tests(tests(sim, daemon, other))
    finally:
        for d in (other, daemon):
            if d is not None:
                d.stop()
        sim.stop()


def tests(sim: h.Sim, daemon: h.Daemon, other: DaemonAs):
    def submitter_is_recorded_and_only_they_may_cancel():
        job = long_job(sim)
        watch_as(UID_A, daemon, job)
        assert stored_submitter(daemon, job) == UID_A, "the store does not name uid A"
        expect_denied(UID_B, daemon, job)
        expect_cancelled(UID_A, daemon, job)

    def refusal_is_the_spec_error():
        job = long_job(sim)
        watch_as(UID_A, daemon, job)
        reply = varlink_as(UID_B, daemon.socket_path, "io.jobwatch.Cancel",
                           {"jobs": [{"job_id": job}]})
        assert reply.get("error") == "io.jobwatch.PermissionDenied", reply
        assert reply.get("parameters", {}).get("job_id") == job, reply
        # A batch with one foreign job cancels none of it.
        mine = long_job(sim)
        watch_as(UID_B, daemon, mine)
        result = ctl_as(UID_B, daemon.socket_path, "cancel", mine, job)
        expect(result, EXIT_DENIED, "batch cancel with a foreign job")
        listed = daemon.watches()
        assert job in listed and mine in listed, "a refused batch cancelled something"
        expect_cancelled(UID_B, daemon, mine)
        expect_cancelled(UID_A, daemon, job)

    def root_may_cancel_anyones_watch():
        job = long_job(sim)
        watch_as(UID_B, daemon, job)
        assert stored_submitter(daemon, job) == UID_B
        expect_denied(UID_A, daemon, job)
        expect_cancelled(0, daemon, job)

    def submitter_survives_a_restart():
        job = long_job(sim)
        watch_as(UID_A, daemon, job)
        assert daemon.stop() == 0, "jobwatchd did not stop cleanly"
        daemon.start()
        assert job in daemon.watches(), "the watch did not survive the restart"
        expect_denied(UID_B, daemon, job)
        expect_cancelled(UID_A, daemon, job)

    def the_daemons_own_uid_may_cancel():
        assert process_uid(other.proc.pid) == UID_C, "the second daemon does not run as uid C"
        job = long_job(sim)
        # uid C is nobody special to the root daemon ...
        watch_as(UID_A, daemon, job)
        expect_denied(UID_C, daemon, job)
        expect_cancelled(UID_A, daemon, job)
        # ... but is the daemon's own uid on the other one.
        watch_as(UID_A, other, job)
        assert stored_submitter(other, job) == UID_A
        expect_denied(UID_B, other, job)
        expect_cancelled(UID_C, other, job)

    return [submitter_is_recorded_and_only_they_may_cancel, refusal_is_the_spec_error,
            root_may_cancel_anyones_watch, submitter_survives_a_restart,
            the_daemons_own_uid_may_cancel]


def usable_by_other_uids() -> str | None:
    """Why the binaries cannot be run as UID_A, or None."""
    for binary in (h.jobwatchctl(), h.jobwatchd()):
        try:
            result = subprocess.run([binary, "--version"], capture_output=True, timeout=10,
                                    **as_user(UID_A))
        except PermissionError as e:
            return f"uid {UID_A} cannot execute {binary}: {e}"
        if result.returncode != 0:
            return f"uid {UID_A}: {binary} --version exited {result.returncode}"
    return None


def main() -> int:
    if os.geteuid() != 0:
        print("skipped: switching to other uids needs root (run the tests as root)")
        return SKIP
    why = usable_by_other_uids()
    if why:
        print(f"skipped: {why} (build in a directory other users can traverse)")
        return SKIP
    with h.temp_workdir("peercred") as root:
        os.chmod(root, 0o755)  # A, B and C reach the sockets and C its work dir
        return run(root)


if __name__ == "__main__":
    sys.exit(main())
