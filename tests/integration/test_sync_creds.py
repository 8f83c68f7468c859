# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_sync_creds.py - the AWS credential chain of `jumpgate
# sync`: environment first, then the shared credentials file and AWS_PROFILE,
# then IMDSv2 with a session token and refresh before Expiration. Every
# request's signature is checked by the fake EC2 (botocore).
from sync_fixtures import KEY, SECRET, SG_SSH, WANT_SSH, ec2, imds, sync  # noqa: F401

NO_ENV = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}


def test_session_token_from_environment_is_signed(sync):
    st = sync.ec2.state
    st.add_creds("ASIATEMP0000000001", "tempsecret/with+chars", "FQoGZXIvYXdzEB0aDJ//tok==")
    rc, out, err = sync.run("apply", env={
        "AWS_ACCESS_KEY_ID": "ASIATEMP0000000001",
        "AWS_SECRET_ACCESS_KEY": "tempsecret/with+chars",
        "AWS_SESSION_TOKEN": "FQoGZXIvYXdzEB0aDJ//tok=="})
    assert rc == 0, err
    assert st.cidrs(SG_SSH) == WANT_SSH
    assert "tempsecret" not in out + err and "FQoG" not in out + err


def test_missing_session_token_is_refused(sync):
    st = sync.ec2.state
    st.add_creds("ASIATEMP0000000002", "s2", "tok2")
    rc, out, err = sync.run("plan", env={"AWS_ACCESS_KEY_ID": "ASIATEMP0000000002",
                                         "AWS_SECRET_ACCESS_KEY": "s2"})
    assert rc == 2 and "AuthFailure" in err


def test_shared_credentials_file_and_profile(sync, tmp_path):
    st = sync.ec2.state
    st.add_creds("AKIDPROFILE00000001", "profile-secret")
    f = tmp_path / "credentials"
    f.write_text("# test\n[default]\naws_access_key_id = AKIDWRONG\n"
                 "aws_secret_access_key = wrong\n\n[ops]\n"
                 "aws_access_key_id = AKIDPROFILE00000001\n"
                 "aws_secret_access_key = profile-secret\n")
    env = dict(NO_ENV, AWS_SHARED_CREDENTIALS_FILE=str(f), AWS_PROFILE="ops")
    rc, out, err = sync.run("apply", env=env)
    assert rc == 0, err
    assert st.cidrs(SG_SSH) == WANT_SSH
    # The environment wins over the file.
    rc, out, err = sync.run("plan", env={"AWS_SHARED_CREDENTIALS_FILE": str(f),
                                         "AWS_PROFILE": "ops",
                                         "AWS_ACCESS_KEY_ID": "AKIDNOBODY"})
    assert rc == 2 and "AuthFailure" in err
    # A named profile that does not exist is an error, not a fall-through.
    rc, out, err = sync.run("plan", env=dict(env, AWS_PROFILE="nope"))
    assert rc == 2 and "profile nope" in err


def test_malformed_credentials_file_never_echoes_secrets(sync, tmp_path):
    f = tmp_path / "credentials"
    f.write_text("[default]\naws_access_key_id = AKIDX\nsupersecretvalue\n")
    rc, out, err = sync.run("plan", env=dict(
        NO_ENV, AWS_SHARED_CREDENTIALS_FILE=str(f)))
    assert rc == 2
    assert "line 3" in err and "supersecretvalue" not in err


def test_no_credentials_anywhere(sync):
    rc, out, err = sync.run("plan", env=NO_ENV)
    assert rc == 2 and "no AWS credentials" in err


def test_imdsv2_credentials_refreshed_before_expiration(sync, imds):
    st = sync.ec2.state
    ist = imds.state
    issued = []

    def issue(n):
        key = f"ASIAIMDS{n:012d}"
        secret, token = f"imds-secret-{n}", f"imds-token-{n}"
        # Each set replaces the previous one: stale keys fail.
        for k, _ in issued:
            st.creds.pop(k, None)
        st.add_creds(key, secret, token)
        issued.append((key, secret))
        return key, secret, token

    ist.issue = issue
    ist.lifetime = 120  # inside the 5-minute refresh margin: every call
    env = dict(NO_ENV, AWS_EC2_METADATA_DISABLED="",
               AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
    rc, out, err = sync.run("apply", env=env)
    assert rc == 0, err
    assert st.cidrs(SG_SSH) == WANT_SSH
    assert ist.fetches > 1 and ist.v1_attempts == 0
    assert ist.token_puts == ist.fetches
    assert "imds-secret" not in out + err


def test_imdsv2_long_lived_credentials_fetched_once(sync, imds):
    st = sync.ec2.state
    ist = imds.state
    ist.issue = lambda n: (st.add_creds("ASIAIMDSONCE0000001", "s", "t")
                           or ("ASIAIMDSONCE0000001", "s", "t"))
    ist.lifetime = 6 * 3600
    env = dict(NO_ENV, AWS_EC2_METADATA_DISABLED="",
               AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
    rc, out, err = sync.run("apply", env=env)
    assert rc == 0, err
    assert ist.fetches == 1
