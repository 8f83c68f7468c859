# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_audit_search.py - `audit search` over the text a
# person saw, exec commands and sftp paths; `audit events` filters.
import json

from audit_fixtures import T0, audit, rec_driver  # noqa: F401


def test_search_finds_text_split_across_events_and_inside_ansi(audit):
    sid = audit.record([
        (0.1, "o", "$ cat /etc/pass"),
        (0.2, "o", "wd\r\n"),                            # split across events
        (3.0, "o", "\x1b[1;31mDROP\x1b[0m TABLE \x1b[4morders\x1b[24m;\r\n"),
        (4.0, "o", "typo\b\b\b\bfixed line\r\n"),         # backspaces
        (65.5, "o", "\x1b]0;TOP SECRET\x07after a minute\r\n"),
    ])
    rc, out, err = audit.run("search", "cat /etc/passwd")
    assert rc == 0, err
    assert sid in out and "alice \u2192 web-1" in out and "+0:00.1" in out
    rc, out, _ = audit.run("search", "DROP TABLE orders;")
    assert rc == 0 and "+0:03.0" in out and "\x1b" not in out
    rc, out, _ = audit.run("search", "^fixed line$")
    assert rc == 0
    rc, out, _ = audit.run("search", "after a minute")
    assert rc == 0 and "+1:05.5" in out
    rc, out, _ = audit.run("search", "TOP SECRET")   # a title, never shown
    assert rc == 1 and out == ""
    rc, out, _ = audit.run("search", "-i", "drop table")
    assert rc == 0


def test_search_exec_commands_and_sftp_paths(audit):
    sid = audit.record([(0.1, "o", "ok\r\n")], action="exec",
                       command="sudo systemctl restart nginx")
    audit.event(T0 + 2000000, type="sftp.open", session=sid, user="alice",
                target="web-1", extra={"path": "/var/www/config.php",
                                       "flags": "read"})
    audit.event(T0 + 3000000, type="sftp.rename", session=sid, user="alice",
                target="web-1", extra={"path": "/tmp/a", "to": "/srv/b.sql"})
    rc, out, err = audit.run("search", "restart nginx")
    assert rc == 0 and "(exec)" in out and sid in out, out + err
    rc, out, _ = audit.run("search", r"config\.php")
    assert rc == 0 and "sftp.open" in out and "+0:02.0" in out
    rc, out, _ = audit.run("search", r"b\.sql$")
    assert rc == 0 and "sftp.rename to" in out


def test_search_takes_the_filters_of_list(audit):
    """--user, --target, --since and --until pick the sessions searched,
    recordings and the events of sessions without one alike."""
    a = audit.record([(0.1, "o", "needle in web-1\r\n")])
    b = audit.record([(0.1, "o", "needle in db-1\r\n")], user="bob",
                     target="db-1")
    c = audit.record([(0.1, "o", "needle a day later\r\n")],
                     start=T0 + 86400000000)
    # an sftp session of bob's without a recording: its events only
    audit.event(T0 + 5000000, type="sftp.open", session="-", user="bob",
                target="db-1", extra={"path": "/srv/needle.sql"})

    def ids(*args):
        rc, out, err = audit.run("search", *args, "needle")
        assert rc in (0, 1), err
        return rc, [line.split()[0] for line in out.splitlines()]

    rc, got = ids()
    assert rc == 0 and sorted(got) == sorted([a, b, c, "-"]), got
    assert ids("--user", "alice")[1] == [a, c]
    assert ids("--user", "bob")[1] == [b, "-"]
    assert ids("--target", "db-*")[1] == [b, "-"]
    assert ids("--since", "2026-11-28")[1] == [c]
    assert ids("--since", "2026-11-27T00:00:04Z", "--user", "bob")[1] == ["-"]
    assert ids("--until", "2026-11-28", "--user", "alice")[1] == [a]
    assert ids("--user", "nobody") == (1, [])
    rc, _, err = audit.run("search", "--since", "yesterday-ish", "needle")
    assert rc == 2 and "is not a time" in err


def test_search_bad_regex_is_usage_error(audit):
    rc, _, err = audit.run("search", "(")
    assert rc == 2 and "bad REGEX" in err


def test_events_filters_and_json(audit):
    audit.event(T0 + 1000000, type="auth.success", user="alice",
                **{"from": "203.0.113.5"})
    audit.event(T0 + 2000000, type="sftp.open", user="alice",
                extra={"path": "/x"})
    audit.event(T0 + 3000000, type="sftp.remove", user="bob", target="web-2",
                extra={"path": "/y"})
    audit.event(T0 + 86400000000, type="grant.add", user="carol",
                reason="INC-42", extra={"grant": "g-1234abcd"})
    rc, out, err = audit.run("events", "--json")
    assert rc == 0, err
    evs = json.loads(out)
    types = [e["type"] for e in evs]
    assert types[:3] == ["auth.success", "sftp.open", "sftp.remove"]
    assert "seal" not in types      # seal lines only when asked
    rc, out, err = audit.run("events", "--seals", "--json")
    assert "seal" in [e["type"] for e in json.loads(out)]  # day-end, every 4
    rc, out, _ = audit.run("events", "--type", "seal", "--json")
    assert {e["type"] for e in json.loads(out)} == {"seal"}
    first = evs[0]
    assert list(first)[:11] == ["seq", "time", "type", "session", "user",
                                "from", "target", "login", "action", "rule",
                                "reason"]
    assert list(first)[-1] == "prev" and first["prev"] == "0" * 64
    assert first["time"] == "2026-11-27T00:00:01.000000Z"
    rc, out, _ = audit.run("events", "--type", "sftp.*", "--json")
    assert [e["type"] for e in json.loads(out)] == ["sftp.open", "sftp.remove"]
    rc, out, _ = audit.run("events", "--type", "sftp.*", "--user", "bob",
                           "--json")
    assert [e["extra"] if "extra" in e else e["path"]
            for e in json.loads(out)] == ["/y"]
    rc, out, _ = audit.run("events", "--since", "2026-11-28", "--json")
    assert [e["type"] for e in json.loads(out)] == ["grant.add"]
    rc, out, _ = audit.run("events", "--from", "203.0.113.*", "--json")
    assert [e["type"] for e in json.loads(out)] == ["auth.success"]
    rc, out, _ = audit.run("events", "--target", "web-*", "--json")
    assert [e["extra"] if "extra" in e else e["path"]
            for e in json.loads(out)] == ["/y"]
    rc, out, _ = audit.run("events", "--type", "grant.add")
    assert rc == 0 and "grant=g-1234abcd" in out and "INC-42" in out
    # The chain goes across the two day files; the driver seals every 4
    # events, so a fifth is left unsealed until an explicit seal.
    rc, out, err = audit.run("verify", "--all")
    assert rc == 0, out + err
    audit.event(T0 + 86400000000 + 1, type="grant.expire", user="carol")
    rc, out, err = audit.run("verify", "--all")
    assert rc == 1 and "1 event after the last seal is not sealed" in out
    audit.seal(T0 + 86400000000 + 5)
    rc, out, err = audit.run("verify", "--all")
    assert rc == 0, out + err
    assert "2 files" in out
