"""The systemd units as `cmake --install` installs them: `systemd-analyze
verify` prints nothing, `systemd-analyze security` rates the service's
exposure 2.0 or lower, and the Debian layout (--prefix /usr, DESTDIR) puts
every file where the units and the README say it is.

Installs from the build tree that holds $JOBWATCHD into temp dirs. Needs
systemd-analyze (Debian 12: package systemd); without it the test fails.
Stdlib only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD_DIR = os.path.dirname(os.path.abspath(os.environ["JOBWATCHD"]))
MAX_EXPOSURE = 2.0


def run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, LC_ALL="C", SYSTEMD_COLORS="0", SYSTEMD_PAGER="")
    full_env.update(env or {})
    return subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=40)


def install(prefix: str, destdir: str | None = None) -> str:
    env = {"DESTDIR": destdir} if destdir else {}
    result = run(["cmake", "--install", BUILD_DIR, "--prefix", prefix], env)
    if result.returncode != 0:
        raise AssertionError(f"cmake --install failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def unit_values(path: str, key: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.split("=", 1)[1].strip() for line in f
                if line.startswith(key + "=")]


class Units(unittest.TestCase):
    def setUp(self) -> None:
        self.analyze = shutil.which("systemd-analyze")
        if self.analyze is None:
            self.fail("systemd-analyze not found (Debian package: systemd)")
        if not os.path.exists(os.path.join(BUILD_DIR, "cmake_install.cmake")):
            self.fail(f"no cmake_install.cmake in {BUILD_DIR}")
        self.tmp = tempfile.TemporaryDirectory(prefix="jobwatch-units-")
        self.addCleanup(self.tmp.cleanup)

    def installed_units(self) -> tuple[str, str]:
        # A real prefix, so ExecStart= names an executable verify can find.
        prefix = os.path.join(self.tmp.name, "prefix")
        install(prefix)
        unitdir = os.path.join(prefix, "lib", "systemd", "system")
        return (os.path.join(unitdir, "jobwatchd.service"),
                os.path.join(unitdir, "jobwatchd.socket"))

    def test_verify_prints_nothing(self) -> None:
        service, socket = self.installed_units()
        result = run([self.analyze, "verify", service, socket])
        output = (result.stdout + result.stderr).strip()
        self.assertEqual(output, "", f"systemd-analyze verify complained:\n{output}")
        self.assertEqual(result.returncode, 0)

    def test_exposure_is_at_most_2(self) -> None:
        service, _ = self.installed_units()
        result = run([self.analyze, "security", "--offline=yes", service])
        match = re.search(r"Overall exposure level for jobwatchd\.service: ([0-9.]+)",
                          result.stdout)
        self.assertIsNotNone(match, f"no exposure level in:\n{result.stdout}{result.stderr}")
        exposure = float(match.group(1))
        self.assertLessEqual(exposure, MAX_EXPOSURE,
                             f"exposure {exposure} > {MAX_EXPOSURE}:\n{result.stdout}")

    def test_service_contract(self) -> None:
        service, socket = self.installed_units()
        self.assertEqual(unit_values(service, "Type"), ["notify"])
        self.assertEqual(unit_values(service, "RestartPreventExitStatus"), ["78"])
        self.assertEqual(unit_values(service, "Restart"), ["on-failure"])
        reload = unit_values(service, "ExecReload")
        self.assertEqual(len(reload), 2)
        self.assertIn("--check-config", reload[0])
        self.assertIn("kill -HUP $MAINPID", reload[1])
        self.assertTrue(any("--check-config" in v for v in unit_values(service, "ExecStartPre")))
        self.assertTrue(unit_values(service, "LoadCredential")[0].startswith("api-token:"))
        for key in ("StateDirectory", "LogsDirectory", "RuntimeDirectory"):
            self.assertEqual(unit_values(service, key), ["jobwatch"], key)
        self.assertEqual(unit_values(socket, "ListenStream"), ["/run/jobwatch/control.sock"])
        self.assertEqual(unit_values(socket, "SocketMode"), ["0660"])
        self.assertEqual(unit_values(socket, "SocketGroup"), ["jobwatch"])

    def test_debian_layout_with_destdir(self) -> None:
        root = os.path.join(self.tmp.name, "root")
        install("/usr", destdir=root)
        for path in ("usr/bin/jobwatchd", "usr/bin/jobwatchctl",
                     "usr/lib/systemd/system/jobwatchd.service",
                     "usr/lib/systemd/system/jobwatchd.socket",
                     "usr/share/doc/jobwatch/README.md", "etc/jobwatch/jobwatch.yaml"):
            self.assertTrue(os.path.isfile(os.path.join(root, path)), path)
        service = os.path.join(root, "usr/lib/systemd/system/jobwatchd.service")
        self.assertEqual(unit_values(service, "ExecStart"),
                         ["/usr/bin/jobwatchd --config /etc/jobwatch/jobwatch.yaml"])
        self.assertEqual(unit_values(service, "LoadCredential"),
                         ["api-token:/etc/jobwatch/api-token"])

    def test_reinstall_keeps_edited_config(self) -> None:
        root = os.path.join(self.tmp.name, "root")
        install("/usr", destdir=root)
        config = os.path.join(root, "etc/jobwatch/jobwatch.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("# edited by the operator\n")
        install("/usr", destdir=root)
        with open(config, encoding="utf-8") as f:
            self.assertEqual(f.read(), "# edited by the operator\n")


if __name__ == "__main__":
    unittest.main()
