/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/policy/test_validate.c - every validation error, with its
 * line and column, and all errors of a file reported in one run. The line
 * of an expected error is the one marked "#<" in the case's text. */
#include "jgtest.h"

#define HEAD "version: 1\n"
#define USER_A "users:\n  alice:\n    keys: [\"" KEY_ED25519 "\"]\n    groups: [ops]\n    from: [10.0.0.0/8]\n"
#define TARGETS "targets:\n  web-1: {kind: ssh, address: \"10.0.0.1:22\"}\n"
#define BASE HEAD USER_A TARGETS

struct vcase {
    const char *name;
    const char *text;
    int col;             /* column of the error on the marked line */
    const char *has;     /* substring of the message */
};

static const struct vcase cases[] = {
    {"unknown key", HEAD "users:\n  alice:\n    keyz: [x] #<\n    from: [10.0.0.0/8]\n", 5,
     "unknown key 'keyz' in a user"},
    {"unknown top-level key", BASE "rulez: [] #<\n", 1, "unknown key 'rulez'"},
    {"duplicate key", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                           "    allow: [shell]\n    allow: [exec] #<\n", 5,
     "duplicate key 'allow'"},
    {"bad cidr", HEAD "users:\n  alice:\n    keys: [\"" KEY_ED25519 "\"]\n"
                      "    from: [10.0.0.0/33] #<\n", 12, "bad address or CIDR '10.0.0.0/33'"},
    {"bad cidr text", HEAD "users:\n  alice:\n    keys: [\"" KEY_ED25519 "\"]\n"
                           "    from: [10.0.0.0/8, \"fe80::/x\"] #<\n", 24, "'fe80::/x'"},
    {"bad duration", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                          "    allow: [shell]\n    max_session: 4x #<\n", 18, "bad duration '4x'"},
    {"zero duration", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                           "    allow: [shell]\n    max_session: 0s #<\n", 18, "bad duration"},
    {"impossible hours", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                              "    allow: [shell]\n    when: \"Mon-Fri 25:00-26:00\" #<\n", 11,
     "bad hours '25:00-26:00'"},
    {"unparseable window", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                                "    allow: [shell]\n    when: \"weekdays 9-5\" #<\n", 11,
     "bad days 'weekdays'"},
    {"bad day name", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                          "    allow: [shell]\n    when: [\"Mon-Fri\", \"Mon-Fry 07:00-08:00\"] #<\n",
     23, "bad days 'Mon-Fry'"},
    {"empty hours", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                         "    allow: [shell]\n    when: \"Mon 10:00-10:00\" #<\n", 11, "empty hours"},
    {"unknown zone", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                          "    allow: [shell]\n    when: \"Mon-Fri 07:00-21:00 Mars/Olympus\" #<\n",
     11, "unknown time zone 'Mars/Olympus'"},
    {"rule names missing target", BASE "rules:\n  - name: r\n    groups: [ops]\n"
                                       "    targets: [web-1, web-9] #<\n    allow: [shell]\n",
     22, "names target 'web-9', which does not exist"},
    {"rule names missing group", BASE "rules:\n  - name: r\n    groups: [ops, dba] #<\n"
                                      "    targets: [web-1]\n    allow: [shell]\n",
     19, "names group 'dba', which does not exist"},
    {"rule names missing user", BASE "rules:\n  - name: r\n    users: [bob] #<\n"
                                     "    targets: [web-1]\n    allow: [shell]\n",
     13, "names user 'bob', which does not exist"},
    {"duplicate rule name", BASE "rules:\n  - {name: r, groups: [ops], targets: [web-1], allow: [shell]}\n"
                                 "  - {name: r, groups: [ops], targets: [web-1], allow: [exec]} #<\n",
     5, "rule name 'r' is used twice"},
    {"malformed key", HEAD "users:\n  alice:\n    keys: [\"ssh-ed25519 AAAAnotakey\"] #<\n"
                           "    from: [10.0.0.0/8]\n", 12, "malformed public key"},
    {"key of another type", HEAD "users:\n  alice:\n    keys: [\"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIHLhqf40Rr0bwyOlGZtIcRUoqGrLXbvRyfCc/pprH6R5\"] #<\n"
                                "    from: [10.0.0.0/8]\n", 12, "malformed public key"},
    {"unknown key type", HEAD "users:\n  alice:\n    keys: [\"ssh-foo AAAA\"] #<\n"
                              "    from: [10.0.0.0/8]\n", 12, "unsupported key type 'ssh-foo'"},
    {"empty allow", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                         "    allow: [] #<\n", 12, "allow is empty"},
    {"unknown action", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [web-1]\n"
                            "    allow: [shell, reboot] #<\n", 20, "unknown action 'reboot'"},
    {"allow rule without targets", BASE "rules:\n  - name: r #<\n    groups: [ops]\n    allow: [shell]\n",
     5, "must name targets"},
    {"allow rule without who", BASE "rules:\n  - name: r #<\n    targets: [web-1]\n    allow: [shell]\n",
     5, "must name users or groups"},
    {"allow rule without allow", BASE "rules:\n  - name: r #<\n    groups: [ops]\n    targets: [web-1]\n",
     5, "must list the actions"},
    {"missing version", "users: {} #<\n", 1, "missing 'version: 1'"},
    {"wrong version", "version: 2 #<\n", 10, "unsupported policy version"},
    {"user without from", HEAD "users:\n  alice: #<\n    keys: [\"" KEY_ED25519 "\"]\n", 3,
     "has no 'from'"},
    {"user without keys", HEAD "users:\n  alice: #<\n    from: [10.0.0.0/8]\n", 3, "has no keys"},
    {"bad user name", HEAD "users:\n  Alice!: #<\n    keys: [\"" KEY_ED25519 "\"]\n    from: [10.0.0.0/8]\n",
     3, "bad user name 'Alice!'"},
    {"bad max_sessions", HEAD "users:\n  alice:\n    keys: [\"" KEY_ED25519 "\"]\n    from: [10.0.0.0/8]\n"
                         "    max_sessions: 0 #<\n", 19, "bad max_sessions '0' (1-10000)"},
    {"bad expires", HEAD "users:\n  alice:\n    keys: [\"" KEY_ED25519 "\"]\n    from: [10.0.0.0/8]\n"
                         "    expires: 2027-02-30 #<\n", 14, "bad time '2027-02-30'"},
    {"mfa not bool", HEAD "users:\n  alice:\n    keys: [\"" KEY_ED25519 "\"]\n    from: [10.0.0.0/8]\n"
                          "    mfa: sometimes #<\n", 10, "expected true or false"},
    {"target without port", HEAD USER_A "targets:\n  web-1: {kind: ssh, address: \"10.0.0.1\"} #<\n",
     31, "bad address '10.0.0.1'"},
    {"target ipv6 without brackets", HEAD USER_A "targets:\n  web-1: {kind: ssh, address: \"2001:db8::1:22\"} #<\n",
     31, "bad address"},
    {"target bad kind", HEAD USER_A "targets:\n  web-1: {kind: http, address: \"10.0.0.1:80\"} #<\n",
     17, "unknown target kind 'http'"},
    {"target without address", HEAD USER_A "targets:\n  web-1: {kind: ssh} #<\n", 3, "needs an address"},
    {"protocol on ssh", HEAD USER_A "targets:\n  web-1: {kind: ssh, address: \"10.0.0.1:22\", protocol: mysql} #<\n",
     56, "protocol is only for kind tcp"},
    {"bad auth", HEAD USER_A "targets:\n  web-1: {kind: ssh, address: \"10.0.0.1:22\", auth: password} #<\n",
     52, "unknown auth 'password' (key: "},
    {"auth on tcp", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", auth: key} #<\n",
     51, "auth is only for kind ssh"},
    {"mysql auth without tls", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", protocol: mysql, auth: {password_file: /etc/jumpgate/db.pw}} #<\n",
     3, "needs tls: {ca: FILE}"},
    {"tls without db auth", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", protocol: mysql, tls: false} #<\n",
     67, "tls is only for a protocol: mysql target with auth"},
    {"db auth on ssh", HEAD USER_A "targets:\n  web-1: {kind: ssh, address: \"10.0.0.1:22\", auth: {password_file: /x}} #<\n",
     52, "only for kind tcp with protocol: mysql"},
    {"db auth twice", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", protocol: mysql, tls: false, auth: {password_file: /x, iam: {region: eu-west-1}}} #<\n",
     80, "exactly one of password_file"},
    {"relative password file", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", protocol: mysql, tls: false, auth: {password_file: db.pw}} #<\n",
     96, "password_file must be an absolute path, not 'db.pw'"},
    {"iam without tls", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", protocol: mysql, tls: false, auth: {iam: {region: eu-west-1}}} #<\n",
     67, "tls: false is refused"},
    {"iam without region", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", protocol: mysql, tls: {ca: /c.pem}, auth: {iam: {}}} #<\n",
     93, "iam needs region"},
    {"tls yes", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", protocol: mysql, tls: yes, auth: {password_file: /x}} #<\n",
     67, "tls is {ca: FILE} or false, not 'yes'"},
    {"tls without ca", HEAD USER_A "targets:\n  db: {kind: tcp, address: \"10.0.0.1:3306\", protocol: mysql, tls: {}, auth: {password_file: /x}} #<\n",
     67, "tls needs ca: FILE"},
    {"auditor without sees", BASE "auditors:\n  - {name: pci, accounts: [carol]} #<\n", 5,
     "auditor 'pci' needs sees"},
    {"auditor without accounts", BASE "auditors:\n  - {name: pci, sees: {users: [\"*\"]}} #<\n", 5,
     "an auditor needs accounts"},
    {"auditor sees nobody", BASE "auditors:\n  - name: pci\n    accounts: [carol]\n"
                                 "    sees: {targets: [web-1]} #<\n", 11,
     "sees needs users or groups"},
    {"auditor sees unknown user", BASE "auditors:\n  - name: pci\n    accounts: [carol]\n"
                                       "    sees: {users: [alice, bob]} #<\n", 27,
     "auditor 'pci' names user 'bob', which does not exist"},
    {"auditor sees unknown target", BASE "auditors:\n  - name: pci\n    accounts: [carol]\n"
                                         "    sees: {groups: [ops], targets: [web-9]} #<\n", 37,
     "auditor 'pci' names target 'web-9'"},
    {"auditor everyone and more", BASE "auditors:\n  - name: pci\n    accounts: [carol]\n"
                                       "    sees: {users: [\"*\", alice]} #<\n", 19,
     "\"*\" is everyone"},
    {"auditor account twice", BASE "auditors:\n  - {name: a, accounts: [carol], sees: {users: [alice]}}\n"
                                   "  - {name: b, accounts: [carol], sees: {users: [alice]}} #<\n", 26,
     "account 'carol' is already an auditor (a)"},
    {"auditor bad account", BASE "auditors:\n  - {name: a, accounts: [Carol], sees: {users: [alice]}} #<\n", 26,
     "bad account 'Carol'"},
    {"bad selector", BASE "rules:\n  - name: r\n    groups: [ops]\n    targets: [\"=prod\"] #<\n"
                          "    allow: [shell]\n", 15, "bad label selector"},
    {"grant unknown user", BASE "grants:\n  - {id: g-1, user: bob, targets: [web-1], allow: [shell], #<\n"
                                "     until: 2027-01-01T00:00:00Z, reason: x}\n", 21,
     "names user 'bob'"},
    {"grant without until", BASE "grants:\n  - {id: g-1, user: alice, targets: [web-1], allow: [shell], reason: x} #<\n",
     5, "a grant needs until"},
    {"duplicate grant id", BASE "grants:\n  - {id: g-1, user: alice, targets: [web-1], allow: [shell], until: 2027-01-01, reason: x}\n"
                                "  - {id: g-1, user: alice, targets: [web-1], allow: [exec], until: 2027-01-01, reason: y} #<\n",
     5, "grant id 'g-1' is used twice"},
    {"bad security group", BASE "exposure:\n  - {name: e, port: 22, sources: users, aws_security_group: sg-XYZ} #<\n",
     61, "bad security group id"},
    {"exposure unknown group", BASE "exposure:\n  - {name: e, port: 22, sources: \"group:dba\", aws_security_group: sg-0a} #<\n",
     34, "names group 'dba'"},
    {"exposure bad source", BASE "exposure:\n  - {name: e, port: 22, sources: everyone, aws_security_group: sg-0a} #<\n",
     34, "bad source 'everyone'"},
    {"exposure cloudflare incomplete", BASE "exposure:\n  - {name: e, sources: users, cloudflare: {list: l, host: h}} #<\n",
     43, "cloudflare needs zone_id"},
    {"yaml syntax", BASE "rules: a: b #<\n", 9, "YAML syntax"},
    {"yaml anchor", BASE "rules:\n  - &a {name: r, groups: [ops], targets: [web-1], allow: [shell]} #<\n  - *a\n",
     5, "anchors are not supported"},
    {"yaml alias", BASE "rules: *a #<\n", 8, "aliases are not supported"},
    {"deny rule with max_session", BASE "rules:\n  - {name: r, effect: deny, max_session: 1h} #<\n",
     42, "mean nothing in a deny rule"},
    {"bad login", BASE "rules:\n  - {name: r, groups: [ops], targets: [web-1], allow: [shell],\n"
                       "     logins: [ec2-user, \"root;id\"]} #<\n", 25, "bad login 'root;id'"},
    {"posix tz string", BASE "rules:\n  - {name: r, groups: [ops], targets: [web-1], allow: [shell],\n"
                             "     when: \"daily 10:00-11:00 UTC+1\"} #<\n", 12, "unknown time zone 'UTC+1'"},
    {"grant empty from", BASE "grants:\n  - {id: g-1, user: alice, targets: [web-1], allow: [shell],\n"
                              "     until: 2027-01-01, reason: x, from: []} #<\n", 42, "from is empty"},
    {"bad effect", BASE "rules:\n  - {name: r, effect: maybe} #<\n", 23, "effect must be allow or deny"},
};

static int
marked_line(const char *text)
{
    const char *m = strstr(text, "#<");
    int line = 1;

    for (const char *c = text; m != NULL && c < m; c++)
        line += *c == '\n';
    return m ? line : 0;
}

static void
test_each_error(void **state)
{
    size_t i, fails = 0;

    assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct vcase *c = &cases[i];
        struct jg_diags d = {0};
        struct jg_policy *p = NULL;
        char want[64], *got;
        int r = jg_policy_load_mem("case.yaml", c->text, strlen(c->text), 0, &p, &d);
        bool found = false;
        size_t k;

        snprintf(want, sizeof(want), "%d:%d: ", marked_line(c->text), c->col);
        for (k = 0; k < d.n; k++) {
            char pos[64];
            snprintf(pos, sizeof(pos), "%d:%d: ", d.v[k].line, d.v[k].col);
            if (strcmp(pos, want) == 0 && strstr(d.v[k].msg, c->has) != NULL)
                found = true;
        }
        if (r != JG_ERR_INVALID || p != NULL || !found) {
            got = diags_text(&d);
            fprintf(stderr, "FAIL %s: want \"%s...%s\" (r=%d)\n  got:\n%s", c->name,
                    want, c->has, r, got);
            free(got);
            fails++;
        }
        jg_policy_free(p);
        jg_diags_clear(&d);
    }
    assert_int_equal(fails, 0);
}

/* One run reports every error, not just the first. */
static void
test_all_errors_at_once(void **state)
{
    static const char text[] =
        HEAD "users:\n  alice:\n    keys: [\"ssh-ed25519 AAAAnope\"]\n    from: [10.0.0.0/33]\n"
        "    extra: 1\n"
        "targets:\n  web-1: {kind: ftp, address: \"10.0.0.1\"}\n"
        "rules:\n  - {name: r, groups: [nobody], targets: [nothing], allow: [fly],\n"
        "     when: \"Mon 25:00-26:00\", max_session: forever}\n";
    struct jg_diags d = {0};
    struct jg_policy *p = NULL;

    assert_int_equal(jg_policy_load_mem("all.yaml", text, sizeof(text) - 1, 0, &p, &d),
                     JG_ERR_INVALID);
    assert_null(p);
    /* key, cidr, extra, kind, address, group, target, action, when, duration */
    assert_true(d.n >= 10);
    jg_diags_clear(&d);
}

static void
test_valid_minimal(void **state)
{
    static const char text[] = BASE "rules:\n  - {name: r, groups: [ops], targets: [\"web-*\"], allow: [shell]}\n";
    struct jg_diags d = {0};
    struct jg_policy *p = NULL;

    assert_int_equal(jg_policy_load_mem("ok.yaml", text, sizeof(text) - 1, 0, &p, &d), 0);
    assert_int_equal(d.n, 0);
    assert_non_null(p);
    jg_policy_free(p);
}

/* auth: key and cert are read; without it a target goes by upstream.ca. */
static void
test_target_auth(void **state)
{
    static const char text[] = HEAD USER_A "targets:\n"
        "  a: {kind: ssh, address: \"10.0.0.1:22\", auth: key}\n"
        "  b: {kind: ssh, address: \"10.0.0.2:22\", auth: cert}\n"
        "  c: {kind: ssh, address: \"10.0.0.3:22\"}\n";
    struct jg_diags d = {0};
    struct jg_policy *p = NULL;

    assert_int_equal(jg_policy_load_mem("a.yaml", text, sizeof(text) - 1, 0, &p, &d), 0);
    assert_int_equal(jg_policy_target(p, "a")->auth, JG_AUTH_KEY);
    assert_int_equal(jg_policy_target(p, "b")->auth, JG_AUTH_CERT);
    assert_int_equal(jg_policy_target(p, "c")->auth, JG_AUTH_DEFAULT);
    jg_policy_free(p);
}

static void
test_cidr_canonical_in_policy(void **state)
{
    static const char text[] = HEAD "users:\n  alice:\n    keys: [\"" KEY_ED25519 "\"]\n"
        "    from: [10.1.2.3/8, 10.0.0.0/9, 10.128.0.0/9, \"2001:DB8::1/32\", 192.0.2.7]\n";
    struct jg_diags d = {0};
    struct jg_policy *p = NULL;
    const struct jg_user *u;
    char c[JG_CIDR_STRLEN];

    assert_int_equal(jg_policy_load_mem("c.yaml", text, sizeof(text) - 1, 0, &p, &d), 0);
    u = jg_policy_user(p, "alice");
    assert_int_equal(u->n_from, 3);
    jg_cidr_format(&u->from[0], c, sizeof(c));
    assert_string_equal(c, "10.0.0.0/8");
    jg_cidr_format(&u->from[1], c, sizeof(c));
    assert_string_equal(c, "192.0.2.7/32");
    jg_cidr_format(&u->from[2], c, sizeof(c));
    assert_string_equal(c, "2001:db8::/32");
    jg_policy_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_error),
        cmocka_unit_test(test_all_errors_at_once),
        cmocka_unit_test(test_valid_minimal),
        cmocka_unit_test(test_cidr_canonical_in_policy),
        cmocka_unit_test(test_target_auth),
    };

    return cmocka_run_group_tests_name("policy/validate", tests, NULL, NULL);
}
