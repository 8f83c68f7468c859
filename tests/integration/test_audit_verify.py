# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_audit_verify.py - the tamper matrix against
# `jumpgate audit verify`: exit 0 only for an intact record, 1 with where
# for anything altered or unproven, 2 for usage and missing keys.
import json
import shutil

import pytest

from audit_fixtures import T0, audit, rec_driver  # noqa: F401

EVENTS = [(i * 0.3, "o", f"line {i} of the session\r\n") for i in range(12)]


def lines(p):
    return p.read_bytes().split(b"\n")[:-1]


def write_lines(p, ls):
    p.write_bytes(b"".join(x + b"\n" for x in ls))


def flip(p, at):
    b = bytearray(p.read_bytes())
    b[at] ^= 0x01
    p.write_bytes(bytes(b))


TAMPER = {
    "byte-flip": lambda p: flip(p, p.stat().st_size // 2),
    "deleted-line": lambda p: write_lines(p, lines(p)[:3] + lines(p)[4:]),
    "duplicated-line": lambda p: write_lines(
        p, lines(p)[:4] + [lines(p)[3]] + lines(p)[4:]),
    "reordered-lines": lambda p: write_lines(
        p, lines(p)[:3] + [lines(p)[4], lines(p)[3]] + lines(p)[5:]),
    "appended-junk": lambda p: p.write_bytes(
        p.read_bytes() + b'[9.0, "o", "rm -rf /"]\n'),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:-40]),
    "missing-seal": lambda p: p.with_name(p.name + ".seal").unlink(),
    "seal-line-removed": lambda p: write_lines(
        p.with_name(p.name + ".seal"),
        lines(p.with_name(p.name + ".seal"))[1:]),
}


def test_intact_recording_exit_0(audit):
    sid = audit.record(EVENTS)
    rc, out, err = audit.run("verify", sid)
    assert rc == 0, out + err
    assert f"{sid}: intact" in out


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampered_recording_exit_1(audit, case):
    sid = audit.record(EVENTS)
    TAMPER[case](audit.cast(sid))
    rc, out, err = audit.run("verify", sid)
    assert rc == 1, out + err
    assert "NOT intact" in out and "intact (" not in out
    assert ".cast" in out  # names the file
    if case not in ("missing-seal",):
        assert ":" in out.split("\n", 1)[1]


def test_tamper_messages_say_where(audit):
    sid = audit.record(EVENTS)
    p = audit.cast(sid)
    p.write_bytes(p.read_bytes() + b"junk\n")
    rc, out, _ = audit.run("verify", sid)
    assert rc == 1 and "appended" in out and "after the final seal" in out
    sid = audit.record(EVENTS)
    p = audit.cast(sid)
    p.write_bytes(p.read_bytes()[:-40])
    rc, out, _ = audit.run("verify", sid)
    assert rc == 1 and "truncated" in out
    sid = audit.record(EVENTS)
    p = audit.cast(sid)
    flip(p, p.stat().st_size // 2)
    rc, out, _ = audit.run("verify", sid)
    assert rc == 1 and "changed between byte" in out and "lines" in out


def test_swapped_files_between_sessions(audit):
    a = audit.record(EVENTS)
    b = audit.record(EVENTS[:5])
    pa, pb = audit.cast(a), audit.cast(b)
    # Swap the recordings with their seals: each is validly signed, but
    # for the other session.
    tmp = pa.with_name("tmp")
    for suffix in ("", ".seal"):
        x, y = pa.with_name(pa.name + suffix), pb.with_name(pb.name + suffix)
        shutil.move(x, tmp)
        shutil.move(y, x)
        shutil.move(tmp, y)
    rc, out, err = audit.run("verify", a, b)
    assert rc == 1, out + err
    assert "another recording" in out and "header names session" in out
    assert "intact (" not in out


def test_crash_reports_unsealed_tail_never_intact(audit):
    # Data after the last checkpoint, no final seal: what a crash leaves.
    evs = [(0.1, "o", "before\r\n"), (2.0, "o", "sealed by time\r\n"),
           (2.1, "o", "not yet sealed\r\n")]
    sid = audit.record(evs, close=False)
    rc, out, err = audit.run("verify", sid)
    assert rc == 1, out + err
    assert "bytes after the last seal" in out and "not sealed" in out
    assert "are sealed and intact" in out
    assert "intact (" not in out


def test_crash_right_after_checkpoint_still_not_intact(audit):
    sid = audit.record([(2.0, "o", "x\r\n"), (3.5, "t", None)], close=False)
    rc, out, _ = audit.run("verify", sid)
    assert rc == 1 and "no final seal" in out


def test_verify_all_covers_event_log(audit):
    audit.record(EVENTS)
    for i in range(6):
        audit.event(T0 + i, type="auth.success", user="alice")
    audit.seal(T0 + 10)
    rc, out, err = audit.run("verify", "--all")
    assert rc == 0, out + err
    assert "event log: intact" in out
    day = next((audit.dir / "events").iterdir())
    ls = lines(day)
    write_lines(day, ls[:2] + ls[3:])
    rc, out, _ = audit.run("verify")
    assert rc == 1 and "event log: NOT intact" in out
    assert f"events/{day.name}:3: prev does not match" in out


def test_no_public_key_is_exit_2_naming_the_path(audit):
    sid = audit.record(EVENTS)
    audit.pub.unlink()
    rc, out, err = audit.run("verify", sid)
    assert rc == 2 and str(audit.pub) in err and "no public key" in err


def test_other_key_is_not_intact(audit, tmp_path):
    sid = audit.record(EVENTS)
    other = tmp_path / "other.pem"
    audit.env.config.write_text(audit.env.config.read_text().replace(
        str(audit.key), str(other)))
    rc, _, err = audit.run("keygen")
    assert rc == 0, err
    rc, out, _ = audit.run("verify", sid)
    assert rc == 1 and "another key" in out
    # An auditor with only the right public key and a copy of the files.
    rc, out, err = audit.env.run("audit", "verify", "--key", str(audit.pub),
                                 "--dir", str(audit.dir), sid, config=False)
    assert rc == 0, out + err


def test_unknown_id_and_usage(audit):
    audit.record(EVENTS)
    rc, _, err = audit.run("verify", "nonsense")
    assert rc == 2 and "not a session id" in err
    rc, _, err = audit.run("verify", "--all", "0190b6f0-0000-7000-8000-000000000000")
    assert rc == 2


def test_recording_deleted_with_its_seal_is_missing(audit):
    sid = audit.record(EVENTS)
    cast = audit.cast(sid)
    audit.event(T0 + 1, type="session.start", session=sid, user="alice",
                extra={"recording": str(cast), "record_input": False})
    # SFTP: the event says nothing was recorded; not a finding.
    audit.event(T0 + 2, type="session.start",
                session="019ac3a0-8b40-7555-9d5d-0a13509593ff", user="bob",
                extra={"recording": None})
    audit.seal(T0 + 3)
    rc, out, err = audit.run("verify", "--all")
    assert rc == 0, out + err
    assert "recordings named by the event log: all 1 present" in out
    cast.unlink()
    cast.with_name(cast.name + ".seal").unlink()
    rc, out, err = audit.run("verify", "--all")
    assert rc == 1, out + err
    assert "recordings named by the event log: 1 of 1 MISSING" in out
    day = next((audit.dir / "events").iterdir())
    assert (f"events/{day.name}:1: the recording of session {sid} is "
            f"missing ({cast} was removed") in out
    assert "019ac3a0-8b40-7555-9d5d-0a13509593ff" not in out


def test_partial_line_cut_by_next_writer_is_a_recorded_gap(audit):
    for i in range(3):
        audit.event(T0 + i, type="auth.success", user="alice")
    audit.seal(T0 + 10)
    day = next((audit.dir / "events").iterdir())
    size = day.stat().st_size
    # What a write cut short by a full disk (or a crash) leaves behind.
    with open(day, "ab") as f:
        f.write(b'{"seq":5,"time":"2026-11-27T00:00:00.0000')
    audit.event(T0 + 20, type="auth.success", user="carol")
    audit.seal(T0 + 21)
    rc, out, err = audit.run("verify", "--all")
    assert rc == 0, out + err
    assert "event log: intact (1 files, 7 lines, 2 seals, 1 recorded gap)" in out
    assert (f"events/{day.name}:5: recorded gap: an incomplete line of 41 "
            f"bytes was cut off events/{day.name} at byte {size}") in out
    # Every line of the file is whole again: the gap event took its place.
    gap = [json.loads(x) for x in lines(day)][4]
    assert gap["type"] == "audit.gap" and gap["bytes"] == 41
    assert gap["offset"] == size and gap["file"] == f"events/{day.name}"


def test_missing_time_between_timed_seals_is_a_warning(audit):
    s = 1000000
    audit.timed_seal(T0, 60)
    audit.event(T0 + 10 * s, type="auth.success", user="alice")
    audit.timed_seal(T0 + 60 * s, 60)
    # Events between here and the next timed seal were cut off, and the
    # writer went on from the cut.
    audit.timed_seal(T0 + 600 * s, 60)
    audit.timed_seal(T0 + 610 * s, 0)    # stopped cleanly
    rc, out, err = audit.run("verify", "--all")
    assert rc == 0, out + err
    assert "event log: intact (1 files, 5 lines, 4 seals); WARNING: missing time" in out
    day = next((audit.dir / "events").iterdir())
    assert (f"events/{day.name}:4: WARNING: missing time: no timed seal from "
            "2026-11-27T00:01:00.000000Z to 2026-11-27T00:10:00.000000Z (540 s;"
            " one was promised within 60 s)") in out
    rc, out, err = audit.run("verify", "--all", "--strict")
    assert rc == 1, out + err


def test_cut_after_a_timed_seal_shows_as_missing_time(audit):
    s = 1000000
    audit.timed_seal(T0, 60)
    audit.event(T0 + 10 * s, type="auth.success", user="alice")
    audit.timed_seal(T0 + 60 * s, 60)
    day = next((audit.dir / "events").iterdir())
    # Everything after the first timed seal is cut off: the chain is
    # whole, but the promise of a seal within 60 s ran out long ago.
    write_lines(day, lines(day)[:1])
    rc, out, err = audit.run("verify", "--all")
    assert rc == 0, out + err
    assert (f"events/{day.name}:1: WARNING: missing time: this timed seal "
            "(2026-11-27T00:00:00.000000Z) promised the next within 60 s, "
            "and none followed by") in out
    rc, out, err = audit.run("verify", "--all", "--strict")
    assert rc == 1, out + err
