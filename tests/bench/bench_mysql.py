# SPDX-License-Identifier: Apache-2.0
# tests/bench/bench_mysql.py - scenario 9 of bench_ssh.py: the MySQL-aware
# tunnel against a plain `ssh -L` tunnel to the same MariaDB (TLS on, its
# own test CA): a SELECT of BENCH_ROWS rows read by the `mariadb` client,
# and the time of one small statement (SELECT 1) over many round trips,
# whose 99th percentile the aware tunnel may add to. Both tunnels go
# through the same jumpgated; the plain one's client speaks TLS to the
# database itself, as an administrator would over a plain -L.
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import tls_mariadb  # noqa: E402

from bench_env import free_port, stop, wait_port  # noqa: E402

PASSWORD = "bench-ro-pw"


class BenchDB:
    """MariaDB with TLS, a table of rows rows, the login bench_ro, and the two
    targets in the bench policy: db-aware (protocol mysql with auth) and
    db-plain (bytes only)."""

    def __init__(self, env, rows):
        d = env.dir / "mariadb"
        d.mkdir()
        self.dir = d
        tls_mariadb.make_certs(d)
        self.port = free_port()
        self.log = open(d / "log", "w")
        self.proc = tls_mariadb.start(d, self.port, env.spawn, self.log)
        wait_port(self.port, proc=self.proc, timeout=60)
        self.rows = rows
        tls_mariadb.sql(d, "CREATE DATABASE bench; USE bench;"
                        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(32));"
                        f"INSERT INTO t SELECT seq, CONCAT('row-', seq) "
                        f"FROM seq_1_to_{rows};"
                        f"CREATE USER bench_ro@'%' IDENTIFIED BY '{PASSWORD}';"
                        "GRANT SELECT ON bench.* TO bench_ro@'%';")
        self.pwfile = d / "db.pw"
        self.pwfile.write_text(f"bench_ro:{PASSWORD}\n")
        os.chmod(self.pwfile, 0o600)
        text = env.policy.read_text()
        text = text.replace("targets:\n", "targets:\n"
                            f"  db-aware: {{kind: tcp, address: \"127.0.0.1:{self.port}\", "
                            f"protocol: mysql, tls: {{ca: {d}/ca.pem}}, "
                            f"auth: {{password_file: {self.pwfile}}}}}\n"
                            f"  db-plain: {{kind: tcp, address: \"127.0.0.1:{self.port}\"}}\n", 1)
        text += ("  - name: bench-db\n    users: [bench]\n    targets: [db-aware, db-plain]\n"
                 "    allow: [forward]\n    logins: [bench_ro]\n")
        env.policy.write_text(text)

    def client(self, port, aware, sql, extra=()):
        """The mariadb client's command through a tunnel on port."""
        auth = (["--skip-ssl"] if aware else
                [f"--password={PASSWORD}", "--ssl", f"--ssl-ca={self.dir}/ca.pem"])
        return ["mariadb", "-h", "127.0.0.1", "-P", str(port), "-u", "bench_ro", *auth,
                "--batch", "--quick", "--skip-column-names", *extra, "-e", sql, "bench"]

    def stop(self):
        stop(self.proc)
        self.log.close()


def _packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def round_trips(port, n, aware, db):
    """Seconds of each of n COM_QUERY "SELECT 1" round trips over one
    connection signed in through the tunnel on port (pymysql's packet
    reader, without its cursor)."""
    import pymysql
    kw = {} if aware else {"password": PASSWORD,
                           "ssl": {"ca": str(db.dir / "ca.pem")}}
    c = pymysql.connect(host="127.0.0.1", port=port, user="bench_ro", database="bench",
                        connect_timeout=30, **kw)
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            c._execute_command(0x03, "SELECT 1")
            c._read_packet()                      # the column count
            while not c._read_packet().is_eof_packet():
                pass                              # the column, then EOF
            while not c._read_packet().is_eof_packet():
                pass                              # the row, then EOF
            out.append(time.perf_counter() - t0)
    finally:
        c.close()
    return out


def scenario_mysql(env, c, res, gw, db, runs, warmup, rtts, log, open_forward,
                   commands_block):
    log(f"scenario 9: MySQL-aware tunnel, SELECT of {db.rows} rows; {rtts} round trips")
    la, lp = free_port(), free_port()
    aware = c.ssh("-N", "-L", f"127.0.0.1:{la}:db-aware:{db.port}", "-l", "bench", gw.name)
    plain = c.ssh("-N", "-L", f"127.0.0.1:{lp}:db-plain:{db.port}", "-l", "bench", gw.name)
    pa = open_forward(env, aware, la)
    pp = open_forward(env, plain, lp)
    sql = "SELECT id, v FROM t"
    variants = [("MySQL-aware tunnel", la, True), ("plain -L tunnel", lp, False)]
    secs = {n: [] for n, *_ in variants}
    try:
        for n, port, aw in variants:
            for _ in range(warmup):
                r = subprocess.run(db.client(port, aw, sql), capture_output=True,
                                   timeout=900)
                got = r.stdout.count(b"\n")
                if r.returncode != 0 or got != db.rows:
                    raise SystemExit(f"jumpgate: scenario 9 ({n}): {got} rows, "
                                     f"{r.stderr.decode(errors='replace')}")
        for i in range(runs):
            for n, port, aw in variants:
                t0 = time.monotonic()
                r = subprocess.run(db.client(port, aw, sql), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, timeout=900)
                secs[n].append(time.monotonic() - t0)
                if r.returncode != 0:
                    raise SystemExit(f"jumpgate: scenario 9 ({n}): "
                                     f"{r.stderr.decode(errors='replace')}")
            log(f"  run {i + 1}/{runs} done")
        lat = {n: round_trips(port, rtts, aw, db) for n, port, aw in variants}
    finally:
        stop(pa)
        stop(pp)
    med = {n: statistics.median(v) for n, v in secs.items()}
    ratio = med["plain -L tunnel"] / med["MySQL-aware tunnel"]
    p99 = {n: sorted(v)[min(len(v) - 1, int(round(0.99 * (len(v) - 1))))]
           for n, v in lat.items()}
    p50 = {n: statistics.median(v) for n, v in lat.items()}
    added = (p99["MySQL-aware tunnel"] - p99["plain -L tunnel"]) * 1000
    res.verdict("9 MySQL tunnel", f"SELECT {db.rows} rows: aware ÷ plain -L (throughput)",
                f"{ratio:.2f}×", "≥ 0.8×", ratio >= 0.8)
    res.verdict("9 MySQL tunnel", "statement latency added, p99", f"{added:+.3f} ms",
                "≤ 1 ms", added <= 1.0)
    rows = [(n, " ".join(db.client(port, aw, sql)), secs[n]) for n, port, aw in variants]
    table = ["| variant | median s | min–max s | rows/s (median) | runs |",
             "|---|---|---|---|---|"]
    for n, _cmd, s in rows:
        table.append(f"| {n} | {statistics.median(s):.2f} | {min(s):.2f}–{max(s):.2f} | "
                     f"{db.rows / statistics.median(s):,.0f} | {len(s)} |")
    lt = ["| variant | p50 ms | p99 ms | round trips |", "|---|---|---|---|"]
    for n in lat:
        lt.append(f"| {n} | {p50[n] * 1000:.3f} | {p99[n] * 1000:.3f} | {len(lat[n])} |")
    lines = [f"### 9. MySQL-aware tunnel (SELECT of {db.rows} rows; statement latency)", "",
             "Both tunnels through the same jumpgated to one MariaDB with TLS (its own CA): "
             "`db-aware` is `protocol: mysql` with `tls` and `auth: {password_file}` (the "
             "gateway signs in over TLS and logs every statement), `db-plain` a plain tcp "
             "target whose client speaks TLS to the database itself.", "",
             "```",
             f"# tunnels", c.show(aware), c.show(plain), "```", "",
             *commands_block(rows), "", *table, "",
             f"Ratio plain ÷ aware time (aware throughput against plain): **{ratio:.2f}×** "
             "(target ≥ 0.8×).", "",
             f"Statement latency: {rtts} `SELECT 1` round trips over one signed-in "
             "connection each (pymysql's packet reader, timed per statement):", "",
             *lt, "", f"Added at p99: **{added:+.3f} ms** (target ≤ 1 ms)."]
    res.section("\n".join(lines))
