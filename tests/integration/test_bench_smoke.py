# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_bench_smoke.py - `make bench`'s harness at tiny
# sizes, so it cannot rot: it must set up the OpenSSH baselines and
# jumpgated, run every scenario, clean up after itself, and write a
# well-formed results file (into a temporary folder, never the committed
# tests/bench/RESULTS.md). No figure is judged here: performance belongs
# to `make bench`.
import os
import pwd
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("JG_BUILD", ROOT / "build")).resolve()
COMMITTED = ROOT / "tests" / "bench" / "RESULTS.md"

TINY = {"BENCH_SCALE": "0.002", "BENCH_RUNS": "1", "BENCH_WARMUP": "1",
        "BENCH_CONNECTS": "2", "BENCH_KEYS": "10", "BENCH_MEM_SESSIONS": "2",
        "BENCH_IDLE": "4", "BENCH_STREAM": "2", "BENCH_STREAM_MIB": "1",
        "BENCH_TLOG_MIB": "1", "BENCH_TLOG_RUNS": "1", "BENCH_PERF": "0",
        "BENCH_LOAD_RUNS": "1", "BENCH_DECISIONS": "1000"}


def account_exists():
    try:
        pwd.getpwnam("jgbench")
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the SSH benchmarks run as root")
    had_account = account_exists()
    before = COMMITTED.read_bytes() if COMMITTED.exists() else None
    subprocess.run(["make", "-s", "-C", str(ROOT), f"BUILD={BUILD}",
                    f"{BUILD}/tests/bench/bench_policy"], check=True,
                   capture_output=True, timeout=300)
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    env = dict(os.environ, BENCH_OUT=str(out), **TINY)
    p = subprocess.run([str(ROOT / "tests" / "bench" / "run.sh"), str(BUILD)],
                       env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    yield {"text": out.read_text(), "before": before, "had_account": had_account,
           "log": p.stderr}


def test_committed_results_untouched(results):
    after = COMMITTED.read_bytes() if COMMITTED.exists() else None
    assert after == results["before"]


def test_account_removed(results):
    if not results["had_account"]:
        assert not account_exists(), "the bench left the jgbench account behind"


def test_every_section_present(results):
    text = results["text"]
    for heading in ("# Benchmark results", "## Machine", "## Policy engine",
                    "## SSH: jumpgated against OpenSSH", "### Summary",
                    "### What falls short, and why",
                    "### Key exchange and cipher negotiated on each leg"):
        assert heading in text, heading
    for n in range(1, 10):
        assert re.search(rf"^### {n}\. ", text, re.M), f"scenario {n} is missing"


def test_machine_and_versions(results):
    text = results["text"]
    assert re.search(r"^- cores: \d+", text, re.M)
    assert re.search(r"^- kernel: Linux ", text, re.M)
    assert re.search(r"^- OpenSSH: OpenSSH_\d", text, re.M)
    assert re.search(r"^- libssh: \d+\.\d+", text, re.M)
    assert re.search(r"^- OpenSSL: OpenSSL \d", text, re.M)


def test_kex_of_each_jumpgated_leg_is_post_quantum(results):
    text = results["text"].split("### Key exchange and cipher negotiated", 1)[1]
    row = next(ln for ln in text.splitlines() if ln.startswith("| jumpgated"))
    legs = [c.strip() for c in row.split("|")[2:4]]
    for leg in legs:
        assert re.match(r"(mlkem768x25519|sntrup761x25519)\S*, \S+", leg), row


def test_summary_rows_judged(results):
    text = results["text"]
    summary = text.split("### Summary", 1)[1].split("###", 1)[0]
    rows = [ln for ln in summary.splitlines() if ln.startswith("| ") and
            not ln.startswith("| scenario")]
    scenarios = {r.split("|")[1].strip().split()[0] for r in rows}
    assert scenarios == {"1", "2", "3", "4", "5", "6", "7", "8", "9"}
    for r in rows:
        assert r.rstrip().endswith(("| met |", "| MISSED |")), r
    # The concurrency run is judged on correctness, which tiny sizes keep.
    assert any(r.startswith("| 7 ") and r.rstrip().endswith("| met |") for r in rows)


def test_recording_cost_accounted(results):
    """Section 8 judges recorded ÷ unrecorded for zeros, text and random
    bytes, shows the CPU time of each kind of run, and what each payload
    and a pty shell session take on disk."""
    block = results["text"].split("### 8. Recording overhead", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| (zeros|text|random), (recorded|recording off) \| (\d+\.\d\d) \| "
                      r"(\d+\.\d\d) \| (\d+)% \|$", block, re.M)
    assert {(k, w) for k, w, *_ in rows} == {(k, w) for k in ("zeros", "text", "random")
                                             for w in ("recorded", "recording off")}
    for _k, _w, elapsed, busy, idle in rows:
        assert float(elapsed) > 0 and float(busy) >= 0 and 0 <= int(idle) <= 100
    disk = re.findall(r"^\| (zeros|text|random|scripted pty shell[^|]*) \| (\d+) \| (\d+) \| "
                      r"(\d+\.\d\d) MiB \| (\d+|–) \|$", block, re.M)
    assert {d[0].split(" (")[0] for d in disk} == {"zeros", "text", "random",
                                                   "scripted pty shell"}, block
    for kind, raw, size, per_gib, seals in disk:
        # Every recording holds at least its header and two seals; random
        # bytes cannot take less room than they are.
        assert int(size) > 0
        if kind == "random":
            assert int(size) >= int(raw)
        if seals != "–":
            assert int(seals) >= 2
    summary = results["text"].split("### Summary", 1)[1].split("###", 1)[0]
    for k in ("zeros", "text", "random"):
        assert f"| 8 recording | recorded ÷ recording off ({k}) |" in summary
        assert f"| 1 bulk exec | {k}: jumpgated recorded ÷ OpenSSH double hop |" in summary
