# SPDX-License-Identifier: Apache-2.0
# tests/integration/test_sync_errors.py - `jumpgate sync` when EC2 misbehaves:
# throttling and 5xx retried, duplicates and vanished rules taken as done,
# bad signatures and malformed answers reported clearly (exit 2, no crash).
from sync_fixtures import SG_SSH, WANT_SSH, ec2, sync  # noqa: F401


def test_throttling_is_retried(sync):
    st = sync.ec2.state
    st.inject += [("DescribeSecurityGroupRules", 503, "RequestLimitExceeded",
                   "Request limit exceeded."),
                  ("AuthorizeSecurityGroupIngress", 503,
                   "RequestLimitExceeded", "Request limit exceeded."),
                  ("AuthorizeSecurityGroupIngress", 500, "InternalError",
                   "An internal error has occurred")]
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert st.inject == []
    assert st.cidrs(SG_SSH) == WANT_SSH


def test_throttling_gives_up_after_bounded_attempts(sync):
    st = sync.ec2.state
    st.inject += [(None, 503, "RequestLimitExceeded",
                   "Request limit exceeded.")] * 20
    rc, out, err = sync.run("plan")
    assert rc == 2
    assert "EC2 DescribeSecurityGroupRules: RequestLimitExceeded" in err
    assert "gave up after 6 attempts" in err
    assert len(st.inject) == 14


def test_duplicate_and_notfound_count_as_done(sync):
    st = sync.ec2.state
    st.inject += [("AuthorizeSecurityGroupIngress", 400,
                   "InvalidPermission.Duplicate",
                   'the specified rule "peer: 203.0.113.0/24, TCP, from port: '
                   '22, to port: 22, ALLOW" already exists')]
    stale = st.add_rule(SG_SSH, "192.0.2.0/24", 22,
                        tags={"managed-by": "jumpgate"})
    st.inject += [("RevokeSecurityGroupIngress", 400,
                   "InvalidPermission.NotFound",
                   "The specified rule does not exist in this security group.")]
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert "was already allowed" in err and "was already gone" in err
    # The next run converges: the skipped add and the stale rule are done.
    rc, out, err = sync.run("apply")
    assert rc == 0, err
    assert stale not in st.rules
    assert st.cidrs(SG_SSH) == WANT_SSH
    rc, out, err = sync.run("apply")
    assert "No changes" in out


def test_rule_revoked_meanwhile_counts_as_done(sync):
    st = sync.ec2.state
    stale = st.add_rule(SG_SSH, "192.0.2.0/24", 22,
                        tags={"managed-by": "jumpgate"})
    # Someone removed it between our describe and our revoke: EC2 then
    # answers InvalidSecurityGroupRuleId.NotFound.
    st.inject += [("RevokeSecurityGroupIngress", 400,
                   "InvalidSecurityGroupRuleId.NotFound",
                   f"The security group rule ID '{stale}' does not exist")]
    rc, out, err = sync.run("apply", "--force")
    assert rc == 0, err
    assert "was already gone" in err


def test_wrong_secret_fails_clearly(sync):
    st = sync.ec2.state
    rc, out, err = sync.run("apply",
                            env={"AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    assert rc == 2
    assert "EC2 DescribeSecurityGroupRules: AuthFailure" in err
    assert "HTTP 401" in err
    assert "not-the-secret" not in err + out
    assert st.auth_failures == 1  # not retried
    assert st.rules == {}


def test_unknown_key_fails_clearly(sync):
    rc, out, err = sync.run("plan", env={"AWS_ACCESS_KEY_ID": "AKIDNOBODY"})
    assert rc == 2 and "AuthFailure" in err


def test_malformed_xml_names_request(sync):
    st = sync.ec2.state
    st.raw["DescribeSecurityGroupRules"] = "<DescribeSecurityGroupRulesResp"
    rc, out, err = sync.run("plan")
    assert rc == 2
    assert "EC2 DescribeSecurityGroupRules" in err
    assert "not well-formed XML" in err


def test_wrong_shape_names_field(sync):
    st = sync.ec2.state
    ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'
    st.raw["DescribeSecurityGroupRules"] = (
        f"<DescribeSecurityGroupRulesResponse {ns}><requestId>x</requestId>"
        "<securityGroupRuleSet><item><securityGroupRuleId>sgr-1"
        "</securityGroupRuleId><groupId>sg-0a1b2c3d</groupId>"
        "<isEgress>false</isEgress><ipProtocol>tcp</ipProtocol>"
        "<fromPort>twenty-two</fromPort><toPort>22</toPort>"
        "</item></securityGroupRuleSet></DescribeSecurityGroupRulesResponse>")
    rc, out, err = sync.run("plan")
    assert rc == 2
    assert "DescribeSecurityGroupRules" in err and "fromPort" in err


def test_malformed_authorize_answer(sync):
    st = sync.ec2.state
    st.raw["AuthorizeSecurityGroupIngress"] = "<Response>?</Response>"
    rc, out, err = sync.run("apply")
    assert rc == 2
    assert "AuthorizeSecurityGroupIngress" in err and "root element" in err
    assert "the next run converges" in err


def test_error_body_not_xml(sync):
    st = sync.ec2.state
    st.inject += [("DescribeSecurityGroupRules", 403, "x", "y")]
    # An HTML error page from a proxy, not an EC2 error document.
    st.raw = {}
    import fake_ec2

    orig = fake_ec2.Handler._error

    def html(self, status, code, message):
        self._send(status, "<html><body>Forbidden</body></html>")

    fake_ec2.Handler._error = html
    try:
        rc, out, err = sync.run("plan")
    finally:
        fake_ec2.Handler._error = orig
    assert rc == 2
    assert "EC2 DescribeSecurityGroupRules: HTTP403" in err


def test_unreachable_endpoint(sync):
    rc, out, err = sync.run("plan",
                            env={"AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:9/"})
    assert rc == 2
    assert "EC2 DescribeSecurityGroupRules" in err
    assert "gave up" in err
