# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_metrics_scrape.py - a real Prometheus scrapes a
# running jumpgated's /metrics (metrics: {listen: ...}) with the packaged
# rules loaded, and finds the series of the metrics contract that the test's
# sessions, denials and reload produce.
import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import Gateway, free_port, policy_text, wait_port
from metrics_contract import GATEWAY_METRICS

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "packaging" / "prometheus" / "jumpgate.rules.yml"


def metrics_gateway(env, base, port):
    """The standard test gateway with a metrics listener on port."""
    return Gateway(env, base, policy_text(env),
                   config_extra=f'metrics: {{listen: "127.0.0.1:{port}"}}\n')


def api(port, path, **params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as r:
        doc = json.load(r)
    assert doc["status"] == "success", doc
    return doc["data"]


def wait_query(port, query, pred, timeout=30.0):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = api(port, "query", query=query)["result"]
            if pred(last):
                return last
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{query}: {last}")


def test_prometheus_scrapes_the_contract(gw_env, tmp_path):
    mport = free_port()
    gw = metrics_gateway(gw_env, tmp_path / "gw", mport)
    prom = None
    try:
        wait_port(mport, proc=gw.proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as r:
            text = r.read().decode()
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{mport}/other", timeout=5)
        assert e.value.code == 404
        for name in GATEWAY_METRICS:
            assert f"# TYPE {name} " in text and f"# HELP {name} " in text, name

        pport = free_port()
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text(f"""\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{RULES}]
scrape_configs:
  - job_name: jumpgated
    static_configs: [{{targets: ["127.0.0.1:{mport}"]}}]
""")
        plog = open(tmp_path / "prometheus.log", "w")
        prom = subprocess.Popen(
            ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path}/tsdb",
             f"--web.listen-address=127.0.0.1:{pport}"],
            stdout=plog, stderr=subprocess.STDOUT)
        wait_port(pport, proc=prom, timeout=30)
        wait_query(pport, 'up{job="jumpgated"}',
                   lambda r: r and r[0]["value"][1] == "1")

        # Traffic for the labelled series: an allowed exec held open, a
        # denied session, a forward, a failed key, a reload.
        held = subprocess.Popen(gw.ssh_args("alice:web-1") + ["echo traffic; sleep 8"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_query(pport, 'jumpgate_sessions_active{action="exec"}',
                       lambda r: r and float(r[0]["value"][1]) >= 1)
        finally:
            held.wait(timeout=30)
        assert gw.ssh("bob:monitor", "true", key="bob").returncode != 0
        assert gw.ssh("alice:web-1", "true", key="bob").returncode != 0
        gw.sighup()
        assert gw.wait_log("reloaded")

        for name, query in [
            ("jumpgate_build_info", 'jumpgate_build_info{version!=""}'),
            ("process_start_time_seconds", "process_start_time_seconds > 0"),
            ("jumpgate_connections_total", 'jumpgate_connections_total{result="accepted"} > 0'),
            ("jumpgate_sessions_total",
             'jumpgate_sessions_total{action="exec", result="allowed"} > 0'),
            ("jumpgate_auth_attempts_total",
             'jumpgate_auth_attempts_total{method="publickey", result="success"} > 0'),
            ("jumpgate_policy_denials_total", "jumpgate_policy_denials_total > 0"),
            ("jumpgate_bytes_total", "jumpgate_bytes_total > 0"),
            ("jumpgate_policy_reloads_total",
             'jumpgate_policy_reloads_total{result="success"} > 0'),
            ("jumpgate_auth_bans_active", "jumpgate_auth_bans_active"),
            ("jumpgate_auth_bans_total", "jumpgate_auth_bans_total"),
            ("jumpgate_forward_channels_active", "jumpgate_forward_channels_active"),
            ("jumpgate_audit_write_errors_total", "jumpgate_audit_write_errors_total == 0"),
        ]:
            wait_query(pport, query, lambda r: len(r) > 0)
            assert api(pport, "series", **{"match[]": name}), name
        # The packaged recording rules evaluate over the scraped series.
        wait_query(pport, "jumpgate:bytes:rate5m", lambda r: len(r) > 0)
    finally:
        stop(prom)
        gw.stop()
