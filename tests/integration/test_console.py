# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_console.py - the auditors' web console (`jumpgate
# audit serve`) driven by a real headless Chromium: sign-in with a
# password and a TOTP code through PAM (pam_exec, pam_oath), the session
# list and its filters, a session's page where the asciinema player plays
# the recording and the timeline moves it, search whose hits open the
# player at their moment, hostile recordings that stay text, and an
# auditor's scope that holds by page, by search and by guessed URL.
# Screenshots of the main pages go to $JG_BUILD/console-screenshots/.
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from audit_fixtures import T0, rec_driver, AuditEnv  # noqa: F401
from gw_fixtures import free_port, stop, wait_for, wait_port

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:          # make deps installs python3-selenium
    webdriver = None

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("JG_BUILD", ROOT / "build"))
SHOTS = BUILD / "console-screenshots"
SECRET = "3132333435363738393031323334353637383930"
PASSWORD = "auditors only"

POLICY = """\
version: 1
users:
  alice: {keys: ["{alice}"], groups: [ops], from: [10.0.0.0/8]}
  bob: {keys: ["{bob}"], groups: [dev], from: [10.0.0.0/8]}
targets:
  web-1: {kind: ssh, address: "10.0.1.11:22", labels: {tier: ecs}}
  db-1: {kind: ssh, address: "10.0.1.12:22"}
auditors:
  - name: ops-lead
    accounts: [carol, gina]
    sees: {groups: [ops]}
  - name: pci
    accounts: [erin]
    sees: {users: ["*"]}
"""

HOSTILE = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">"

UPTIME = [
    (0.1, "o", "$ "),
    (0.5, "o", "uptime\r\n"),
    (0.6, "o", " 10:00:00 up 3 days,  1 user\r\n"),
    (1.0, "m", "checkpoint-one"),
    (4.0, "o", "$ echo later\r\nlater-text\r\n"),
    (4.5, "x", 0),
]


def pam_service(root, accounts):
    """A PAM service for console sign-ins (the password PASSWORD through
    pam_exec, a TOTP code of SECRET through pam_oath); its name. Remove
    /etc/pam.d/NAME after."""
    d = root / "pam"
    d.mkdir()
    check = d / "checkpw.sh"
    check.write_text("#!/bin/sh\npw=$(tr -d '\\000')\n"
                     f"[ \"$pw\" = '{PASSWORD}' ]\n")
    check.chmod(0o755)
    oath = d / "users.oath"
    # One line an account: pam_oath refuses a code used before.
    oath.write_text("".join(f"HOTP/T30 {a} - {SECRET}\n" for a in accounts))
    oath.chmod(0o600)
    name = f"jg-console-{os.getpid()}-{root.name}"
    Path("/etc/pam.d", name).write_text(
        f"auth required pam_exec.so expose_authtok quiet {check}\n"
        f"auth required pam_oath.so usersfile={oath} window=4 digits=6\n"
        "account required pam_permit.so\n")
    return name


class Console:
    """jumpgate audit serve on a loopback port, over an audit folder with
    recordings, and a PAM service for its auditors."""

    def __init__(self, env, audit):
        self.env, self.audit = env, audit
        env.write_policy(POLICY)
        self.service = pam_service(env.root, ("carol", "gina", "erin", "nobody"))
        self.port = free_port()
        cfg = env.config.read_text()
        env.config.write_text(cfg + f"  console: {{listen: \"127.0.0.1:{self.port}\", "
                              f"pam_service: {self.service}, session_timeout: 10m}}\n")
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(env.root / "console.log", "w")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [str(self.env.bin), "-c", str(self.env.config), "audit", "serve",
             "--assets", str(BUILD / "console")],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, proc=self.proc)

    def logtext(self):
        self.log.flush()
        return (self.env.root / "console.log").read_text(errors="replace")

    def events(self, kind=None):
        out = []
        for f in sorted((self.audit.dir / "events").glob("*.jsonl")):
            for line in f.read_text().splitlines():
                e = json.loads(line)
                if kind is None or e["type"] == kind:
                    out.append(e)
        return out

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
        self.log.close()
        Path("/etc/pam.d", self.service).unlink(missing_ok=True)


def totp():
    return subprocess.run(["oathtool", "--totp", SECRET], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def console(tmp_path_factory, jg_bin, keys, rec_driver):  # noqa: F811
    from conftest import Env
    env = Env(tmp_path_factory.mktemp("console"), jg_bin, keys)
    audit = AuditEnv(env, rec_driver)
    c = Console(env, audit)
    c.ids = {
        "uptime": audit.record(UPTIME),
        "hostile": audit.record([(0.2, "o", "before " + HOSTILE + " after\r\n"),
                                 (0.3, "x", 1)],
                                start=T0 + 60_000_000, action="exec",
                                command="echo " + HOSTILE),
        "bob": audit.record([(0.2, "o", "bob was here\r\n"), (0.3, "x", 0)],
                            start=T0 + 120_000_000, user="bob", target="db-1"),
    }
    # An event-log line with a hostile path, on the hostile session's
    # timeline.
    audit.event(T0 + 60_100_000, type="sftp.write", session=c.ids["hostile"],
                user="alice", extra={"path": "/tmp/" + HOSTILE})
    # bob's session ends in the log, and a seal closes it: the chain that
    # proves its line.
    audit.event(T0 + 120_400_000, type="session.end", session=c.ids["bob"],
                user="bob", target="db-1", extra={"exit_status": 0})
    audit.seal(T0 + 121_000_000)
    audit.finish()
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def browser():
    if webdriver is None or shutil.which("chromium") is None:
        pytest.fail("the console tests need chromium, chromium-driver and "
                    "python3-selenium (make deps)")
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1400,1000"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    b = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    b.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield b
    b.quit()


def sign_in(browser, console, account, password=PASSWORD, code=None):
    browser.delete_all_cookies()
    browser.get(console.url + "/")
    wait_for(lambda: browser.find_elements(By.ID, "signin"), what="the sign-in form")
    browser.find_element(By.ID, "account").send_keys(account)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "code").send_keys(code or totp())
    browser.find_element(By.ID, "signin").click()


def shot(browser, name):
    browser.save_screenshot(str(SHOTS / f"{name}.png"))


def test_sign_in_with_password_and_code(browser, console):
    sign_in(browser, console, "nobody", code="000000")
    err = wait_for(lambda: browser.find_elements(By.ID, "signin-error"),
                   what="the refusal")
    assert "Sign-in refused" in err[0].text
    denied = wait_for(lambda: console.events("console.login"), what="an event")
    assert denied[-1]["result"] == "denied" and denied[-1]["user"] == "nobody"
    sign_in(browser, console, "carol")
    wait_for(lambda: browser.current_url.endswith("/sessions"), what="the list")
    assert "carol (ops-lead)" in browser.find_element(By.TAG_NAME, "header").text
    ok = [e for e in console.events("console.login") if e["result"] == "ok"]
    assert ok and ok[-1]["user"] == "carol" and ok[-1]["auditor"] == "ops-lead"
    cookie = browser.get_cookie("jg_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    shot(browser, "sessions")


def test_list_shows_only_the_scope_and_filters(browser, console):
    browser.get(console.url + "/sessions")
    rows = browser.find_elements(By.CSS_SELECTOR, "#sessions tr.session")
    users = {r.find_element(By.CLASS_NAME, "user").text for r in rows}
    assert users == {"alice"} and len(rows) == 2        # bob is not in scope
    badges = [r.find_element(By.CLASS_NAME, "badge").text for r in rows]
    assert badges == ["intact", "intact"]
    browser.find_element(By.ID, "f-action").send_keys("exec")
    browser.find_element(By.ID, "filter").click()
    wait_for(lambda: "action=exec" in browser.current_url, what="the filter")
    rows = browser.find_elements(By.CSS_SELECTOR, "#sessions tr.session")
    assert [r.find_element(By.CLASS_NAME, "action").text for r in rows] == ["exec"]
    browser.get(console.url + "/sessions?user=bob")
    assert browser.find_element(By.ID, "count").text == "0 sessions"


def test_player_plays_and_the_timeline_moves_it(browser, console):
    sid = console.ids["uptime"]
    browser.get(f"{console.url}/sessions/{sid}")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#player .ap-player"),
             what="the player")
    browser.execute_script("window.jumpgatePlayer.play()")
    term = wait_for(lambda: (lambda t: t if "10:00:00 up 3 days" in t else None)(
        browser.find_element(By.ID, "player").text), what="the recorded text")
    assert "uptime" in term
    shot(browser, "session")
    # The marker at 1.0 s: the player goes there.
    browser.execute_script("window.jumpgatePlayer.pause()")
    link = [a for a in browser.find_elements(By.CSS_SELECTOR, "a.jump")
            if a.get_attribute("data-t") == "1.000"]
    assert link, "the marker is on the timeline"
    link[0].click()
    at = wait_for(lambda: (lambda t: t if t is not None and abs(t - 1.0) < 0.3 else None)(
        browser.execute_async_script(
            "var done = arguments[0];"
            "Promise.resolve(window.jumpgatePlayer.getCurrentTime())"
            ".then(done, function () { done(null); });")),
        what="the player at the marker")
    assert abs(at - 1.0) < 0.3
    views = [e for e in console.events("console.view") if e["session"] == sid]
    assert views and views[-1]["user"] == "carol"


def test_hostile_recording_stays_text(browser, console):
    sid = console.ids["hostile"]
    browser.get(f"{console.url}/sessions/{sid}")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#player .ap-player"),
             what="the player")
    browser.execute_script("window.jumpgatePlayer.play()")
    wait_for(lambda: "after" in browser.find_element(By.ID, "player").text,
             what="the hostile output played")
    # Shown as text on the page (command, timeline) and in the player...
    assert HOSTILE in browser.find_element(By.ID, "meta").text
    assert ("/tmp/" + HOSTILE) in browser.find_element(By.ID, "timeline").text
    assert "<script>window.pwned" in browser.find_element(By.ID, "player").text
    # ...and nothing of it ran or became an element.
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    assert not browser.find_elements(By.CSS_SELECTOR, "main img, main script:not([src])")
    shot(browser, "hostile")


def player_time(browser):
    return browser.execute_async_script(
        "var done = arguments[0];"
        "Promise.resolve(window.jumpgatePlayer.getCurrentTime())"
        ".then(done, function () { done(null); });")


def search(browser, console, pattern, **filters):
    browser.get(console.url + "/sessions")
    browser.find_element(By.ID, "nav-search").click()
    wait_for(lambda: browser.find_elements(By.ID, "f-q"), what="the search form")
    browser.find_element(By.ID, "f-q").send_keys(pattern)
    for k, v in filters.items():
        browser.find_element(By.ID, "f-" + k).send_keys(v)
    browser.find_element(By.ID, "search").click()
    wait_for(lambda: browser.find_elements(By.ID, "count"), what="the hits")
    return browser.find_elements(By.CSS_SELECTOR, "#hits tr.hit")


def test_search_finds_and_opens_the_moment(browser, console):
    """What a person saw, found by the search page; its hit opens the
    player at that moment (4 s in, after 3 idle seconds)."""
    hits = search(browser, console, "later-te[x]t")
    assert len(hits) == 1, browser.page_source
    link = hits[0].find_element(By.CSS_SELECTOR, "a.hit-link")
    assert link.text == "+0:04.0" and hits[0].find_element(
        By.CLASS_NAME, "user").text == "alice"
    assert link.get_attribute("href").endswith(
        f"/sessions/{console.ids['uptime']}?t=4.000")
    shot(browser, "search")
    ev = console.events("console.search")
    assert ev[-1]["reason"] == "later-te[x]t" and ev[-1]["user"] == "carol"
    link.click()
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#player .ap-player"),
             what="the player")
    at = wait_for(lambda: (lambda t: t if t is not None and abs(t - 4.0) < 0.3
                           else None)(player_time(browser)),
                  what="the player at the hit")
    assert abs(at - 4.0) < 0.3
    # A command, shown as text; nothing of it runs.
    hits = search(browser, console, "window[.]pwned")
    where = [h.find_element(By.CLASS_NAME, "where").text for h in hits]
    assert "exec" in where and "sftp.write path" in where, where
    assert HOSTILE in hits[where.index("exec")].text
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    # Filters narrow it; a bad expression is a clear 400.
    assert search(browser, console, "pwned", target="db-*") == []
    browser.get(console.url + "/search?q=%28")
    assert "not a regular expression" in browser.find_element(By.TAG_NAME, "main").text


def event_rows(browser):
    return [{c: r.find_element(By.CLASS_NAME, c).text
             for c in ("type", "user", "session", "details")}
            for r in browser.find_elements(By.CSS_SELECTOR, "#events tr.event")]


def test_event_log_page_filters_within_the_scope(browser, console):
    browser.get(console.url + "/sessions")
    browser.find_element(By.ID, "nav-events").click()
    wait_for(lambda: browser.find_elements(By.ID, "count"), what="the event log")
    rows = event_rows(browser)
    assert rows and {r["user"] for r in rows} == {"alice"}, rows   # not bob's
    assert "seal" not in {r["type"] for r in rows}
    browser.find_element(By.ID, "f-type").send_keys("sftp.*")
    browser.find_element(By.ID, "filter").click()
    wait_for(lambda: "type=sftp.*" in browser.current_url or
             "type=sftp.%2A" in browser.current_url, what="the filter")
    rows = event_rows(browser)
    assert [r["type"] for r in rows] == ["sftp.write"], rows
    assert HOSTILE in rows[0]["details"]           # as text, never markup
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    shot(browser, "events")
    browser.find_element(By.CSS_SELECTOR, "#events td.session a").click()
    wait_for(lambda: browser.current_url.endswith(
        "/sessions/" + console.ids["hostile"]), what="the session")
    views = [e for e in console.events("console.view")
             if e.get("reason") == "the event log"]
    assert views and views[-1]["user"] == "carol"
    # A guessed filter does not reach outside the scope.
    browser.get(console.url + "/events?user=bob")
    assert browser.find_element(By.ID, "count").text == "0 events"


def evidence(browser, console, sid, tmp_path):
    """The evidence archive of sid as the signed-in auditor downloads it,
    unpacked; and what `audit verify --dir` says of it, offline."""
    browser.get(f"{console.url}/sessions/{sid}")
    link = browser.find_element(By.ID, "evidence")
    assert link.get_attribute("href").endswith(f"/sessions/{sid}/evidence")
    cookie = browser.get_cookie("jg_console")
    st, h, body = http(console, f"/sessions/{sid}/evidence",
                       cookie=f"jg_console={cookie['value']}")
    assert st == 200 and h["Content-Type"] == "application/gzip", body[:200]
    assert f"jumpgate-evidence-{sid}.tar.gz" in h["Content-Disposition"]
    (tmp_path / "e.tar.gz").write_bytes(body)
    subprocess.run(["tar", "xzf", "e.tar.gz"], cwd=tmp_path, check=True)
    d = tmp_path / f"jumpgate-evidence-{sid}"
    rc, out, err = console.env.run("audit", "verify", "--dir", d, "--key",
                                   d / "audit-signing.pub", config=False)
    return d, rc, out + err


def test_evidence_export_verifies_offline(browser, console, tmp_path):
    """carol sees one team: her archive proves the recording and carries
    the session's lines as copies, never the chain with others' events."""
    sid = console.ids["hostile"]
    d, rc, out = evidence(browser, console, sid, tmp_path)
    assert rc == 0, out
    assert f"{sid}: intact" in out and "NOT proven by this archive" in out
    man = json.loads((d / "EVIDENCE").read_text())
    assert man["events"] is None and "carol (auditor ops-lead" in man["by"]
    assert not (d / "events").exists()
    lines = (d / "session-events.jsonl").read_text().splitlines()
    assert [json.loads(l)["type"] for l in lines] == ["sftp.write"]
    ex = [e for e in console.events("console.export") if e["session"] == sid]
    assert ex and ex[-1]["user"] == "carol"
    # another team's session: no archive, by link or guessed address
    cookie = browser.get_cookie("jg_console")
    st, _, _ = http(console, f"/sessions/{console.ids['bob']}/evidence",
                    cookie=f"jg_console={cookie['value']}")
    assert st == 404


def test_watch_follows_a_live_recording(browser, console):
    """A recording still being written plays as it grows, from what was
    already shown, and says when it ends."""
    d = console.audit.driver
    sid = d.do("uuid")["id"]
    t = T0 + 3_600_000_000
    d.do("open", session=sid, time=t, user="alice", target="web-1",
         login="ec2-user", action="shell", rule="ops-prod-shell",
         term="xterm-256color", width=100, height=30, **{"from": "203.0.113.5"})

    def out(dt, text):
        d.do("o", session=sid, time=t + dt, hex=text.encode().hex())
        d.do("tick", session=sid, time=t + dt + 1_500_000)  # a block on disk

    out(100_000, "first-live-line\r\n")
    browser.get(f"{console.url}/sessions/{sid}/watch")
    text = lambda: browser.find_element(By.ID, "player").text  # noqa: E731
    wait_for(lambda: "first-live-line" in text(), what="what was shown before")
    out(5_000_000, "second-live-line\r\n")
    wait_for(lambda: "second-live-line" in text(), what="what came after")
    shot(browser, "watch")
    d.do("close", session=sid, time=t + 9_000_000)
    wait_for(lambda: "ended" in text().lower(), what="the end of the stream")
    views = [e for e in console.events("console.view")
             if e["session"] == sid and e.get("reason") == "live"]
    assert views and views[-1]["user"] == "carol"
    # another team's live recording is not followed
    cookie = browser.get_cookie("jg_console")
    st, _, _ = http(console, f"/sessions/{console.ids['bob']}/live",
                    cookie=f"jg_console={cookie['value']}")
    assert st == 404


def test_scope_holds_for_guessed_urls(browser, console, tmp_path):
    bob = console.ids["bob"]
    for path in (f"/sessions/{bob}", f"/sessions/{bob}/cast"):
        browser.get(console.url + path)
        assert "no such" in browser.find_element(By.TAG_NAME, "main").text
    assert not [e for e in console.events("console.view") if e["session"] == bob]
    # Search neither finds it nor counts it, whatever is asked.
    assert search(browser, console, "bob was here") == []
    browser.get(console.url + "/search?q=bob&user=bob")
    assert browser.find_element(By.ID, "count").text == "0 hits"
    # An auditor who sees everyone does see it.
    sign_in(browser, console, "erin")
    wait_for(lambda: browser.current_url.endswith("/sessions"), what="the list")
    browser.get(f"{console.url}/sessions/{bob}")
    assert "bob was here" not in browser.page_source      # only in the player
    wait_for(lambda: "bob was here" in (browser.execute_script("window.jumpgatePlayer.play()")
                                        or browser.find_element(By.ID, "player").text),
             what="bob's recording for the pci auditor")
    assert len(search(browser, console, "bob was here")) == 1
    # Who sees everything gets the chain that proves the session's lines.
    d, rc, out = evidence(browser, console, bob, tmp_path)
    assert rc == 0 and "event log slice: intact" in out, out
    assert "session events: 1 line(s), all in the slice" in out, out
    # Who sees every user sees the seals too, when asked.
    browser.get(console.url + "/events?type=seal")
    assert {r["type"] for r in event_rows(browser)} == {"seal"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


def http(console, path, data=None, cookie=None):
    """status, headers, body of one request (redirects not followed)."""
    req = urllib.request.Request(console.url + path, data=data)
    if cookie:
        req.add_header("Cookie", cookie)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_hostile_requests_get_clear_answers(console):
    st, h, body = http(console, "/signin")
    assert st == 200
    assert "script-src 'self'" in h["Content-Security-Policy"]
    assert "'unsafe-inline'" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert http(console, "/static/../../../etc/passwd")[0] == 404
    assert http(console, "/static/console.js")[0] == 200
    assert http(console, "/sessions")[0] == 303                 # sign in first
    assert http(console, "/signout", data=b"csrf=x")[0] == 403
    assert http(console, "/sessions?" + "a=" + "x" * 600)[0] in (303, 414)
    assert http(console, "/signin", data=b"x" * 10000)[0] == 413
    st, _, body = http(console, "/signin", data=b"account=Robert');--&password=x")
    assert st == 400
    # A stolen-looking cookie is no session.
    assert http(console, "/sessions", cookie="jg_console=" + "A" * 43)[0] == 303


def test_tampered_unsealed_and_missing_recordings_say_so(browser, console):
    """Never an empty success: a changed recording is "tampered", one cut
    short "unsealed", one the log names but that is gone "missing"."""
    a = console.audit
    t = T0 + 7_200_000_000
    tampered = a.record([(0.1, "o", "to be changed\r\n")], start=t)
    unsealed = a.record([(0.1, "o", "before\r\n"), (2.0, "o", "sealed\r\n"),
                         (2.1, "o", "not yet sealed\r\n")], start=t + 10_000_000,
                        close=False)
    gone = a.record([(0.1, "o", "soon gone\r\n")], start=t + 20_000_000)
    a.event(t + 20_000_000, type="session.start", session=gone, user="alice",
            target="web-1", extra={"recording": str(a.rec(gone))})
    rec = a.rec(tampered)
    b = bytearray(rec.read_bytes())
    b[len(b) // 2] ^= 1
    rec.write_bytes(bytes(b))
    a.rec(gone).unlink()
    browser.get(console.url + "/sessions?since=2026-11-27T02:00:00Z")
    rows = {r.find_element(By.CSS_SELECTOR, "a").get_attribute("href").rsplit("/", 1)[1]:
            r.find_element(By.CLASS_NAME, "badge").text
            for r in browser.find_elements(By.CSS_SELECTOR, "#sessions tr.session")}
    assert rows.get(tampered) == "tampered", rows
    assert rows.get(unsealed) == "unsealed", rows
    assert rows.get(gone) == "recording missing", rows
    browser.get(f"{console.url}/sessions/{gone}")
    assert "recording of this session is missing" in \
        browser.find_element(By.ID, "missing").text


def test_a_flood_of_connections_stops_nobody_else(console):
    """Hundreds of idle connections from one address: the console holds a
    few of them (16 an address) and still answers another address; when
    they go, it answers the first one again."""
    import socket
    held = []
    try:
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", console.port), timeout=10)
            held.append(s)
        other = socket.socket()
        other.bind(("127.0.0.2", 0))
        other.settimeout(30)
        other.connect(("127.0.0.1", console.port))
        other.sendall(b"GET /signin HTTP/1.0\r\n\r\n")
        head = other.recv(64)
        other.close()
        assert head.startswith(b"HTTP/1.") and b" 200 " in head, head
    finally:
        for s in held:
            s.close()
    assert console.proc.poll() is None
    st = wait_for(lambda: http(console, "/signin")[0] == 200,
                  what="an answer once the flood is gone")
    assert st


def test_failed_sign_ins_ban_the_address(console):
    """Last in this file: it bans 127.0.0.1, which every test here uses.
    limits.auth_failures (5 in 10 minutes) bans for its ban time."""
    form = b"account=gina&password=wrong&code=000000"
    before = len([e for e in console.events("console.login")
                  if e["result"] == "denied"])      # earlier tests' failures
    assert before < 5
    codes = [http(console, "/signin", data=form)[0] for _ in range(5 - before)]
    assert codes == [403] * (5 - before)
    st, _, body = http(console, "/signin", data=form)
    assert st == 429 and b"Too many failed sign-ins" in body
    # Even the right password is refused while the ban lasts.
    good = f"account=gina&password={PASSWORD.replace(' ', '+')}&code={totp()}".encode()
    assert http(console, "/signin", data=good)[0] == 429
    banned = [e for e in console.events("console.login") if e["result"] == "banned"]
    assert len(banned) == 2 and all(e["from"] == "127.0.0.1" for e in banned)
    assert "127.0.0.1 banned for" in console.logtext()
