# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_audit_evidence.py - `audit export ID --evidence`:
# the archive unpacks with tar, its NOTE says how to verify it, and
# `audit verify --dir` proves it offline with the key inside (no
# configuration): the recording, the slice of the event log's chain and the
# session's lines in it; every kind of tampering with them is reported.
import json
import subprocess

import pytest

from audit_fixtures import T0, audit, rec_driver  # noqa: F401


def make_session(audit):
    # the log began before the session: its slice starts in the middle
    for i in range(5):
        audit.event(T0 - 1000 + i, type="auth.success", user="dave")
    sid = audit.record([(0.1, "o", "$ mysqldump shop | gzip\r\n"),
                        (0.2, "o", b"\x1f\x8b\x08\x00binary"), (0.3, "x", 0)],
                       action="exec", command="mysqldump shop | gzip")
    audit.event(T0 + 100_000, type="exec", session=sid, user="alice",
                target="web-1", extra={"command": "mysqldump shop | gzip"})
    # another user's events in between: in the chain, not the session's
    audit.event(T0 + 150_000, type="auth.success", user="bob")
    audit.event(T0 + 200_000, type="sftp.open", user="bob",
                extra={"path": "/srv/other"})
    audit.event(T0 + 400_000, type="session.end", session=sid, user="alice",
                target="web-1", extra={"exit_status": 0})
    audit.event(T0 + 500_000, type="auth.success", user="carol")
    audit.seal(T0 + 600_000)
    return sid


def unpack(audit, sid, tmp_path):
    out = audit.export(sid, "--evidence")
    (tmp_path / "e.tar.gz").write_bytes(out)
    subprocess.run(["tar", "xzf", "e.tar.gz"], cwd=tmp_path, check=True)
    return tmp_path / f"jumpgate-evidence-{sid}"


def verify(audit, d):
    return audit.env.run("audit", "verify", "--dir", d, "--key",
                         d / "audit-signing.pub", config=False)


def test_evidence_archive_verifies_offline(audit, tmp_path):
    sid = make_session(audit)
    d = unpack(audit, sid, tmp_path)
    man = json.loads((d / "EVIDENCE").read_text())
    assert man["session"] == sid and man["excerpt_proven"] is True
    assert man["recording"].startswith("sessions/") and (d / man["recording"]).exists()
    note = (d / "NOTE.txt").read_text()
    assert f"jumpgate audit verify --dir jumpgate-evidence-{sid}" in note
    assert (d / "audit-signing.pub").read_bytes() == audit.pub.read_bytes()
    lines = (d / "session-events.jsonl").read_text().splitlines()
    assert [json.loads(l)["type"] for l in lines] == ["exec", "session.end"]
    # the chain from the session's first line to the seal after its last
    chain = [json.loads(l) for f in sorted((d / "events").iterdir())
             for l in f.read_text().splitlines()]
    assert chain[0]["session"] == sid and chain[-1]["type"] == "seal"
    assert chain[0]["seq"] == man["events"]["seq"] > 1
    rc, out, err = verify(audit, d)
    assert rc == 0, out + err
    assert f"evidence of session {sid}" in out
    assert f"{sid}: intact" in out
    assert "event log slice: intact" in out
    assert "session events: 2 line(s), all in the slice" in out


def flip(path, old, new):
    b = path.read_bytes()
    assert old in b
    path.write_bytes(b.replace(old, new, 1))


@pytest.mark.parametrize("case", ["recording", "excerpt-changed",
                                  "excerpt-removed", "excerpt-added",
                                  "chain", "chain-cut"])
def test_evidence_tampering_is_reported(audit, tmp_path, case):
    sid = make_session(audit)
    other = audit.record([(0.1, "o", "x\r\n")], start=T0 + 9_000_000)
    d = unpack(audit, sid, tmp_path)
    ex = d / "session-events.jsonl"
    day = sorted((d / "events").iterdir())[0]
    if case == "recording":
        rec = d / json.loads((d / "EVIDENCE").read_text())["recording"]
        b = bytearray(rec.read_bytes())
        b[len(b) // 2] ^= 1
        rec.write_bytes(bytes(b))
        want = f"{sid}: NOT intact"
    elif case == "excerpt-changed":
        flip(ex, b"mysqldump shop", b"ls          ")
        want = "not a line of the session in the chain"
    elif case == "excerpt-removed":
        ex.write_text(ex.read_text().splitlines(keepends=True)[0])
        want = "1 line(s) of the session in the chain under events/ are not here"
    elif case == "excerpt-added":
        with day.open() as f:
            bobs = [l for l in f if '"user":"bob"' in l]
        ex.write_text(ex.read_text() + bobs[0])
        want = "not a line of the session in the chain"
    elif case == "chain":
        flip(day, b'"user":"bob"', b'"user":"eve"')
        want = "event log slice: NOT intact"
    else:
        day.write_text("".join(day.read_text().splitlines(keepends=True)[:-1]))
        want = "event log slice: NOT intact"
    rc, out, err = verify(audit, d)
    assert rc == 1 and want in out, out + err
    # a recording of another session slipped in is named
    if case == "recording":
        src = audit.rec(other)
        dst = d / "sessions" / src.parent.name / src.name
        dst.parent.mkdir(exist_ok=True)
        dst.write_bytes(src.read_bytes())
        rc, out, _ = verify(audit, d)
        assert rc == 1 and f"{other}: a recording of another session" in out


def test_evidence_refuses_a_terminal_and_unknown_sessions(audit):
    make_session(audit)
    rc, out, err = audit.run("export", "01890000-0000-7000-8000-000000000000",
                             "--evidence")
    assert rc == 2 and "no session 01890000-0000-7000-8000-000000000000" in err
    rc, _, err = audit.run("export", "x", "--evidence", "--format", "raw")
    assert rc == 2 and "--evidence is an archive of its own" in err
