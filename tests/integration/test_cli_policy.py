# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_cli_policy.py - `jumpgate policy check` and how the
# configuration is found (-c before/after the command, $JUMPGATE_CONFIG).
import re

import yaml

from jgtest import diags, error_count, line_of

OK_RE = re.compile(
    r"^policy OK: (?P<path>\S+) \(\+(?P<dropins>\d+) drop-ins?\): "
    r"(?P<users>\d+) users, (?P<targets>\d+) targets, (?P<rules>\d+) rules, "
    r"(?P<grants>\d+) grants \((?P<active>\d+) active\), "
    r"(?P<exposure>\d+) exposure entries$", re.M)


def ok_line(out):
    m = OK_RE.search(out)
    assert m, f"no 'policy OK' line in {out!r}"
    return m


def test_check_ok_counts_what_the_policy_holds(env):
    rc, out, err = env.run("policy", "check")
    assert rc == 0, err
    m = ok_line(out)
    data = env.policy_data()
    assert m["path"] == str(env.policy)
    assert int(m["dropins"]) == 0
    assert int(m["users"]) == len(data["users"])
    assert int(m["targets"]) == len(data["targets"])
    assert int(m["rules"]) == len(data["rules"])
    assert int(m["grants"]) == 0 and int(m["active"]) == 0
    assert int(m["exposure"]) == len(data["exposure"])


def test_check_counts_dropins_and_their_contents(env):
    env.write_dropin("10-frank.yaml", """\
users:
  frank:
    keys: ["{frank}"]
    from: [0.0.0.0/0]
grants:
  - {id: g-0000beef, user: frank, targets: [rds-prod], allow: [forward],
     until: 2020-01-01T00:00:00Z, reason: old}
  - {id: g-0000cafe, user: frank, targets: [rds-prod], allow: [forward],
     until: 2099-01-01T00:00:00Z, reason: new}
""")
    rc, out, err = env.run("policy", "check")
    assert rc == 0, err
    m = ok_line(out)
    assert int(m["dropins"]) == 1
    assert int(m["users"]) == len(env.policy_data()["users"]) + 1
    assert int(m["grants"]) == 2
    assert int(m["active"]) == 1


def test_check_explicit_file_needs_no_config(env):
    # JUMPGATE_CONFIG names a missing file (see conftest): not read.
    rc, out, err = env.run("policy", "check", env.policy, config=False)
    assert rc == 0, err
    assert ok_line(out)["path"] == str(env.policy)


def test_check_without_config_fails_naming_it(env):
    rc, out, err = env.run("policy", "check", config=False)
    assert rc == 2
    assert "no-such-config.yaml" in err
    assert err.startswith("jumpgate: ")


INVALID = """\
version: 1
users:
  alice:
    keys: ["{alice}"]
    groups: [ops]
    from: [203.0.113.0/33]
    colour: blue
targets:
  web-1: {kind: ssh, address: "10.0.1.11:22"}
rules:
  - name: r1
    groups: [ops]
    targets: [web-1, nosuch-target]
    allow: [shell]
    max_session: 4 hours
"""


def test_check_invalid_reports_every_error_with_position(env):
    env.write_policy(INVALID)
    text = env.policy.read_text()
    rc, out, err = env.run("policy", "check")
    assert rc == 1
    assert "policy OK" not in out
    found = diags(err)
    # Every diagnostic is FILE:LINE:COL in the policy file.
    assert found and all(f == str(env.policy) for f, _, _, _ in found)
    assert all(c >= 1 for _, _, c, _ in found)
    lines = {ln for _, ln, _, _ in found}
    expected = {line_of(text, "203.0.113.0/33"), line_of(text, "colour"),
                line_of(text, "max_session"), line_of(text, "nosuch-target")}
    assert expected <= lines, (expected, err)
    assert error_count(err) == len(found)


def test_check_reports_errors_in_dropins_by_their_file(env):
    bad = env.write_dropin("20-bad.yaml", """\
targets:
  db-2: {kind: tcp, address: "10.0.3.3:3306", protocol: gopher}
""")
    rc, out, err = env.run("policy", "check")
    assert rc == 1
    found = diags(err)
    assert any(f == str(bad) and ln == 2 for f, ln, _, _ in found), err


def test_check_several_files_worst_result_wins(env, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    bad = other / "policy.yaml"
    bad.write_text("version: 2\n")
    rc, out, err = env.run("policy", "check", env.policy, bad, config=False)
    assert rc == 1
    assert ok_line(out)["path"] == str(env.policy)
    assert str(bad) in err
    missing = tmp_path / "missing" / "policy.yaml"
    rc, out, err = env.run("policy", "check", env.policy, bad, missing,
                           config=False)
    assert rc == 2
    assert str(missing) in err


def test_check_missing_file_is_exit_2_naming_the_path(env, tmp_path):
    missing = tmp_path / "nowhere" / "policy.yaml"
    rc, out, err = env.run("policy", "check", missing, config=False)
    assert rc == 2
    assert str(missing) in err
    assert out == ""


def test_check_policy_d_not_a_folder_is_exit_2(env):
    # Tests run as root, so chmod 000 would not stop the read: a file where
    # the folder should be makes it unreadable for everyone.
    env.policy_d.write_text("not a folder\n")
    rc, out, err = env.run("policy", "check")
    assert rc == 2, (out, err)
    assert str(env.policy_d) in err


def test_check_dropin_that_is_a_folder_is_exit_2(env):
    env.policy_d.mkdir()
    (env.policy_d / "50-odd.yaml").mkdir()
    rc, out, err = env.run("policy", "check")
    assert rc == 2, (out, err)
    assert "50-odd.yaml" in err


def test_check_ignores_non_yaml_files_in_policy_d(env):
    env.write_dropin("README", "not: [yaml")
    rc, out, err = env.run("policy", "check")
    assert rc == 0, err
    assert int(ok_line(out)["dropins"]) == 0


def test_config_option_before_between_and_after_the_command(env):
    paths = set()
    for args in (["-c", env.config, "policy", "check"],
                 ["policy", "-c", env.config, "check"],
                 ["policy", "check", "-c", env.config],
                 ["policy", "check", f"--config={env.config}"],
                 ["--config", env.config, "policy", "check"]):
        rc, out, err = env.run(*args, config=False)
        assert rc == 0, (args, err)
        paths.add(ok_line(out)["path"])
    assert paths == {str(env.policy)}


def test_config_option_after_the_command_overrides_the_one_before(env, tmp_path):
    missing = tmp_path / "missing.yaml"
    rc, out, err = env.run("-c", missing, "policy", "check", "-c", env.config,
                           config=False)
    assert rc == 0, err
    rc, out, err = env.run("-c", env.config, "policy", "check", "-c", missing,
                           config=False)
    assert rc == 2
    assert str(missing) in err


def test_jumpgate_config_environment_variable(env, tmp_path):
    rc, out, err = env.run("policy", "check", config=False,
                           env={"JUMPGATE_CONFIG": str(env.config)})
    assert rc == 0, err
    assert ok_line(out)["path"] == str(env.policy)
    # -c wins over the variable.
    other = tmp_path / "elsewhere.yaml"
    rc, out, err = env.run("-c", other, "policy", "check", config=False,
                           env={"JUMPGATE_CONFIG": str(env.config)})
    assert rc == 2
    assert str(other) in err


def test_policy_path_is_relative_to_the_config_folder(env, tmp_path):
    sub = tmp_path / "etc"
    sub.mkdir()
    (sub / "pol.yaml").write_text(env.policy.read_text())
    cfg = sub / "jg.yaml"
    cfg.write_text("policy: pol.yaml\n")
    rc, out, err = env.run("-c", cfg, "policy", "check", config=False)
    assert rc == 0, err
    assert ok_line(out)["path"] == str(sub / "pol.yaml")


def test_invalid_config_is_reported_with_positions(env):
    env.config.write_text("policy: policy.yaml\nlisten: [nonsense]\nfoo: 1\n")
    rc, out, err = env.run("policy", "check")
    assert rc == 2
    found = diags(err)
    assert {ln for f, ln, _, _ in found if f == str(env.config)} >= {2, 3}, err
    assert error_count(err, "configuration not valid") == len(found)


def test_check_accepts_a_policy_written_by_yaml_dump(env):
    # The same policy, re-serialised: nothing depends on the layout.
    data = env.policy_data()
    env.policy.write_text(yaml.safe_dump(data))
    rc, out, err = env.run("policy", "check")
    assert rc == 0, err
    assert int(ok_line(out)["users"]) == len(data["users"])
