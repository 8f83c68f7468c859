/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/policy/test_discovered.c - members of discovering targets
 * from policy.d/T.discovered.json: they resolve with their own address,
 * labels and alias, rules on the parent or its labels cover them, names
 * discovery did not find stay unknown, and a malformed file is an error
 * naming the file and the field. */
#include <sys/stat.h>
#include <unistd.h>

#include "jgtest.h"

static char dir[64];

static const char policy[] =
    "version: 1\n"
    "users:\n"
    "  alice: {keys: [\"" KEY_ED25519 "\"], groups: [ops], from: [10.0.0.0/8]}\n"
    "  bob: {keys: [\"" KEY_ECDSA "\"], groups: [dev], from: [10.0.0.0/8]}\n"
    "targets:\n"
    "  web-1: {kind: ssh, address: \"10.0.0.1:22\"}\n"
    "  ecs-prod: {kind: ssh, discover: {ecs_cluster: shop-prod, port: 2222},\n"
    "             labels: {env: prod, tier: ecs}}\n"
    "  ecs-stage: {kind: ssh, discover: {ecs_cluster: shop-stage}}\n"
    "rules:\n"
    "  - {name: ops-ecs, groups: [ops], targets: [ecs-prod], allow: [shell]}\n"
    "  - {name: dev-ecs, groups: [dev], targets: [\"tier=ecs\"], allow: [exec]}\n";

static const char good[] =
    "{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\",\n"
    " \"refreshed\": \"2026-11-27T10:00:00Z\",\n"
    " \"members\": [\n"
    "  {\"name\": \"ecs-prod/i-0123456789abcdef0\", \"alias\": \"web-a\",\n"
    "   \"address\": \"10.0.1.11:2222\",\n"
    "   \"labels\": {\"env\": \"prod\", \"tier\": \"ecs\",\n"
    "              \"instance-id\": \"i-0123456789abcdef0\"}},\n"
    "  {\"name\": \"ecs-prod/i-0fedcba9876543210\", \"alias\": \"76543210\",\n"
    "   \"address\": \"10.0.1.12:2222\", \"labels\": {}}]}\n";

static void
put(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *
path_of(const char *name)
{
    static char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static int
setup(void **state)
{
    char sub[128];

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/jg-disc-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(sub, sizeof(sub), "%s/policy.d", dir);
    if (mkdir(sub, 0755) != 0)
        return -1;
    put("policy.yaml", policy);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static void
decide(const struct jg_policy *p, const char *user, const char *target,
       unsigned action, struct jg_decision *dec)
{
    struct jg_request q = {.user = user, .from = "10.1.1.1", .target = target,
                           .action = action, .at = T("2026-11-27T10:00:00Z")};

    assert_int_equal(jg_policy_decide(p, &q, dec), 0);
}

static void
test_members_resolve(void **state)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    const struct jg_target *t, *u;
    struct jg_decision dec;
    char *want;

    (void)state;
    put("policy.d/ecs-prod.discovered.json", good);
    if (jg_policy_load(path_of("policy.yaml"), &p, &d) != 0)
        jg_diags_print(&d, stderr);
    assert_non_null(p);
    assert_int_equal(jg_policy_n_members(p), 2);
    /* the discovered file is not a drop-in */
    assert_int_equal(jg_policy_n_files(p), 1);
    assert_int_equal(jg_policy_n_targets(p), 3);
    assert_int_equal(jg_policy_target(p, "ecs-prod")->port, 2222);

    t = jg_policy_target(p, "ecs-prod/i-0123456789abcdef0");
    assert_non_null(t);
    assert_string_equal(t->host, "10.0.1.11");
    assert_int_equal(t->port, 2222);
    assert_string_equal(t->parent, "ecs-prod");
    assert_string_equal(t->alias, "web-a");
    assert_int_equal(t->n_labels, 3);
    assert_string_equal(t->labels[2].key, "instance-id");
    u = jg_policy_target(p, "ecs-prod/web-a");
    assert_ptr_equal(t, u);
    assert_ptr_equal(jg_policy_target(p, "ecs-prod/76543210"),
                     jg_policy_member_at(p, 1));
    assert_string_equal(jg_policy_member_at(p, 1)->host, "10.0.1.12");

    /* rule on the parent's name, and on its labels */
    decide(p, "alice", "ecs-prod/i-0123456789abcdef0", JG_ACT_SHELL, &dec);
    assert_int_equal(dec.effect, JG_ALLOW);
    assert_string_equal(dec.by_name, "ops-ecs");
    decide(p, "alice", "ecs-prod/web-a", JG_ACT_SHELL, &dec);
    assert_int_equal(dec.effect, JG_ALLOW);
    decide(p, "bob", "ecs-prod/76543210", JG_ACT_EXEC, &dec);
    assert_int_equal(dec.effect, JG_ALLOW);
    assert_string_equal(dec.by_name, "dev-ecs");
    decide(p, "bob", "ecs-prod/76543210", JG_ACT_SHELL, &dec);
    assert_int_equal(dec.effect, JG_DENY);

    /* what discovery did not find is unknown, and so is every member of a
     * target without a file */
    decide(p, "alice", "ecs-prod/i-0aaaaaaaaaaaaaaaa", JG_ACT_SHELL, &dec);
    assert_int_equal(dec.effect, JG_DENY);
    assert_non_null(strstr(dec.reason, "unknown target"));
    assert_null(jg_policy_target(p, "ecs-prod/i-0aaaaaaaaaaaaaaaa"));
    assert_null(jg_policy_target(p, "ecs-stage/i-0123456789abcdef0"));
    assert_null(jg_policy_target(p, "web-1/i-0123456789abcdef0"));
    jg_policy_free(p);

    want = jg_policy_discovered_path(path_of("policy.yaml"), "ecs-prod");
    assert_string_equal(want, path_of("policy.d/ecs-prod.discovered.json"));
    free(want);
    unlink(path_of("policy.d/ecs-prod.discovered.json"));
}

/* Each broken file: the policy does not load and the message names the
 * file and says what is wrong. */
static void
test_broken_files(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"{\"target\": \"ecs-prod\",", "not valid JSON"},
        {"[]", "must be a JSON object"},
        {"{\"target\": \"ecs-stage\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": []}",
         "file is that of target 'ecs-prod'"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"yesterday\", \"members\": []}",
         "not an RFC 3339 time"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": {}}",
         "members must be an array"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": [], "
         "\"extra\": 1}", "unknown key 'extra'"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": ["
         "{\"name\": \"ecs-prod/i-01234567\", \"alias\": \"a\", "
         "\"address\": \"10.0.0.1\"}]}", "members[0]: bad address"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": ["
         "{\"name\": \"web-1/i-01234567\", \"alias\": \"a\", "
         "\"address\": \"10.0.0.1:22\"}]}", "bad member name"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": ["
         "{\"name\": \"ecs-prod/i-01234567\", \"alias\": \"a/b\", "
         "\"address\": \"10.0.0.1:22\"}]}", "bad alias"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": ["
         "{\"name\": \"ecs-prod/i-01234567\", \"alias\": \"a\", "
         "\"address\": \"10.0.0.1:22\"},"
         "{\"name\": \"ecs-prod/i-89abcdef\", \"alias\": \"a\", "
         "\"address\": \"10.0.0.2:22\"}]}", "members[1]: alias 'a' is already"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": ["
         "{\"name\": \"ecs-prod/i-01234567\", \"alias\": \"a\", "
         "\"address\": \"10.0.0.1:22\", \"labels\": {\"k\": 1}}]}",
         "bad label 'k'"},
        {"{\"target\": \"ecs-prod\", \"cluster\": \"shop-prod\", "
         "\"refreshed\": \"2026-11-27T10:00:00Z\", \"members\": ["
         "{\"name\": \"ecs-prod/i-01234567\", \"address\": \"10.0.0.1:22\"}]}",
         "members[0]: alias is missing"},
    };
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_policy *p = NULL;
        struct jg_diags d = {0};
        bool found = false;

        put("policy.d/ecs-prod.discovered.json", cases[i].text);
        assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d),
                         JG_ERR_INVALID);
        assert_null(p);
        for (k = 0; k < d.n; k++)
            found |= strcmp(d.v[k].file,
                            path_of("policy.d/ecs-prod.discovered.json")) ==
                         0 &&
                     strstr(d.v[k].msg, cases[i].msg) != NULL;
        if (!found) {
            jg_diags_print(&d, stderr);
            fail_msg("case %zu: no diagnostic with '%s'", i, cases[i].msg);
        }
        jg_diags_clear(&d);
    }
    unlink(path_of("policy.d/ecs-prod.discovered.json"));
}

/* A file written for another cluster than the policy names now is not
 * trusted: no members, but the policy loads. */
static void
test_other_cluster_ignored(void **state)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    char *text = jg_xstrdup(good), *at = strstr(text, "shop-prod");

    (void)state;
    memcpy(at, "shop-test", 9);
    put("policy.d/ecs-prod.discovered.json", text);
    assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d), 0);
    assert_int_equal(jg_policy_n_members(p), 0);
    assert_null(jg_policy_target(p, "ecs-prod/web-a"));
    jg_policy_free(p);
    free(text);
    unlink(path_of("policy.d/ecs-prod.discovered.json"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_resolve),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_other_cluster_ignored),
    };

    jg_log_init("test", false, JG_LOG_ERROR);
    return cmocka_run_group_tests(tests, setup, teardown);
}
