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
from gw_fixtures import policy_text, stop, wait_for, wait_port, free_port
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
