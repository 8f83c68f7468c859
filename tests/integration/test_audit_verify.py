# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_audit_verify.py - the tamper matrix against
# `jumpgate audit verify`: exit 0 only for an intact record, 1 with where
# for anything altered or unproven, 2 for usage and missing keys.
import json
import shutil
import struct

import pytest

from audit_fixtures import T0, audit, rec_driver  # noqa: F401

# Twelve lines, a block each (the ticks hand them over), sealed by time.
EVENTS = [ev for i in range(12)
          for ev in ((i * 0.3, "o", f"line {i} of the session\r\n"),
                     (i * 0.3 + 0.01, "t", None))]
MAGIC = b"JGREC1\n\0"


def frames(p):
    """The frames of a .jgr: (type, whole frame bytes)."""
    b = p.read_bytes()
    assert b[:8] == MAGIC
    out, at = [], 8
    while at < len(b):
        n = 12 + struct.unpack_from("<I", b, at + 4)[0]
        out.append((chr(b[at]), b[at:at + n]))
        at += n
    return out


def write_frames(p, fs):
    p.write_bytes(MAGIC + b"".join(f for _, f in fs))


def nth(fs, kind, i):
    """Index in fs of the i-th frame of kind."""
    return [j for j, (t, _) in enumerate(fs) if t == kind][i]


def lines(p):
    return p.read_bytes().split(b"\n")[:-1]


def write_lines(p, ls):
    p.write_bytes(b"".join(x + b"\n" for x in ls))


def flip(p, at):
    b = bytearray(p.read_bytes())
    b[at] ^= 0x01
    p.write_bytes(bytes(b))


def edit(p, how):
    fs = frames(p)
    d = nth(fs, "D", 3)
    write_frames(p, how(fs, d))


TAMPER = {
    "byte-flip": lambda p: flip(p, p.stat().st_size // 2),
    "deleted-block": lambda p: edit(p, lambda fs, d: fs[:d] + fs[d + 1:]),
    "duplicated-block": lambda p: edit(
        p, lambda fs, d: fs[:d + 1] + [fs[d]] + fs[d + 1:]),
    "reordered-blocks": lambda p: edit(
        p, lambda fs, d: fs[:d] + [fs[d + 1], fs[d]] + fs[d + 2:]
        if fs[d + 1][0] == "D" else fs[:d - 1] + [fs[d], fs[d - 1]] + fs[d + 1:]),
    "appended-junk": lambda p: p.write_bytes(
        p.read_bytes() + b"D\0\0\0\x05\0\0\0\x05\0\0\0rm -r"),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:-40]),
    "seal-removed": lambda p: edit(
        p, lambda fs, d: fs[:nth(fs, "S", 2)] + fs[nth(fs, "S", 2) + 1:]),
    "final-seal-removed": lambda p: write_frames(p, frames(p)[:-1]),
}


def test_intact_recording_exit_0(audit):
    sid = audit.record(EVENTS)
    assert sum(1 for t, _ in frames(audit.rec(sid)) if t == "D") >= 6
    rc, out, err = audit.run("verify", sid)
    assert rc == 0, out + err
    assert f"{sid}: intact" in out


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampered_recording_exit_1(audit, case):
    sid = audit.record(EVENTS)
    before = audit.rec(sid).read_bytes()
    TAMPER[case](audit.rec(sid))
    assert audit.rec(sid).read_bytes() != before
    rc, out, err = audit.run("verify", sid)
    assert rc == 1, out + err
    assert "NOT intact" in out and "intact (" not in out
    assert ".jgr: offset " in out  # names the file and where


def test_tamper_messages_say_where(audit):
    sid = audit.record(EVENTS)
    p = audit.rec(sid)
    size = p.stat().st_size
    p.write_bytes(p.read_bytes() + b"junk")
    rc, out, _ = audit.run("verify", sid)
    assert rc == 1 and f"offset {size}: 4 bytes after the final seal" in out
    sid = audit.record(EVENTS)
    p = audit.rec(sid)
    write_frames(p, frames(p)[:-1])
    rc, out, _ = audit.run("verify", sid)
    assert rc == 1 and "truncated" in out
    sid = audit.record(EVENTS)
    p = audit.rec(sid)
    fs = frames(p)
    d = nth(fs, "D", 4)
    at = 8 + sum(len(f) for _, f in fs[:d]) + 14
    s = nth(fs[d:], "S", 0) + d
    seal_at = 8 + sum(len(f) for _, f in fs[:s])
    flip(p, at)
    rc, out, _ = audit.run("verify", sid)
    assert rc == 1 and f"offset {seal_at}: seal" in out
    assert "does not match" in out


def test_swapped_files_between_sessions(audit):
    a = audit.record(EVENTS)
    b = audit.record(EVENTS[:5])
    pa, pb = audit.rec(a), audit.rec(b)
    # Swap the recordings: each is validly signed, but for the other
    # session.
    tmp = pa.with_name("tmp")
    shutil.move(pa, tmp)
    shutil.move(pb, pa)
    shutil.move(tmp, pb)
    rc, out, err = audit.run("verify", a, b)
    assert rc == 1, out + err
    assert "another recording" in out
    assert "intact (" not in out


def test_crash_reports_unsealed_tail_never_intact(audit):
    # Data after the last checkpoint, no final seal: what a crash leaves.
    evs = [(0.1, "o", "before\r\n"), (2.0, "o", "sealed by time\r\n"),
           (2.1, "o", "not yet sealed\r\n")]
    sid = audit.record(evs, close=False)
    rc, out, err = audit.run("verify", sid)
    assert rc == 1, out + err
    assert "unsealed tail" in out and "not proven" in out
    assert "are sealed and intact" in out
    assert "intact (" not in out
    # The sealed part still exports.
    rc, out, err = audit.run("export", sid, "--format", "raw")
    assert rc == 0 and "sealed by time" in out


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


def test_recording_deleted_with_its_seals_is_missing(audit):
    sid = audit.record(EVENTS)
    cast = audit.rec(sid)
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
    cast.unlink()   # its seals are inside it
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
