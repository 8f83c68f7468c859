# SPDX-License-Identifier: Apache-2.0
# tests/tools/tls_mariadb.py - a MariaDB server with TLS for the MySQL-aware
# tunnel's integration tests and its benchmark: a test CA (and, on request,
# others that signed nothing the server shows), a server certificate for
# 127.0.0.1 signed by it, a fresh data folder, and mariadbd on a loopback
# port with TLS on. The caller gives the port and how to start a process.
import subprocess
from pathlib import Path


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d, other_cas=()):
    """d/ca.pem (+ .key), d/server.pem and d/server.key for 127.0.0.1, and a
    self-signed d/NAME.pem for each name in other_cas."""
    for ca in ("ca", *other_cas):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                 f"{ca}.key", "-out", f"{ca}.pem", "-days", "2", "-subj",
                 f"/CN=jumpgate test {ca}", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (Path(d) / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile",
             "san.ext", cwd=d)


def start(d, port, spawn, log):
    """Installs a data folder in d and starts mariadbd with TLS on port
    (spawn(argv, **kw) starts it; its output goes to log); the process."""
    data = Path(d) / "data"
    data.mkdir()
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}",
                    "--user=root", "--auth-root-authentication-method=normal",
                    "--skip-test-db", "--skip-name-resolve"], check=True,
                   capture_output=True, timeout=180)
    return spawn(["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root",
                  "--bind-address=127.0.0.1", f"--port={port}", f"--socket={d}/sock",
                  f"--pid-file={d}/pid", "--skip-log-bin", f"--ssl-ca={d}/ca.pem",
                  f"--ssl-cert={d}/server.pem", f"--ssl-key={d}/server.key"],
                 stdout=log, stderr=subprocess.STDOUT)


def sql(d, text):
    """Runs SQL as root over the server's socket; its output."""
    r = subprocess.run(["mariadb", f"--socket={d}/sock", "-uroot", "--batch",
                        "--skip-column-names", "-e", text],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"mariadb: {r.stderr.strip()}")
    return r.stdout
