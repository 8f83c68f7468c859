# SPDX-License-Identifier: Apache-2.0
# tests/integration/jgtest.py - small helpers shared by the test files.
import datetime
import re

UTC = datetime.timezone.utc

# "FILE:LINE:COL: message", as jg_diags_print writes diagnostics.
DIAG_RE = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")


def utc(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def rfc3339(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def fields(out):
    """The "key: value" lines of explain's text output (after the first)."""
    d = {}
    for line in out.splitlines()[1:]:
        k, sep, v = line.partition(": ")
        assert sep, f"not a 'key: value' line: {line!r}"
        d[k] = v
    return d


def diags(err):
    """The FILE:LINE:COL diagnostics on stderr, as (file, line, col, msg)."""
    out = []
    for line in err.splitlines():
        m = DIAG_RE.match(line)
        if m:
            out.append((m["file"], int(m["line"]), int(m["col"]), m["msg"]))
    return out


def error_count(err, what="policy not valid"):
    m = re.search(r"^jumpgate: " + re.escape(what) + r": (\d+) errors?$", err, re.M)
    assert m, f"no '{what}: N errors' summary in:\n{err}"
    return int(m.group(1))


def line_of(text, needle, nth=1):
    """1-based number of the line of text holding needle (the nth time)."""
    seen = 0
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return i
    raise AssertionError(f"{needle!r} not in text")
