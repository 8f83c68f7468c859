# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_console_live.py - the console's live page against a
# running jumpgated: who is connected now (asked over the control socket),
# scoped to the auditor, and a session watched as it happens in the player,
# typed by a real OpenSSH client through the gateway; a daemon that is gone
# is said so, never shown as nobody connected.
import os
import subprocess
from pathlib import Path

import pexpect
import pytest

from gw_fixtures import *  # noqa: F401,F403
from gw_fixtures import LOOSE, policy_text, stop, wait_for, wait_port, free_port
from test_console import BUILD, By, browser, pam_service, shot, sign_in  # noqa: F401

AUDITORS = """\
auditors:
  - name: all
    accounts: [erin]
    sees: {users: ["*"]}
  - name: devs
    accounts: [gina]
    sees: {groups: [dev]}
"""


class LiveConsole:
    def __init__(self, g, root):
        self.service = pam_service(root, ("erin", "gina"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        text = g.config.read_text()
        assert "\naudit:\n" in text
        self.config = root / "console.yaml"
        self.config.write_text(text.replace(
            "\naudit:\n", "\naudit:\n  console: {listen: \"127.0.0.1:%d\", "
            "pam_service: %s, session_timeout: 10m}\n" % (self.port, self.service), 1))
        self.log = open(root / "console.log", "w")
        self.proc = subprocess.Popen(
            [str(BUILD / "jumpgate"), "-c", str(self.config), "audit", "serve",
             "--assets", str(BUILD / "console")],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, proc=self.proc)

    def stop(self):
        stop(self.proc)
        self.log.close()
        Path("/etc/pam.d", self.service).unlink(missing_ok=True)


def test_live_sessions_and_watching_one(make_gateway, gw_env, browser, tmp_path):  # noqa: F811
    g = make_gateway(policy_text(gw_env) + AUDITORS)
    c = LiveConsole(g, tmp_path)
    child = pexpect.spawn(g.ssh_args("alice:web-1", extra=("-tt",))[0],
                          g.ssh_args("alice:web-1", extra=("-tt",))[1:],
                          env={**os.environ, "TERM": "xterm"}, timeout=15)
    try:
        child.sendline("echo she''ll-up")
        child.expect("shell-up")
        sign_in(browser, c, "erin")
        wait_for(lambda: browser.current_url.endswith("/sessions"), what="the list")
        browser.find_element(By.ID, "nav-live").click()
        rows = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#live tr.live"),
                        what="the live session")
        cells = [rows[0].find_element(By.CLASS_NAME, k).text
                 for k in ("user", "target", "login", "action")]
        assert cells == ["alice", "web-1", "root", "shell"]
        shot(browser, "live")
        rows[0].find_element(By.CSS_SELECTOR, "a.watch").click()
        text = lambda: browser.find_element(By.ID, "player").text  # noqa: E731
        wait_for(lambda: "shell-up" in text(), what="what alice saw so far")
        child.sendline("echo watched-''now")
        child.expect("watched-now")
        wait_for(lambda: "watched-now" in text(), timeout=30,
                 what="what alice types, as she types it")
        # an auditor of the dev team sees nobody connected
        sign_in(browser, c, "gina")
        wait_for(lambda: browser.current_url.endswith("/sessions"), what="the list")
        browser.get(c.url + "/live")
        assert browser.find_element(By.ID, "count").text == "0 open channels"
        child.sendline("exit")
        child.expect(pexpect.EOF)
        # the daemon is gone: said so, not an empty list
        g.stop()
        browser.get(c.url + "/live")
        main = browser.find_element(By.TAG_NAME, "main").text
        assert "cannot reach jumpgated" in main, main
    finally:
        child.close()
        c.stop()


def test_bans_are_shared_with_the_gateway(make_gateway, gw_env, tmp_path):
    """Failed console sign-ins count toward the address's ban at the
    gateway (and SSH from it is refused), and an address the gateway
    banned is banned at the console."""
    import urllib.error
    import urllib.request
    g = make_gateway(policy_text(gw_env) + AUDITORS, limits=(
        "{login_grace: 30s, auth_failures: {max: 3, window: 10m, ban: 15m}, "
        + LOOSE + "}"))
    c = LiveConsole(g, tmp_path)
    try:
        def sign_in_status(form):
            try:
                with urllib.request.urlopen(c.url + "/signin", data=form,
                                            timeout=30) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code
        wrong = b"account=erin&password=wrong&code=000000"
        assert [sign_in_status(wrong) for _ in range(3)] == [403] * 3
        assert g.wait_log("authentication failure of 127.0.0.1 reported by "
                          "the auditors' console")
        assert g.wait_log("ban of 127.0.0.1 started")
        r = g.ssh("alice:web-1", "echo should-not-run")
        assert r.returncode != 0 and b"should-not-run" not in r.stdout
        assert g.wait_log("connection from 127.0.0.1 refused: banned after "
                          "authentication failures")
    finally:
        c.stop()
    # the other way: SSH failures at a fresh gateway ban the console too
    g2 = make_gateway(policy_text(gw_env) + AUDITORS, limits=(
        "{login_grace: 30s, auth_failures: {max: 2, window: 10m, ban: 15m}, "
        + LOOSE + "}"))
    (tmp_path / "c2").mkdir()
    c2 = LiveConsole(g2, tmp_path / "c2")
    try:
        for _ in range(2):
            g2.ssh("alice:web-1", "true", key="bob")    # the wrong key
        assert g2.wait_log("ban of 127.0.0.1 started")
        try:
            urllib.request.urlopen(c2.url + "/signin",
                                   data=b"account=erin&password=x&code=1",
                                   timeout=30)
            st = 200
        except urllib.error.HTTPError as e:
            st = e.code
        assert st == 429
    finally:
        c2.stop()
