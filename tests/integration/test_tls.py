"""The upstream over TLS and through an HTTP CONNECT proxy (issue 4): the
daemon verifies the simulator's certificate against api.tls.ca_file, a
wrong host name or an unknown CA shows as a clear last_error (and in the
log), verify: false works but is warned about loudly, and api.proxy
tunnels every API request through the proxy.

Certificates are made here with the openssl CLI; the proxy is a tiny
CONNECT proxy on 127.0.0.1 that only ever connects to 127.0.0.1.
"""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

FINISH_TIMEOUT_S = 40
ERROR_TIMEOUT_S = 20

GEN_CERTS = r"""set -e
cat > ca.cnf <<'X'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = jobwatch itest CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
X
mkca() {
  openssl req -x509 -config ca.cnf -extensions v3_ca -newkey ec \
    -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.pem" -days 2
}
issue() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"
  printf 'basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = %s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
    -out "$1.pem" -days 2 -extfile "$1.ext"
}
mkca ca
mkca otherca
issue server ca "DNS:localhost,IP:127.0.0.1"
issue wronghost ca "DNS:other.example"
issue untrusted otherca "DNS:localhost,IP:127.0.0.1"
"""


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1:<ephemeral>. It records each
    CONNECT target and splices the client to 127.0.0.1:<target port>,
    whatever host the target names: tests never leave loopback."""

    def __init__(self):
        self.targets: list[str] = []
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((h.LOOPBACK, 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> "ConnectProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.closing = True
        self.listener.close()

    @property
    def url(self) -> str:
        return f"http://{h.LOOPBACK}:{self.port}"

    def seen(self) -> list[str]:
        with self.lock:
            return list(self.targets)

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            client.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk or len(head) > 16384:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            if len(parts) != 3 or parts[0] != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            target = parts[1]
            with self.lock:
                self.targets.append(target)
            port = int(target.rsplit(":", 1)[1])
            try:
                upstream = socket.create_connection((h.LOOPBACK, port), timeout=10)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                client.settimeout(None)
                upstream.settimeout(None)
                pump = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
                pump.start()
                self._pump(client, upstream)
                pump.join(15)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (dst, src):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@unittest.skipUnless(shutil.which("openssl"), "the openssl CLI is needed to make certificates")
class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="jw-certs-", dir="/tmp")
        subprocess.run(["sh", "-c", GEN_CERTS], cwd=cls.certs, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def cert(self, name: str) -> str:
        return os.path.join(self.certs, name)

    # ---- the stack

    def run_stack(self, name, cert, api_overrides, body, log_level="info", proxy=False):
        with h.temp_workdir(name) as work:
            sim = h.Sim(work, seed=7, extra_args=["--tls-cert", self.cert(cert + ".pem"),
                                                  "--tls-key", self.cert(cert + ".key")])
            daemon = None
            connect_proxy = ConnectProxy().start() if proxy else None
            try:
                sim.start()
                api = dict(api_overrides)
                if connect_proxy is not None:
                    api["proxy"] = connect_proxy.url
                daemon = h.Daemon(work, f"https://localhost:{sim.port}",
                                  overrides={"api": api, "log": {"level": log_level}})
                with h.logs_on_failure(daemon, sim):
                    daemon.start()
                    body(sim, daemon, connect_proxy)
            finally:
                if daemon is not None:
                    daemon.stop()
                sim.stop()
                if connect_proxy is not None:
                    connect_proxy.stop()

    @staticmethod
    def admin(sim, method: str, path: str, body=None):
        # The test's own admin calls skip verification on purpose: some of
        # these servers present certificates that are wrong by design.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(h.LOOPBACK, sim.port, timeout=30, context=context)
        try:
            data = None if body is None else json.dumps(body)
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
            if resp.status >= 300:
                raise h.HarnessError(f"{method} {path}: HTTP {resp.status}: {raw[:300]!r}")
            return json.loads(raw) if raw.strip() else None
        finally:
            conn.close()

    def watch_new_jobs(self, sim, daemon, count=2):
        specs = [{"project_id": daemon.project_id, "duration_s": 1, "initializing_s": 0}
                 for _ in range(count)]
        jobs = self.admin(sim, "POST", "/admin/jobs", {"jobs": specs})["jobs"]
        ids = [job["job_id"] for job in jobs]
        daemon.watch(ids)
        return ids

    def assert_jobs_finish(self, sim, daemon):
        ids = self.watch_new_jobs(sim, daemon)
        watches = daemon.wait_finished(ids, FINISH_TIMEOUT_S)
        for job_id in ids:
            self.assertEqual(watches[job_id]["status"], "succeeded", watches[job_id])
        return ids

    def wait_for_last_error(self, daemon, job_id) -> str:
        def last_error():
            return (h.ctl_json(["show", job_id], daemon.socket_path).get("watch") or {}).get(
                "last_error")
        return h.wait_until(last_error, ERROR_TIMEOUT_S, interval=0.3, what="a last_error")

    # ---- the cases

    def test_verified_against_the_configured_ca(self):
        def body(sim, daemon, _proxy):
            self.assert_jobs_finish(sim, daemon)
            self.assertNotIn("api.tls.verify is false", daemon.log_text())
        self.run_stack("tls-ok", "server", {"tls": {"ca_file": self.cert("ca.pem")}}, body)

    def test_wrong_host_name_is_a_clear_error(self):
        def body(sim, daemon, _proxy):
            job_id = self.watch_new_jobs(sim, daemon, 1)[0]
            error = self.wait_for_last_error(daemon, job_id)
            self.assertIn(f"TLS handshake with localhost:{sim.port}", error)
            self.assertIn("the certificate is not valid for 'localhost'", error)
            h.wait_until(lambda: "not valid for 'localhost'" in daemon.log_text(), 10,
                         what="the certificate error in the daemon log")
        self.run_stack("tls-host", "wronghost", {"tls": {"ca_file": self.cert("ca.pem")}}, body,
                       log_level="debug")

    def test_unknown_ca_is_a_clear_error(self):
        def body(sim, daemon, _proxy):
            job_id = self.watch_new_jobs(sim, daemon, 1)[0]
            error = self.wait_for_last_error(daemon, job_id)
            self.assertIn(f"TLS handshake with localhost:{sim.port}", error)
            self.assertIn("certificate verify failed", error)
            h.wait_until(lambda: "certificate verify failed" in daemon.log_text(), 10,
                         what="the certificate error in the daemon log")
        self.run_stack("tls-ca", "untrusted", {"tls": {"ca_file": self.cert("ca.pem")}}, body,
                       log_level="debug")

    def test_verify_false_works_and_is_warned_about(self):
        def body(sim, daemon, _proxy):
            log = daemon.log_text()
            self.assertIn("api.tls.verify is false", log)
            self.assertRegex(log, r"(?i)warn.*api\.tls\.verify is false")
            self.assert_jobs_finish(sim, daemon)
        self.run_stack("tls-off", "untrusted", {"tls": {"verify": False}}, body)

    def test_through_a_connect_proxy(self):
        def body(sim, daemon, proxy):
            self.assert_jobs_finish(sim, daemon)
            seen = proxy.seen()
            self.assertTrue(seen, "the proxy saw no CONNECT")
            self.assertEqual(set(seen), {f"localhost:{sim.port}"})
            self.assertIn(f"through HTTP proxy 127.0.0.1:{proxy.port}", daemon.log_text())
        self.run_stack("tls-proxy", "server", {"tls": {"ca_file": self.cert("ca.pem")}}, body,
                       proxy=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
