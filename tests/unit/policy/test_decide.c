/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/policy/test_decide.c - a table of decisions over one policy:
 * deny precedence, groups, globs, labels, IPv6 sources, DST days, expiry,
 * grants, and the moment each permission lapses. */
#include "jgtest.h"

static const char policy_text[] =
    "version: 1\n"
    "users:\n"
    "  alice:\n"
    "    keys: [\"" KEY_ED25519 "\"]\n"
    "    groups: [ops]\n"
    "    from: [203.0.113.0/24, \"2001:db8::/48\"]\n"
    "    mfa: true\n"
    "    expires: 2027-06-30T00:00:00Z\n"
    "  bob:\n"
    "    keys: [\"" KEY_ECDSA "\"]\n"
    "    groups: [contractors]\n"
    "    from: [198.51.100.0/24]\n"
    "  carol:\n"
    "    keys: [\"" KEY_ED25519 "\"]\n"
    "    groups: [ops, dba]\n"
    "    from: [10.0.0.0/8, \"fd00::/8\"]\n"
    "  dave:\n"
    "    keys: [\"" KEY_ED25519 "\"]\n"
    "    groups: [ops]\n"
    "    from: [0.0.0.0/0]\n"
    "    expires: 2026-01-01\n"
    "  erin:\n"
    "    keys: [\"" KEY_ED25519 "\"]\n"
    "    from: [192.0.2.0/24]\n"
    "targets:\n"
    "  web-1: {kind: ssh, address: \"10.0.1.11:22\", labels: {env: prod, tier: ecs}}\n"
    "  web-2: {kind: ssh, address: \"10.0.1.12:22\", labels: {env: prod, tier: ecs}}\n"
    "  web-stage: {kind: ssh, address: \"[2001:db8::5]:22\", labels: {env: stage, tier: ecs}}\n"
    "  ecs-prod: {kind: ssh, discover: {ecs_cluster: prestashop-prod}, labels: {env: prod, tier: ecs}}\n"
    "  monitor: {kind: ssh, address: \"10.0.2.10:22\", labels: {tier: monitoring}}\n"
    "  grafana: {kind: tcp, address: \"10.0.2.10:3000\", labels: {tier: monitoring}}\n"
    "  rds-prod: {kind: tcp, address: \"shop.abc.eu-west-1.rds.amazonaws.com:3306\", protocol: mysql}\n"
    "rules:\n"
    "  - name: ops-prod-shell\n"
    "    groups: [ops]\n"
    "    targets: [\"tier=ecs\", monitor]\n"
    "    allow: [shell, exec, sftp]\n"
    "    logins: [ec2-user, deploy]\n"
    "    when: \"Mon-Fri 07:00-21:00 Europe/Madrid\"\n"
    "    max_session: 4h\n"
    "  - name: ops-grafana\n"
    "    groups: [ops]\n"
    "    targets: [grafana]\n"
    "    allow: [forward]\n"
    "  - name: contractors-web\n"
    "    groups: [contractors]\n"
    "    targets: [\"web-*\"]\n"
    "    allow: [shell]\n"
    "    logins: [contractor]\n"
    "  - name: dba-db\n"
    "    groups: [dba]\n"
    "    targets: [rds-prod]\n"
    "    allow: [forward]\n"
    "    record_input: true\n"
    "  - name: carol-jump\n"
    "    users: [carol]\n"
    "    targets: [monitor]\n"
    "    allow: [jump]\n"
    "  - name: carol-night\n"
    "    users: [carol]\n"
    "    targets: [web-2]\n"
    "    allow: [shell]\n"
    "    when: \"Mon-Sun 22:00-06:00 UTC\"\n"
    "  - name: weekend-freeze\n"
    "    effect: deny\n"
    "    groups: [contractors]\n"
    "    when: \"Sat-Sun\"\n"
    "  - name: no-stage-root\n"
    "    effect: deny\n"
    "    targets: [web-stage]\n"
    "    logins: [root]\n"
    "  - name: no-web1-exec-carol\n"
    "    effect: deny\n"
    "    users: [carol]\n"
    "    targets: [web-1]\n"
    "    allow: [exec]\n"
    "grants:\n"
    "  - {id: g-0001, user: erin, targets: [rds-prod], allow: [forward],\n"
    "     until: 2026-11-26T18:00:00Z, reason: INC-42, from: [198.51.100.9/32]}\n"
    "  - {id: g-0002, user: bob, targets: [monitor], allow: [shell], logins: [bob],\n"
    "     until: 2026-12-01T00:00:00Z, reason: INC-43}\n"
    "  - {id: g-0003, user: erin, targets: [grafana], allow: [forward],\n"
    "     until: 2026-11-01T00:00:00Z, reason: OLD}\n"
    "exposure:\n"
    "  - {name: jump-ssh, port: 22, sources: users, aws_security_group: sg-0a1b2c3d}\n"
    "  - {name: grafana, port: 3000, sources: \"group:ops\", aws_security_group: sg-0e5f6a7b}\n"
    "  - {name: shop-admin, sources: [\"group:dba\", \"user:erin\"],\n"
    "     cloudflare: {list: jumpgate_admin_ips, zone_id: z1, host: shop.example.com,\n"
    "                  path_prefix: /admin}}\n";

static struct jg_policy *pol;

static int
setup(void **state)
{
    struct jg_diags d = {0};
    int r = jg_policy_load_mem("test.yaml", policy_text, sizeof(policy_text) - 1,
                               0, &pol, &d);

    if (r != 0)
        jg_diags_print(&d, stderr);
    jg_diags_clear(&d);
    return r;
}

static int
teardown(void **state)
{
    jg_policy_free(pol);
    return 0;
}

#define A JG_ALLOW
#define D JG_DENY
#define SHELL JG_ACT_SHELL
#define EXEC JG_ACT_EXEC
#define SFTP JG_ACT_SFTP
#define FWD JG_ACT_FORWARD
#define JUMP JG_ACT_JUMP
#define NEVER "never"

/* Thu 2026-11-26: Madrid is UTC+1. */
#define THU10 "2026-11-26T10:00:00Z"

struct row {
    int line;
    const char *user, *from, *target;
    unsigned action;
    const char *login, *at;
    enum jg_effect effect;
    const char *by;          /* rule name, grant id, or "" */
    const char *login_out;   /* login decided (allow rows) */
    const char *until;       /* RFC 3339 or "never" (allow rows) */
    const char *reason_has;  /* substring of the reason */
};

#define R(...) {__LINE__, __VA_ARGS__}

static const struct row rows[] = {
    /* groups, labels, default login, window and max_session */
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, THU10, A, "ops-prod-shell", "ec2-user", "2026-11-26T14:00:00Z", "allows"),
    R("alice", "203.0.113.5", "web-1", SHELL, "deploy", THU10, A, "ops-prod-shell", "deploy", "2026-11-26T14:00:00Z", "as deploy"),
    R("alice", "203.0.113.5", "web-1", SHELL, "root", THU10, D, "", NULL, NULL, "login 'root'"),
    R("alice", "203.0.113.5", "web-1", EXEC, NULL, THU10, A, "ops-prod-shell", "ec2-user", NULL, NULL),
    R("alice", "203.0.113.5", "web-1", SFTP, NULL, THU10, A, "ops-prod-shell", NULL, NULL, NULL),
    R("alice", "203.0.113.5", "monitor", SHELL, NULL, THU10, A, "ops-prod-shell", NULL, NULL, NULL),
    /* window end before max_session: 21:00 Madrid = 20:00Z */
    R("alice", "203.0.113.5", "web-2", SHELL, NULL, "2026-11-26T19:00:00Z", A, "ops-prod-shell", NULL, "2026-11-26T20:00:00Z", NULL),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-11-26T05:30:00Z", D, "", NULL, NULL, "time window of rule 'ops-prod-shell' (it opens next at 2026-11-26T06:00:00Z)"),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-11-26T20:00:00Z", D, "", NULL, NULL, "time window of rule 'ops-prod-shell' (it opens next at 2026-11-27T06:00:00Z)"),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-11-28T10:00:00Z", D, "", NULL, NULL, "time window of rule 'ops-prod-shell' (it opens next at 2026-11-30T06:00:00Z)"),
    /* DST: EU summer time starts Sun 2026-03-29 */
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-03-27T05:30:00Z", D, "", NULL, NULL, "time window of rule 'ops-prod-shell' (it opens next at 2026-03-27T06:00:00Z)"),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-03-27T06:30:00Z", A, "ops-prod-shell", NULL, NULL, NULL),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-03-30T05:30:00Z", A, "ops-prod-shell", NULL, NULL, NULL),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-03-30T04:30:00Z", D, "", NULL, NULL, "time window of rule 'ops-prod-shell' (it opens next at 2026-03-30T05:00:00Z)"),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-03-30T18:00:00Z", A, "ops-prod-shell", NULL, "2026-03-30T19:00:00Z", NULL),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-03-27T18:00:00Z", A, "ops-prod-shell", NULL, "2026-03-27T20:00:00Z", NULL),
    /* DST ends Sun 2026-10-25 */
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-10-23T05:30:00Z", A, "ops-prod-shell", NULL, NULL, NULL),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-10-26T05:30:00Z", D, "", NULL, NULL, "time window"),
    R("alice", "203.0.113.5", "web-1", SHELL, NULL, "2026-10-26T06:30:00Z", A, "ops-prod-shell", NULL, NULL, NULL),
    /* sources, IPv6, mapped IPv4 */
    R("alice", "198.51.100.1", "web-1", SHELL, NULL, THU10, D, "", NULL, NULL, "not in the 'from'"),
    R("alice", "2001:db8:0:1::5", "web-1", SHELL, NULL, THU10, A, "ops-prod-shell", NULL, NULL, NULL),
    R("alice", "2001:db9::1", "web-1", SHELL, NULL, THU10, D, "", NULL, NULL, "not in the 'from'"),
    R("alice", "::ffff:203.0.113.7", "web-1", SHELL, NULL, THU10, A, "ops-prod-shell", NULL, NULL, NULL),
    R("alice", "not-an-ip", "web-1", SHELL, NULL, THU10, D, "", NULL, NULL, "bad source"),
    /* discovered members, kinds, unknowns */
    /* no policy.d/ecs-prod.discovered.json here: no member is known */
    R("alice", "203.0.113.5", "ecs-prod/i-0abc123", SHELL, NULL, THU10, D, "", NULL, NULL, "unknown target"),
    R("alice", "203.0.113.5", "web-1/i-0abc123", SHELL, NULL, THU10, D, "", NULL, NULL, "unknown target"),
    R("alice", "203.0.113.5", "rds-prod", SHELL, NULL, THU10, D, "", NULL, NULL, "only forward"),
    R("alice", "203.0.113.5", "no-such", SHELL, NULL, THU10, D, "", NULL, NULL, "unknown target"),
    R("mallory", "203.0.113.5", "web-1", SHELL, NULL, THU10, D, "", NULL, NULL, "unknown user"),
    /* forward: no login; permission lasts until the user expires */
    R("alice", "203.0.113.5", "grafana", FWD, NULL, THU10, A, "ops-grafana", "", "2027-06-30T00:00:00Z", NULL),
    R("alice", "203.0.113.5", "grafana", FWD, "whatever", THU10, A, "ops-grafana", "", NULL, NULL),
    R("alice", "203.0.113.5", "grafana", SHELL, NULL, THU10, D, "", NULL, NULL, "only forward"),
    R("alice", "203.0.113.5", "web-1", FWD, NULL, THU10, D, "", NULL, NULL, "is a jump"),
    /* jump only where a rule says so */
    R("alice", "203.0.113.5", "monitor", JUMP, NULL, THU10, D, "", NULL, NULL, NULL),
    R("carol", "10.1.2.3", "monitor", JUMP, NULL, THU10, A, "carol-jump", "", NEVER, NULL),
    /* expired user */
    R("dave", "203.0.113.5", "web-1", SHELL, NULL, THU10, D, "", NULL, NULL, "expired"),
    R("alice", "203.0.113.5", "grafana", FWD, NULL, "2027-06-30T00:00:00Z", D, "", NULL, NULL, "expired"),
    /* deny precedence */
    R("carol", "10.1.2.3", "web-1", EXEC, NULL, THU10, D, "no-web1-exec-carol", NULL, NULL, "forbids"),
    R("carol", "10.1.2.3", "web-2", EXEC, NULL, THU10, A, "ops-prod-shell", NULL, NULL, NULL),
    R("bob", "198.51.100.7", "web-stage", SHELL, "root", THU10, D, "no-stage-root", NULL, NULL, NULL),
    R("alice", "203.0.113.5", "web-stage", SHELL, "root", THU10, D, "no-stage-root", NULL, NULL, NULL),
    R("bob", "198.51.100.7", "web-1", SHELL, NULL, "2026-11-28T10:00:00Z", D, "weekend-freeze", NULL, NULL, NULL),
    /* globs; the next deny window ends the permission */
    R("bob", "198.51.100.7", "web-2", SHELL, NULL, THU10, A, "contractors-web", "contractor", "2026-11-28T00:00:00Z", NULL),
    R("bob", "198.51.100.7", "web-stage", SHELL, "contractor", THU10, A, "contractors-web", "contractor", NULL, NULL),
    R("bob", "198.51.100.7", "monitor", SHELL, "contractor", THU10, D, "", NULL, NULL, "login"),
    R("bob", "203.0.113.5", "web-2", SHELL, NULL, THU10, D, "", NULL, NULL, "not in the 'from'"),
    /* grants */
    R("bob", "198.51.100.7", "monitor", SHELL, "bob", THU10, A, "g-0002", "bob", "2026-11-28T00:00:00Z", "INC-43"),
    R("bob", "198.51.100.7", "monitor", SHELL, NULL, THU10, A, "g-0002", "bob", NULL, NULL),
    R("erin", "198.51.100.9", "rds-prod", FWD, NULL, THU10, A, "g-0001", "", "2026-11-26T18:00:00Z", "INC-42"),
    R("erin", "192.0.2.1", "rds-prod", FWD, NULL, THU10, D, "", NULL, NULL, "grant g-0001"),
    R("erin", "198.51.100.9", "rds-prod", FWD, NULL, "2026-11-26T18:00:00Z", D, "", NULL, NULL, "ended"),
    R("erin", "192.0.2.1", "grafana", FWD, NULL, THU10, D, "", NULL, NULL, "g-0003 ended"),
    R("erin", "192.0.2.1", "web-1", SHELL, NULL, THU10, D, "", NULL, NULL, "no rule or grant"),
    /* overnight window across midnight, Mon-Sun */
    R("carol", "10.1.2.3", "web-2", SHELL, "carol", "2026-11-26T23:00:00Z", A, "carol-night", "carol", "2026-11-27T06:00:00Z", NULL),
    R("carol", "10.1.2.3", "web-2", SHELL, "carol", "2026-11-26T03:00:00Z", A, "carol-night", "carol", "2026-11-26T06:00:00Z", NULL),
    R("carol", "10.1.2.3", "web-2", SHELL, "carol", "2026-11-26T12:00:00Z", D, "", NULL, NULL, NULL),
    /* the longest permission wins: carol on web-2 at 05:00Z Thu */
    R("carol", "fd00::1", "rds-prod", FWD, NULL, THU10, A, "dba-db", "", NEVER, NULL),
};

static void
test_table(void **state)
{
    size_t i, fails = 0;

    assert_true(sizeof(rows) / sizeof(rows[0]) >= 40);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *w = &rows[i];
        struct jg_request q = {.user = w->user, .from = w->from, .target = w->target,
                               .action = w->action, .login = w->login, .at = T(w->at)};
        struct jg_decision d;
        char until[JG_TIME_STRLEN];
        bool ok;

        assert_int_equal(jg_policy_decide(pol, &q, &d), 0);
        jg_time_format(d.until, until, sizeof(until));
        ok = d.effect == w->effect && strcmp(d.by_name, w->by) == 0 &&
             (w->login_out == NULL || strcmp(d.login, w->login_out) == 0) &&
             (w->until == NULL || strcmp(until, w->until) == 0) &&
             (w->reason_has == NULL || strstr(d.reason, w->reason_has) != NULL);
        if (!ok) {
            fprintf(stderr,
                    "FAIL %s:%d: %s %s %s %s as %s at %s\n"
                    "  expected %s by '%s' login %s until %s reason ~ %s\n"
                    "  got      %s by '%s' login %s until %s reason: %s\n",
                    __FILE__, w->line, w->user, jg_policy_action_name(w->action), w->target,
                    w->from, w->login ? w->login : "-", w->at,
                    w->effect ? "allow" : "deny", w->by, w->login_out ? w->login_out : "*",
                    w->until ? w->until : "*", w->reason_has ? w->reason_has : "*",
                    d.effect ? "allow" : "deny", d.by_name, d.login, until, d.reason);
            fails++;
        }
    }
    assert_int_equal(fails, 0);
}

static void
test_record_input_and_max_session(void **state)
{
    struct jg_request q = {.user = "carol", .from = "10.0.0.1", .target = "rds-prod",
                           .action = JG_ACT_FORWARD, .at = T(THU10)};
    struct jg_decision d;

    assert_int_equal(jg_policy_decide(pol, &q, &d), 0);
    assert_int_equal(d.effect, JG_ALLOW);
    assert_true(d.record_input);
    assert_int_equal(d.max_session, 0);
    q.user = "alice";
    q.from = "203.0.113.1";
    q.target = "web-1";
    q.action = JG_ACT_SHELL;
    assert_int_equal(jg_policy_decide(pol, &q, &d), 0);
    assert_false(d.record_input);
    assert_int_equal(d.max_session, 4 * 3600);
    assert_int_equal(d.by, JG_BY_RULE);
}

static void
test_bad_requests(void **state)
{
    struct jg_request q = {.user = "alice", .from = "203.0.113.5", .target = "web-1",
                           .action = JG_ACT_SHELL | JG_ACT_EXEC, .at = T(THU10)};
    struct jg_decision d;

    assert_int_equal(jg_policy_decide(pol, &q, &d), JG_ERR_INVALID);
    assert_int_equal(d.effect, JG_DENY);
    q.action = 0;
    assert_int_equal(jg_policy_decide(pol, &q, &d), JG_ERR_INVALID);
    assert_int_equal(d.effect, JG_DENY);
    q.action = JG_ACT_SHELL;
    q.user = NULL;
    assert_int_equal(jg_policy_decide(pol, &q, &d), JG_ERR_INVALID);
    assert_int_equal(d.effect, JG_DENY);
}

static void
test_logins(void **state)
{
    struct jg_request q = {.user = "alice", .from = "203.0.113.5", .target = "web-1",
                           .action = JG_ACT_SHELL, .at = T(THU10)};
    const char *v[8];
    size_t n = jg_policy_logins(pol, &q, v, 8);

    assert_int_equal(n, 2);
    assert_string_equal(v[0], "ec2-user");
    assert_string_equal(v[1], "deploy");
    q.at = T("2026-11-28T10:00:00Z");
    assert_int_equal(jg_policy_logins(pol, &q, v, 8), 0);
    q.user = "bob";
    q.from = "198.51.100.1";
    q.target = "web-stage";
    q.at = T(THU10);
    n = jg_policy_logins(pol, &q, v, 8);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "contractor");
}

static void
expect_cidrs(size_t idx, const char *at, const char *want)
{
    struct jg_cidr *v = NULL;
    size_t n = 0, i;
    char got[512] = "", c[JG_CIDR_STRLEN];

    assert_int_equal(jg_policy_exposure_sources(pol, idx, T(at), &v, &n), 0);
    for (i = 0; i < n; i++) {
        jg_cidr_format(&v[i], c, sizeof(c));
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "", c);
    }
    free(v);
    assert_string_equal(got, want);
}

static void
test_exposure(void **state)
{
    const struct jg_exposure *e;

    assert_int_equal(jg_policy_n_exposures(pol), 3);
    e = jg_policy_exposure_at(pol, 0);
    assert_string_equal(e->name, "jump-ssh");
    assert_int_equal(e->port, 22);
    assert_string_equal(e->aws_security_group, "sg-0a1b2c3d");
    assert_null(e->cloudflare);
    e = jg_policy_exposure_at(pol, 2);
    assert_non_null(e->cloudflare);
    assert_string_equal(e->cloudflare->list, "jumpgate_admin_ips");
    assert_string_equal(e->cloudflare->path_prefix, "/admin");
    /* users: dave expired; erin's grant inside bob's network; erin own */
    expect_cidrs(0, THU10, "10.0.0.0/8 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 "
                           "2001:db8::/48 fd00::/8");
    expect_cidrs(1, THU10, "10.0.0.0/8 203.0.113.0/24 2001:db8::/48 fd00::/8");
    /* a grant adds its source while it lasts */
    expect_cidrs(2, THU10, "10.0.0.0/8 192.0.2.0/24 198.51.100.9/32 fd00::/8");
    expect_cidrs(2, "2026-11-26T18:00:00Z", "10.0.0.0/8 192.0.2.0/24 fd00::/8");
    /* alice's expiry closes her networks */
    expect_cidrs(1, "2027-07-01T00:00:00Z", "10.0.0.0/8 fd00::/8");
}

static void
test_accessors(void **state)
{
    const struct jg_user *u = jg_policy_user(pol, "alice");
    const struct jg_target *t;

    assert_non_null(u);
    assert_true(u->mfa);
    assert_int_equal(u->n_keys, 1);
    assert_int_equal(u->n_groups, 1);
    assert_int_equal(u->n_from, 2);
    assert_null(jg_policy_user(pol, "mallory"));
    t = jg_policy_target(pol, "web-stage");
    assert_non_null(t);
    assert_string_equal(t->host, "2001:db8::5");
    assert_int_equal(t->port, 22);
    t = jg_policy_target(pol, "ecs-prod");
    assert_non_null(t);
    assert_string_equal(t->ecs_cluster, "prestashop-prod");
    assert_null(t->host);
    assert_int_equal(t->port, 22);
    assert_null(jg_policy_target(pol, "ecs-prod/i-0123"));
    assert_int_equal(jg_policy_n_members(pol), 0);
    assert_null(jg_policy_target(pol, "ecs-prod/../x"));
    t = jg_policy_target(pol, "rds-prod");
    assert_string_equal(t->protocol, "mysql");
    assert_int_equal(t->kind, JG_TARGET_TCP);
    assert_int_equal(jg_policy_n_users(pol), 5);
    assert_int_equal(jg_policy_n_targets(pol), 7);
    assert_int_equal(jg_policy_n_rules(pol), 9);
    assert_int_equal(jg_policy_n_grants(pol), 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_record_input_and_max_session),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_logins),
        cmocka_unit_test(test_exposure),
        cmocka_unit_test(test_accessors),
    };

    return cmocka_run_group_tests_name("policy/decide", tests, setup, teardown);
}
