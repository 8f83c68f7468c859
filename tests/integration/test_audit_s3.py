# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_audit_s3.py - `jumpgate audit ship` against s3rver
# (a real S3 store) and against the fake S3 that
# checks every signature with botocore: finished recordings (and the seal
# files of older asciicast ones) and past event-log days land byte for byte; a second pass uploads nothing;
# large files go multipart; a store that is down leaves everything for the
# next pass; a file changed after it landed is reported and kept apart;
# live recordings and today's log wait.
import json
import os

import pytest

from audit_fixtures import audit, rec_driver  # noqa: F401
from s3_fixtures import (BUCKET, FAKE_KEY, FAKE_SECRET, PREFIX, S3RVER_KEY,
                         ShipEnv, events_of, fake_s3, file_sha,  # noqa: F401
                         s3_get, s3_put, s3rver)

OUT = [(i * 0.2, "o", f"line {i} of the session\r\n") for i in range(10)]


def big_output(mib):
    """Events writing about mib MiB of random bytes (which do not
    compress, so the recording is as large)."""
    n = int(mib * 8) + 1
    return [(i * 0.01, "o", os.urandom(128 * 1024)) for i in range(n)]


@pytest.fixture
def ship(audit, s3rver):  # noqa: F811
    return ShipEnv(audit, s3rver.url, S3RVER_KEY, S3RVER_KEY)


def test_ship_once_lands_identical_bytes_then_nothing_again(ship, s3rver):
    a = ship.audit
    sid = a.record(OUT, start=ship.now_us())
    cast = a.rec(sid)
    day = ship.past_day()
    ship.today_event()
    rc, out, err = ship.ship("--once")
    assert rc == 0, err
    rels = [ship.rel(cast), ship.rel(day)]
    for rel in rels:
        assert f"shipped {rel} -> s3://{BUCKET}/{PREFIX}{rel}" in out
        got = s3_get(s3rver.url, PREFIX + rel)
        assert got == (a.dir / rel).read_bytes(), rel
    assert "Ship: 2 shipped, 0 already there" in out
    # today's log is still being written: not shipped
    today = sorted((a.dir / "events").glob("*.jsonl"))[-1]
    assert today != day
    assert s3_get(s3rver.url, PREFIX + ship.rel(today)) is None
    evs = events_of(a.dir, "audit.ship")
    assert sorted(e["file"] for e in evs) == sorted(rels)
    e = next(e for e in evs if e["file"] == ship.rel(cast))
    assert e["session"] == sid and e["bucket"] == BUCKET
    assert e["key"] == PREFIX + ship.rel(cast)
    assert e["sha256"] == file_sha(cast) and e["bytes"] == cast.stat().st_size
    assert len(ship.state_lines()) == 2
    stamps = {p: p.stat().st_mtime_ns for p in s3rver.dir.rglob("*")
              if p.is_file()}
    rc, out, err = ship.ship("--once", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["shipped"] == [] and doc["changed"] == []
    assert doc["failed"] == [] and doc["unchanged"] == 2
    assert any(w["file"] == ship.rel(today) for w in doc["waiting"])
    assert {p: p.stat().st_mtime_ns for p in s3rver.dir.rglob("*")
            if p.is_file()} == stamps
    assert len(ship.state_lines()) == 2
    assert len(events_of(a.dir, "audit.ship")) == 2


def test_large_recording_goes_multipart(ship, s3rver):
    ship.config(part_size=1)
    sid = ship.audit.record(big_output(2.5), start=ship.now_us())
    cast = ship.audit.rec(sid)
    assert cast.stat().st_size > 2 * 1024 * 1024
    rc, out, err = ship.ship("--once", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    got = {s["file"]: s for s in doc["shipped"]}
    c = got[ship.rel(cast)]
    assert c["parts"] == (cast.stat().st_size + (1 << 20) - 1) >> 20
    assert c["parts"] >= 3
    assert c["sha256"] == file_sha(cast)
    assert s3_get(s3rver.url, PREFIX + ship.rel(cast)) == cast.read_bytes()


def test_store_down_leaves_everything_for_the_next_pass(ship, s3rver):
    sid = ship.audit.record(OUT, start=ship.now_us())
    cast = ship.audit.rec(sid)
    s3rver.stop()
    try:
        rc, out, err = ship.ship("--once")
        assert rc == 1, (out, err)
        assert "left for the next pass" in err
        assert "Connection refused" in err or "connect" in err.lower()
        assert ship.state_lines() == []
        assert events_of(ship.audit.dir, "audit.ship") == []
    finally:
        s3rver.start()
    rc, out, err = ship.ship("--once")
    assert rc == 0, err
    assert s3_get(s3rver.url, PREFIX + ship.rel(cast)) == cast.read_bytes()
    assert len(ship.state_lines()) == 1


def test_changed_after_shipping_is_reported_and_kept_apart(ship, s3rver):
    day = ship.past_day(days=4)
    rc, out, err = ship.ship("--once")
    assert rc == 0, err
    rel = ship.rel(day)
    first = day.read_bytes()
    day.write_bytes(first.replace(b"event 1", b"event 7"))
    rc, out, err = ship.ship("--once", "--json")
    assert rc == 1, (out, err)
    assert f"{rel} CHANGED after it was shipped" in err
    assert "Tampering or a bug" in err
    doc = json.loads(out)
    [ch] = doc["changed"]
    now = file_sha(day)
    assert ch["file"] == rel and ch["landed"] is True
    assert ch["shipped"]["key"] == PREFIX + rel
    assert ch["now"]["sha256"] == now
    assert ch["new_key"] == f"{PREFIX}{rel}.changed-{now[:16]}"
    # the first copy stays; the new content sits beside it
    assert s3_get(s3rver.url, PREFIX + rel) == first
    assert s3_get(s3rver.url, ch["new_key"]) == day.read_bytes()
    [ev] = events_of(ship.audit.dir, "audit.ship.changed")
    assert ev["file"] == rel and ev["shipped_sha256"] == file_sha_bytes(first)
    assert ev["sha256"] == now and ev["new_key"] == ch["new_key"]
    rc, out, err = ship.ship("--once")
    assert rc == 0, err
    assert "0 shipped" in out and "CHANGED" not in err


def file_sha_bytes(b):
    import hashlib
    return hashlib.sha256(b).hexdigest()


def test_live_and_crashed_recordings_wait(ship, s3rver):
    sid = ship.audit.record(OUT, start=ship.now_us(), close=False)
    cast = ship.audit.rec(sid)
    rc, out, err = ship.ship("--once", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    w = {x["file"]: x["reason"] for x in doc["waiting"]}
    assert "no final seal" in w[ship.rel(cast)]
    assert s3_get(s3rver.url, PREFIX + ship.rel(cast)) is None


def test_asciicast_recordings_ship_with_their_seal_files(ship, s3rver):
    import shutil
    from pathlib import Path
    data = Path(__file__).resolve().parents[1] / "data" / "asciicast-v1"
    shutil.copytree(data / "sessions", ship.audit.dir / "sessions",
                    dirs_exist_ok=True)
    done, crashed = data.joinpath("ids").read_text().split()
    rc, out, err = ship.ship("--once", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    cast = next((ship.audit.dir / "sessions").glob(f"*/{done}.cast"))
    for rel in (ship.rel(cast), ship.rel(cast) + ".seal"):
        assert s3_get(s3rver.url, PREFIX + rel) == \
            (ship.audit.dir / rel).read_bytes()
    assert any(crashed in w["file"] for w in doc["waiting"])


def test_unsealed_past_day_waits_for_its_seal(ship, s3rver):
    t = (ship.now_us() // (86400 * 1000000) - 2) * 86400 * 1000000
    ship.audit.event(t, type="auth.success", user="carol")
    rc, out, err = ship.ship("--once", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    [w] = [x for x in doc["waiting"] if x["file"].startswith("events/")]
    assert "day-end seal" in w["reason"]
    ship.today_event()   # the writer seals the past day as it starts today
    rc, out, err = ship.ship("--once", "--json")
    assert rc == 0, err
    assert [s["file"] for s in json.loads(out)["shipped"]] == [w["file"]]


def seal_lines(day):
    return b"".join(x for x in day.read_bytes().splitlines(keepends=True)
                    if json.loads(x)["type"] == "seal")


def test_seal_lines_in_s3_prove_nothing_was_cut(ship, s3rver):
    a = ship.audit
    ship.today_event()
    rc, out, err = ship.ship("--once")
    assert rc == 0, err
    today = sorted((a.dir / "events").glob("*.jsonl"))[-1]
    key = f"{PREFIX}seals/{today.name}"
    n = len(seal_lines(today).splitlines())
    assert n >= 1
    assert (f"shipped the seal lines of events/{today.name} -> "
            f"s3://{BUCKET}/{key} ({n} line") in out
    assert s3_get(s3rver.url, key) == seal_lines(today)
    verify = ("audit", "verify", "--all", "--against-s3")
    rc, out, err = a.env.run(*verify, env=ship.vars)
    assert rc == 0, out + err
    assert (f"seal lines in s3://{BUCKET}: all {n} (of 1 day) are in the "
            "local log") in out
    # The day goes on: the object is uploaded again with the new seals.
    for _ in range(2):
        ship.today_event()
        a.seal(ship.now_us())
    rc, out, err = ship.ship("--once", "--json")
    assert rc == 0, err
    [sl] = json.loads(out)["seals"]
    assert sl["key"] == key and sl["lines"] == n + 2
    assert s3_get(s3rver.url, key) == seal_lines(today)
    # Cut the newest events off right after a seal: the chain that is left
    # is whole, but the checkpoints shipped since are not in it.
    ls = today.read_bytes().splitlines(keepends=True)
    first = next(i for i, x in enumerate(ls) if json.loads(x)["type"] == "seal")
    today.write_bytes(b"".join(ls[:first + 1]))
    rc, out, err = a.env.run("audit", "verify", "--all", env=ship.vars)
    assert "event log: intact" in out, out + err
    rc, out, err = a.env.run(*verify, env=ship.vars)
    assert rc == 1, out + err
    assert (f"seal lines in s3://{BUCKET}: the local log does NOT hold all "
            f"{n + 2} (of 1 day)") in out
    assert (f"events/{today.name}: the checkpoint shipped as "
            f"s3://{BUCKET}/{key} line 2 (seq ") in out
    assert "lines were cut off or changed after it was shipped" in out
    assert "and 1 later shipped checkpoint of that day is missing too" in out
    # A whole day file removed shows too.
    today.unlink()
    rc, out, err = a.env.run(*verify, env=ship.vars)
    assert rc == 1 and f"events/{today.name}: the checkpoint shipped" in out


def test_seal_lines_that_are_not_genuine_are_refused(ship, s3rver):
    a = ship.audit
    ship.today_event()
    rc, out, err = ship.ship("--once")
    assert rc == 0, err
    today = sorted((a.dir / "events").glob("*.jsonl"))[-1]
    key = f"{PREFIX}seals/{today.name}"
    forged = seal_lines(today).replace(b'"sig":"', b'"sig":"A', 1)
    s3_put(s3rver.url, key, forged)
    rc, out, err = a.env.run("audit", "verify", "--all", "--against-s3",
                             env=ship.vars)
    assert rc == 1, out + err
    assert (f"s3://{BUCKET}/{key}:1: not a seal made with this key: the "
            "shipped copy is not genuine") in out


# ---- against the fake S3: every request's SigV4 checked by botocore ------

@pytest.fixture
def fship(audit, fake_s3):  # noqa: F811
    return ShipEnv(audit, fake_s3.url, FAKE_KEY, FAKE_SECRET, part_size=1)


def test_every_request_is_signed_as_botocore_computes(fship, fake_s3):
    st = fake_s3.state
    small = fship.audit.record(OUT, start=fship.now_us())
    big = fship.audit.record(big_output(2.2), start=fship.now_us())
    rc, out, err = fship.ship("--once")
    assert rc == 0, err
    assert st.auth_failures == 0
    ops = st.ops()
    for op in ("PutObject", "CreateMultipartUpload", "UploadPart",
               "CompleteMultipartUpload"):
        assert op in ops, ops
    for sid in (small, big):
        cast = fship.audit.rec(sid)
        key = PREFIX + fship.rel(cast)
        assert st.objects[(BUCKET, key)] == cast.read_bytes()


def test_a_wrong_signature_is_refused_and_nothing_recorded(fship, fake_s3):
    fship.audit.record(OUT, start=fship.now_us())
    rc, out, err = fship.ship("--once",
                              env={"AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    assert rc == 1, (out, err)
    assert fake_s3.state.auth_failures >= 1
    assert "SignatureDoesNotMatch" in err and "(request " in err
    assert "HTTP 403" in err
    assert "not-the-secret" not in err + out
    assert fship.state_lines() == []
    assert fake_s3.state.objects == {}


def test_a_wrong_etag_is_refused(fship, fake_s3):
    st = fake_s3.state
    st.bad_etag = {"PutObject", "UploadPart"}
    fship.audit.record(OUT, start=fship.now_us())
    fship.audit.record(big_output(1.5), start=fship.now_us())
    rc, out, err = fship.ship("--once")
    assert rc == 1, (out, err)
    assert "is not the MD5 of what was sent" in err
    assert fship.state_lines() == []
    assert st.aborted, "the multipart upload was not aborted"
    assert st.uploads == {}
    st.bad_etag = set()
    rc, out, err = fship.ship("--once")
    assert rc == 0, err
    assert len(fship.state_lines()) == 2


def test_throttling_and_errors_inside_200_are_retried(fship, fake_s3):
    st = fake_s3.state
    st.inject = [("PutObject", 503, "SlowDown"),
                 ("UploadPart", 500, "InternalError")]
    st.complete_error = 1
    fship.audit.record(OUT, start=fship.now_us())
    fship.audit.record(big_output(1.5), start=fship.now_us())
    rc, out, err = fship.ship("--once")
    assert rc == 0, err
    assert st.inject == [] and st.complete_error == 0
    assert len(fship.state_lines()) == 2


def test_refusals_name_code_and_request(fship, fake_s3):
    fake_s3.state.buckets.clear()
    fship.audit.record(OUT, start=fship.now_us())
    rc, out, err = fship.ship("--once")
    assert rc == 1
    assert "S3 PutObject" in err and "NoSuchBucket" in err
    assert "(request " in err and "HTTP 404" in err


def test_configuration_problems_exit_2(fship, fake_s3):
    fship.config(s3=False)
    rc, out, err = fship.ship("--once")
    assert rc == 2 and "no audit.s3" in err
    fship.config(part_size=1)
    rc, out, err = fship.ship("--once", env={"AWS_ENDPOINT_URL_S3": ""})
    assert rc == 2 and "at least 5 MiB" in err
    fship.audit.record(OUT, start=fship.now_us())
    rc, out, err = fship.ship("--once", env={"AWS_ACCESS_KEY_ID": "",
                                             "AWS_SECRET_ACCESS_KEY": ""})
    assert rc == 2 and "no AWS credentials" in err
    rc, out, err = fship.ship("--once", "extra")
    assert rc == 2 and "usage:" in err
    assert os.path.exists(fship.audit.dir)
