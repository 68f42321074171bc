"""The systemd units as `cmake --install` installs them: `systemd-analyze
verify` prints nothing, `systemd-analyze security` rates the service's
exposure 2.0 or lower, the Debian layout (--prefix /usr, DESTDIR) puts
every file where the units and the README say it is, and secrets reach the
service as credentials loaded from a root-only directory that the install
creates empty (so no secret file is needed to start).

Installs from the build tree that holds $JOBWATCHD into temp dirs. Needs
systemd-analyze (Debian 12: package systemd); without it the test fails.
Stdlib only.
"""

from __future__ import annotations

import os
import re
import stat
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


def mode_of(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


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
        confdir = os.path.join(self.tmp.name, "prefix", "etc", "jobwatch")
        self.assertEqual(unit_values(service, "LoadCredential"),
                         [f"jobwatch:{confdir}/credentials"])
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
                         ["jobwatch:/etc/jobwatch/credentials"])
        credentials = os.path.join(root, "etc/jobwatch/credentials")
        self.assertTrue(os.path.isdir(credentials))
        self.assertEqual(mode_of(credentials), 0o700)

    def test_starts_without_any_secret_file(self) -> None:
        # systemd 252 fails the start when a LoadCredential= source path is
        # missing (unless a SetCredential= of the same ID is its fallback);
        # a directory source loads each file in it, an empty one nothing.
        # So every source must be a directory the install creates, empty and
        # root-only (the secrets in it are the operator's).
        service, _ = self.installed_units()
        fallbacks = {v.split(":", 1)[0] for v in unit_values(service, "SetCredential")}
        sources = unit_values(service, "LoadCredential")
        self.assertTrue(sources, "the service loads no credentials")
        for value in sources:
            cred_id, path = value.split(":", 1)
            if cred_id in fallbacks:
                continue
            self.assertTrue(os.path.isabs(path), value)
            self.assertTrue(os.path.isdir(path), f"{value}: not an installed directory")
            self.assertEqual(os.listdir(path), [], f"{value}: installed with files in it")
            self.assertEqual(mode_of(path), 0o700, f"{value}: not root-only")

    def test_example_config_names_the_loaded_credentials(self) -> None:
        # A directory credential's files arrive as ID_FILENAME in
        # $CREDENTIALS_DIRECTORY (systemd.exec(5)); every relative *_file of
        # the example config, commented-out ones included, must be such a name.
        service, _ = self.installed_units()
        ids = [v.split(":", 1)[0] for v in unit_values(service, "LoadCredential")
               if os.path.isdir(v.split(":", 1)[1])]
        self.assertEqual(len(ids), 1, "expected one directory credential")
        config = os.path.join(self.tmp.name, "prefix", "etc", "jobwatch", "jobwatch.yaml")
        with open(config, encoding="utf-8") as f:
            names = re.findall(r"^\s*(?:#\s*)?(\w+_file):\s*([^\s#]+)", f.read(), re.M)
        relative = {key: value for key, value in names if not value.startswith("/")}
        for key in ("token_file", "password_file", "secret_key_file",
                    "security_token_file", "secret_file"):
            self.assertIn(key, relative, f"the example config shows no relative {key}")
            self.assertTrue(relative[key].startswith(ids[0] + "_"),
                            f"{key}: {relative[key]} is not a credential of {ids[0]}")

    def test_reinstall_keeps_edited_config(self) -> None:
        root = os.path.join(self.tmp.name, "root")
        install("/usr", destdir=root)
        config = os.path.join(root, "etc/jobwatch/jobwatch.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("# edited by the operator\n")
        install("/usr", destdir=root)
        with open(config, encoding="utf-8") as f:
            self.assertEqual(f.read(), "# edited by the operator\n")

    def test_reinstall_keeps_credentials(self) -> None:
        root = os.path.join(self.tmp.name, "root")
        install("/usr", destdir=root)
        credentials = os.path.join(root, "etc/jobwatch/credentials")
        secret = os.path.join(credentials, "api-token")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("not-a-real-token\n")
        install("/usr", destdir=root)
        self.assertEqual(os.listdir(credentials), ["api-token"])
        self.assertEqual(mode_of(credentials), 0o700)


if __name__ == "__main__":
    unittest.main()
