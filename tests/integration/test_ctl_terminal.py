"""jobwatchctl as a person at a terminal sees it (SPEC §2, jobwatchctl).

- `wait` on a pseudo-terminal redraws one line per job in place (cursor up,
  erase line): status, subjobs done/total, elapsed time against the
  expected end. A small VT emulator replays the captured bytes: the last
  screen holds exactly one line per job with its final status and N/N
  subjobs, and earlier frames showed the progress moving;
- colours on a terminal, none with NO_COLOR or TERM=dumb, and no escape
  byte at all when stdout is a pipe;
- the exit status follows the outcomes (0 all succeeded, 1 one failed);
- `list` is an aligned table; `--json` before or after the command prints
  JSON for every command; `COMMAND --help` and `help COMMAND` exit 0.

The simulator plays the jobs; the daemon polls it on loopback.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

COMMANDS = ("watch", "wait", "list", "show", "cancel", "follow", "stats")
ROWS, COLUMNS = 30, 100

ESC = b"\x1b"
CURSOR_UP = re.compile(rb"\x1b\[\d*A")
ERASE_LINE = re.compile(rb"\x1b\[[02]?K")
SGR_COLOUR = re.compile(rb"\x1b\[[0-9;]*[1-9][0-9;]*m")  # any SGR but a bare reset
SUBJOBS = re.compile(r"(\d+)/(\d+)")


# --------------------------------------------------------------------------
# A tiny VT100 emulator: enough to replay what `wait` draws.

class Screen:
    """Replays terminal output: printable text, \\r, \\n, \\b, ESC[nA/B/C/D/G,
    ESC[K / ESC[2K, ESC[J; every other sequence (SGR included) is ignored.
    Text past the last column wraps, as a real terminal's does, so a line
    that is too long breaks the redraw here too. A snapshot of the screen is
    kept each time the cursor moves up: the frame that is about to be
    redrawn."""

    def __init__(self, rows: int, columns: int):
        self.rows, self.columns = rows, columns
        self.lines = [[" "] * columns for _ in range(rows)]
        self.row = self.col = 0
        self.frames: list[list[str]] = []
        self.pending_wrap = False

    def text(self) -> list[str]:
        """The non-blank lines, right-stripped."""
        return [line for line in ("".join(cells).rstrip() for cells in self.lines) if line]

    def _newline(self):
        self.row += 1
        if self.row >= self.rows:
            self.lines.pop(0)
            self.lines.append([" "] * self.columns)
            self.row = self.rows - 1

    def _put(self, ch: str):
        if self.pending_wrap:
            self.col = 0
            self._newline()
            self.pending_wrap = False
        self.lines[self.row][self.col] = ch
        if self.col == self.columns - 1:
            self.pending_wrap = True
        else:
            self.col += 1

    def _csi(self, params: str, final: str):
        numbers = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []
        n = max(1, numbers[0]) if numbers else 1
        self.pending_wrap = False
        if final == "A":
            self.frames.append(self.text())
            self.row = max(0, self.row - n)
        elif final == "B":
            self.row = min(self.rows - 1, self.row + n)
        elif final == "C":
            self.col = min(self.columns - 1, self.col + n)
        elif final == "D":
            self.col = max(0, self.col - n)
        elif final == "G":
            self.col = min(self.columns - 1, n - 1)
        elif final == "K":
            mode = numbers[0] if numbers else 0
            start, end = {0: (self.col, self.columns), 1: (0, self.col + 1),
                          2: (0, self.columns)}.get(mode, (self.col, self.columns))
            for c in range(start, end):
                self.lines[self.row][c] = " "
        elif final == "J":
            mode = numbers[0] if numbers else 0
            if mode in (0, 2):
                first = self.row + 1 if mode == 0 else 0
                if mode == 0:
                    for c in range(self.col, self.columns):
                        self.lines[self.row][c] = " "
                for r in range(first, self.rows):
                    self.lines[r] = [" "] * self.columns
        # m (SGR), h/l (modes) and the rest: no effect on the text.

    def feed(self, data: bytes):
        text = data.decode("utf-8", "replace")
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                if i + 1 < len(text) and text[i + 1] == "[":
                    j = i + 2
                    while j < len(text) and not ("\x40" <= text[j] <= "\x7e"):
                        j += 1
                    if j < len(text):
                        self._csi(text[i + 2:j].lstrip("?"), text[j])
                    i = j + 1
                else:
                    i += 2  # a two-byte escape: ignored
                continue
            if ch == "\r":
                self.col, self.pending_wrap = 0, False
            elif ch == "\n":
                self.pending_wrap = False
                self._newline()
            elif ch == "\b":
                self.col, self.pending_wrap = max(0, self.col - 1), False
            elif ch >= " " and ch != "\x7f":
                self._put(ch)
            i += 1


# --------------------------------------------------------------------------
# Running jobwatchctl on a pseudo-terminal

def run_on_pty(args: list[str], socket_path: str, env_extra: dict,
               timeout: float = 90.0) -> tuple[int, bytes]:
    """Runs jobwatchctl with stdout and stderr on a pty of ROWS x COLUMNS;
    returns its exit status and every byte it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "JOBWATCH_SOCKET")}
    env.update(env_extra)
    try:
        proc = h.spawn([h.jobwatchctl(), "--socket", socket_path] + args,
                       stdout=slave, stderr=slave, env=env)
    finally:
        os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every slave end is closed
                break
            if not chunk:
                break
            output += chunk
        else:
            h.stop_process(proc, timeout=5)
            raise h.HarnessError(f"jobwatchctl {' '.join(args)} still running after "
                                 f"{timeout:.0f}s; output so far {bytes(output[-2000:])!r}")
    finally:
        os.close(master)
    return proc.wait(10), bytes(output)


def replay(raw: bytes) -> Screen:
    screen = Screen(ROWS, COLUMNS)
    screen.feed(raw)
    return screen


def job_line(lines: list[str], job_id: str) -> str | None:
    found = [line for line in lines if line.split(" ", 1)[0] == job_id]
    assert len(found) <= 1, f"{job_id} on {len(found)} lines: {lines}"
    return found[0] if found else None


def subjobs_of(line: str) -> tuple[int, int]:
    m = SUBJOBS.search(line)
    assert m, f"no subjobs done/total in {line!r}"
    return int(m.group(1)), int(m.group(2))


# --------------------------------------------------------------------------
# The shared simulator and daemon

class World:
    sim: h.Sim
    daemon: h.Daemon
    workdir: str
    counter = 0

    @classmethod
    def jobs(cls, specs: list[dict]) -> list[str]:
        """Creates jobs in the simulator with readable IDs of varied length."""
        named = []
        for spec in specs:
            cls.counter += 1
            named.append(dict(spec, job_id=spec.get("job_id", f"job{cls.counter}"),
                              project_id=cls.daemon.project_id))
        return [j["job_id"] for j in cls.sim.create_jobs(named)["jobs"]]

    @classmethod
    def ctl(cls, args: list[str], timeout: float = 90.0) -> subprocess.CompletedProcess:
        return h.run_ctl(args, cls.daemon.socket_path, timeout=timeout)


def assert_ok(result: subprocess.CompletedProcess, code: int = 0) -> None:
    assert result.returncode == code, f"expected exit {code}: {h.describe(result)}"


# --------------------------------------------------------------------------
# wait on a terminal

def test_wait_redraws_progress_on_a_terminal() -> None:
    specs = [
        {"duration_s": 5, "initializing_s": 0.5, "subjobs": 4, "outcome": "success"},
        {"duration_s": 6, "initializing_s": 0.5, "subjobs": 3, "outcome": "success"},
        {"duration_s": 4, "initializing_s": 0.5, "subjobs": 2, "outcome": "success",
         "job_id": "a-rather-longer-job-id-0001"},
    ]
    totals = dict(zip(World.jobs(specs), (s["subjobs"] for s in specs)))
    code, raw = run_on_pty(["wait", *totals, "--timeout", "60s"], World.daemon.socket_path,
                           {"TERM": "xterm"})
    assert code == 0, f"wait exited {code}; output {raw[-2000:]!r}"
    assert CURSOR_UP.search(raw), f"no cursor-up sequence in {raw[:600]!r}"
    assert ERASE_LINE.search(raw), f"no erase-line sequence in {raw[:600]!r}"
    assert SGR_COLOUR.search(raw), f"no colour on a terminal without NO_COLOR: {raw[:600]!r}"

    screen = replay(raw)
    final = screen.text()
    assert len(final) == len(totals), f"final screen is not one line per job: {final}"
    for job_id, total in totals.items():
        line = job_line(final, job_id)
        assert line is not None, f"{job_id} missing from the final screen {final}"
        assert "succeeded" in line, f"final line of {job_id} does not say succeeded: {line!r}"
        assert subjobs_of(line) == (total, total), f"final subjobs of {job_id}: {line!r}"

    # Earlier frames: each one line per job, progress only ever moving up,
    # and at least two distinct progress states before the last.
    frames = [f for f in screen.frames if f]
    assert len(frames) >= 2, f"only {len(frames)} frames drawn before the last"
    states = []
    for frame in frames:
        assert len(frame) == len(totals), f"a frame is not one line per job: {frame}"
        state = {}
        for job_id, total in totals.items():
            line = job_line(frame, job_id)
            assert line is not None, f"{job_id} missing from frame {frame}"
            done, shown_total = subjobs_of(line)
            assert done <= shown_total, f"{line!r}"
            state[job_id] = done
        states.append(state)
    for before, after in zip(states, states[1:]):
        for job_id in totals:
            assert after[job_id] >= before[job_id], f"subjobs went down: {before} -> {after}"
    distinct = {tuple(sorted(s.items())) for s in states}
    partial = [s for s in distinct if any(0 < done < totals[j] for j, done in s)]
    assert len(distinct) >= 2, f"progress never changed between frames: {states}"
    assert partial, f"no frame showed a job part-way through its subjobs: {states}"

    # While running, a line shows the elapsed time against the expected end.
    running = [line for frame in frames for line in frame
               if "elapsed" in line and "expected end" in line]
    assert running, f"no frame shows elapsed time against the expected end: {frames[-1]}"


def test_wait_without_colour_and_failed_exit_status() -> None:
    ok, bad = World.jobs([
        {"duration_s": 2, "initializing_s": 0.5, "subjobs": 2, "outcome": "success"},
        {"duration_s": 3, "initializing_s": 0.5, "subjobs": 2, "outcome": "failure"},
    ])
    for env in ({"TERM": "xterm", "NO_COLOR": "1"}, {"TERM": "xterm-256color", "NO_COLOR": "yes"}):
        code, raw = run_on_pty(["wait", ok, bad, "--timeout", "60s"], World.daemon.socket_path,
                               env)
        assert code == 1, f"wait with a failed job exited {code} ({env}); {raw[-1500:]!r}"
        assert not re.search(rb"\x1b\[[0-9;]*m", raw), f"SGR codes despite {env}: {raw[:600]!r}"
        assert CURSOR_UP.search(raw), f"no in-place redraw with {env}: {raw[:600]!r}"
        final = replay(raw).text()
        assert len(final) == 2, f"final screen is not one line per job: {final}"
        assert "succeeded" in job_line(final, ok), final
        assert "failed" in job_line(final, bad), final
        assert subjobs_of(job_line(final, ok)) == (2, 2), final


def test_wait_on_a_dumb_terminal_prints_plain_lines() -> None:
    (job,) = World.jobs([{"duration_s": 1, "initializing_s": 0.2, "subjobs": 1}])
    code, raw = run_on_pty(["wait", job, "--timeout", "60s"], World.daemon.socket_path,
                           {"TERM": "dumb"})
    assert code == 0, f"wait exited {code}; {raw!r}"
    assert ESC not in raw, f"escape sequences on TERM=dumb: {raw[:600]!r}"
    assert re.search(rf"^{job} succeeded".encode(), raw, re.M), raw


def test_wait_piped_prints_plain_lines() -> None:
    jobs = World.jobs([{"duration_s": 2, "initializing_s": 0.3, "subjobs": 2},
                       {"duration_s": 1, "initializing_s": 0.3, "subjobs": 1}])
    for env_term in ("xterm", None):
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        if env_term:
            env["TERM"] = env_term
        result = subprocess.run([h.jobwatchctl(), "--socket", World.daemon.socket_path, "wait",
                                 *jobs, "--timeout", "60s"], stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=90, env=env)
        assert result.returncode == 0, f"piped wait exited {result.returncode}: {result!r}"
        assert ESC not in result.stdout and ESC not in result.stderr, \
            f"escape bytes in piped output: {result.stdout[:600]!r}"
        assert b"\r" not in result.stdout, f"carriage returns when piped: {result.stdout!r}"
        lines = result.stdout.decode().splitlines()
        for job_id in jobs:
            last = [line for line in lines if line.split(" ", 1)[0] == job_id][-1:]
            assert last and "succeeded" in last[0], f"no final line for {job_id}: {lines}"


def test_wait_json_on_a_terminal_is_only_json() -> None:
    (job,) = World.jobs([{"duration_s": 1, "initializing_s": 0.2, "subjobs": 1}])
    for args in (["--json", "wait", job], ["wait", job, "--json"]):
        code, raw = run_on_pty(args + ["--timeout", "60s"], World.daemon.socket_path,
                               {"TERM": "xterm"})
        assert code == 0, f"{args} exited {code}: {raw!r}"
        assert ESC not in raw, f"escape sequences in --json output: {raw[:600]!r}"
        doc = json.loads(raw.replace(b"\r\n", b"\n"))
        assert [r["outcome"] for r in doc["results"]] == ["succeeded"], doc


# --------------------------------------------------------------------------
# list, --json, --help

def test_list_is_an_aligned_table() -> None:
    jobs = World.jobs([{"duration_s": 30, "subjobs": 3, "job_id": "x"},
                       {"duration_s": 30, "subjobs": 12,
                        "job_id": "a-much-longer-job-identifier-for-the-table"},
                       {"duration_s": 1, "subjobs": 0, "job_id": "mid-sized-id-77"}])
    assert_ok(World.ctl(["watch", *jobs]))
    h.wait_until(lambda: all(w["polls"] > 0 for j, w in World.daemon.watches().items()
                             if j in jobs), 30, what="a first poll of each watch")
    result = World.ctl(["list"])
    assert_ok(result)
    assert "\x1b" not in result.stdout, result.stdout
    lines = result.stdout.rstrip("\n").split("\n")
    header = lines[0]
    names = header.split()
    assert names[:4] == ["JOB", "PROJECT", "API", "STATUS"], header
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    assert len(starts) == 8, f"header has {len(starts)} columns: {header!r}"
    rows = lines[1:]
    listed = {}
    for line in lines:
        cells = []
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(line)
            cell = line[start:end]
            assert cell and not cell.startswith(" "), \
                f"column {names[i]} does not start at offset {start} in {line!r}"
            if i + 1 < len(starts):
                assert cell.endswith("  "), f"column {names[i]} runs into the next: {line!r}"
                assert start == 0 or line[start - 1] == " ", line
            cells.append(cell.rstrip())
        listed[cells[0]] = cells
    # Padded to the widest cell, exactly: the widest is followed by two spaces.
    for i in range(len(starts) - 1):
        widest = max(len(cells[i]) for cells in listed.values())
        assert starts[i + 1] - starts[i] == widest + 2, \
            f"column {names[i]} is {starts[i + 1] - starts[i]} wide for cells of {widest}"
    for job_id in jobs:
        assert job_id in listed, f"{job_id} not listed: {rows}"
        assert listed[job_id][1] == World.daemon.project_id, listed[job_id]
        assert listed[job_id][2] == "app-v1", listed[job_id]  # api.default_api's default
    assert listed["x"][4].endswith("/3"), listed["x"]
    assert listed["a-much-longer-job-identifier-for-the-table"][4].endswith("/12"), listed
    assert_ok(World.ctl(["cancel", *jobs[:2]]))


def test_json_for_every_command() -> None:
    a, b = World.jobs([{"duration_s": 1, "initializing_s": 0.2, "subjobs": 1},
                       {"duration_s": 1, "initializing_s": 0.2, "subjobs": 1}])

    def json_of(args):
        result = World.ctl(args)
        assert_ok(result)
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise AssertionError(f"{args}: not one JSON document: {result.stdout[:500]!r}") from None

    for front in (True, False):
        def cmd(*args):
            return ["--json", *args] if front else [*args, "--json"]
        job = a if front else b
        watched = json_of(cmd("watch", job))
        assert watched["watches"][0]["job_id"] == job, watched
        waited = json_of(cmd("wait", job, "--timeout", "60s"))
        assert waited["results"][0]["outcome"] == "succeeded", waited
        listed = json_of(cmd("list"))
        assert job in {w["job_id"] for w in listed["watches"]}, listed
        shown = json_of(cmd("show", job))
        assert shown["watch"]["job_id"] == job and shown["watch"]["status"] == "succeeded", shown
        assert isinstance(json_of(cmd("stats")), dict)

    # cancel on a running watch
    (long_job,) = World.jobs([{"duration_s": 60}])
    assert_ok(World.ctl(["watch", long_job]))
    cancelled = json_of(["cancel", long_job, "--json"])
    assert cancelled["cancelled"][0]["job_id"] == long_job, cancelled

    # follow: one JSON document per line
    follow = subprocess.Popen([h.jobwatchctl(), "--socket", World.daemon.socket_path,
                               "follow", "--json"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        (quick,) = World.jobs([{"duration_s": 0.5, "initializing_s": 0.1}])
        assert_ok(World.ctl(["watch", quick]))
        ready, _, _ = select.select([follow.stdout], [], [], 30)
        assert ready, "follow --json printed nothing within 30 s"
        event = json.loads(follow.stdout.readline())
        assert "type" in event and "data" in event, event
    finally:
        h.stop_process(follow, timeout=5)


def test_help_for_every_command() -> None:
    for command in COMMANDS:
        for args in ([command, "--help"], [command, "-h"], ["help", command]):
            result = h.run_ctl(args, "/nonexistent/control.sock", timeout=10)
            assert_ok(result)
            usage = result.stdout.splitlines()[0] if result.stdout else ""
            assert re.match(rf"Usage: jobwatchctl .*\b{command}\b", usage), \
                f"{args}: usage line does not name {command}: {result.stdout[:300]!r}"
    for args in (["--help"], ["help"]):
        result = h.run_ctl(args, "/nonexistent/control.sock", timeout=10)
        assert_ok(result)
        for command in COMMANDS:
            assert re.search(rf"^\s+{command}\b", result.stdout, re.M), \
                f"{args}: {command} missing from {result.stdout[:800]!r}"
    assert "--timeout" in h.run_ctl(["wait", "--help"], "/x", timeout=10).stdout
    assert "--deadline" in h.run_ctl(["watch", "--help"], "/x", timeout=10).stdout
    assert_ok(h.run_ctl(["help", "no-such-command"], "/x", timeout=10), 64)


def main() -> int:
    with h.temp_workdir("ctl") as workdir:
        World.workdir = workdir
        World.sim = h.Sim(workdir).start()
        World.daemon = h.Daemon(workdir, World.sim.endpoint, overrides={
            "poll": {"min_interval": "200ms", "max_interval": "500ms"},
            "control": {"idle_timeout": "30s"},
        })
        try:
            World.daemon.start()
            code = h.run_tests([
                test_help_for_every_command,
                test_wait_redraws_progress_on_a_terminal,
                test_wait_without_colour_and_failed_exit_status,
                test_wait_on_a_dumb_terminal_prints_plain_lines,
                test_wait_piped_prints_plain_lines,
                test_wait_json_on_a_terminal_is_only_json,
                test_list_is_an_aligned_table,
                test_json_for_every_command,
            ])
            if code != 0:
                sys.stderr.write(f"----- jobwatchd log tail -----\n{World.daemon.log_tail()}\n")
            return code
        finally:
            World.daemon.stop()
            World.sim.stop()


if __name__ == "__main__":
    sys.exit(main())
