# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_cli_usage.py - global options, --help/--version,
# and usage errors (exit 2) of the jumpgate command.
import re

import pytest

from conftest import makefile_version

SUBCOMMANDS = ("check", "explain", "grant", "revoke", "grants", "exposure")


def test_version(env):
    rc, out, err = env.run("--version", config=False)
    assert rc == 0
    assert re.fullmatch(rf"jumpgate {re.escape(makefile_version())} \(libssh "
                        r"\d+\.\d+\.\d+/\S+, Debian source package \S+, "
                        r"static\)\n", out), out
    assert err == ""


def test_help_lists_the_policy_subcommands(env):
    rc, out, err = env.run("--help", config=False)
    assert rc == 0
    assert out.startswith("usage: jumpgate")
    for sub in SUBCOMMANDS:
        assert f"policy {sub}" in out
    assert err == ""


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_subcommand_help(env, sub):
    rc, out, err = env.run("policy", sub, "--help", config=False)
    assert rc == 0
    assert out.startswith("usage: ") and f"policy {sub}" in out


def test_policy_help(env):
    rc, out, err = env.run("policy", "--help", config=False)
    assert rc == 0
    assert all(f"policy {sub}" in out for sub in SUBCOMMANDS)


def test_session_without_a_daemon_exits_2(env):
    sock = env.root / "control.sock"
    env.config.write_text(f"policy: policy.yaml\ncontrol_socket: {sock}\n")
    rc, out, err = env.run("session", "list")
    assert rc == 2
    assert err.startswith("jumpgate: session list: cannot reach jumpgated at "
                          f"{sock}: ")
    assert "is jumpgated running?" in err
    assert out == ""


@pytest.mark.parametrize("args,needle", [
    (["session"], "no subcommand"),
    (["session", "frob"], "unknown subcommand 'frob'"),
    (["session", "kill"], "exactly one session id"),
    (["session", "kill", "nope"], "'nope' is not a session id"),
    (["session", "kill", "--json", "0"], "--json is for session list"),
])
def test_session_usage_errors(env, args, needle):
    rc, out, err = env.run(*args)
    assert rc == 2
    assert needle in err
    assert out == ""


@pytest.mark.parametrize("args,needle", [
    ([], "no command"),
    (["frobnicate"], "frobnicate"),
    (["policy"], "no subcommand"),
    (["policy", "frobnicate"], "frobnicate"),
    (["--frobnicate", "policy", "check"], "--frobnicate"),
    (["policy", "check", "--frobnicate"], "--frobnicate"),
    (["policy", "grants", "--json=yes"], "--json"),
    (["policy", "grants", "extra"], "extra"),
    (["policy", "explain", "--user"], "--user"),
    (["policy", "explain", "--user", "alice", "--from", "203.0.113.5",
      "--target", "web-1"], "--action"),
    (["policy", "exposure", "stray"], "stray"),
])
def test_usage_errors_exit_2(env, args, needle):
    rc, out, err = env.run(*args)
    assert rc == 2, (out, err)
    assert err.startswith("jumpgate: ")
    assert needle in err.splitlines()[0]
    assert out == ""


def test_missing_config_value_exit_2(env):
    rc, out, err = env.run("-c", config=False)
    assert rc == 2
    assert "-c" in err


def test_options_may_follow_positionals(env):
    # GNU-style: options anywhere after the subcommand.
    rc, out, err = env.run("policy", "explain", "--json", "--user", "alice",
                           "--target", "grafana", "--from", "203.0.113.5",
                           "--action", "forward")
    assert rc == 0, err
