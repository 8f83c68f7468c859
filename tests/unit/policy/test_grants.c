/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/policy/test_grants.c - grant files: written atomically, never
 * lost when written concurrently, revoked, pruned; refused when the policy
 * or the grant is not valid. */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jgtest.h"

static char dir[64], policy[128], dropins[128];

static const char policy_text[] =
    "version: 1\n"
    "users:\n"
    "  alice: {keys: [\"" KEY_ED25519 "\"], from: [203.0.113.0/24]}\n"
    "targets:\n"
    "  rds-prod: {kind: tcp, address: \"db.internal:3306\", protocol: mysql}\n"
    "  web-1: {kind: ssh, address: \"10.0.0.1:22\"}\n"
    "grants:\n"
    "  - {id: g-hand, user: alice, targets: [web-1], allow: [shell],\n"
    "     until: 2030-01-01T00:00:00Z, reason: by hand}\n";

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/jg-grants-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
    snprintf(dropins, sizeof(dropins), "%s/policy.d", dir);
    write_file(policy, policy_text);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static size_t
count_files(void)
{
    DIR *d = opendir(dropins);
    struct dirent *e;
    size_t n = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static const char *const rds[] = {"rds-prod"};
static const char *const src[] = {"198.51.100.9"};

static struct jg_grant_spec
spec(int64_t until)
{
    struct jg_grant_spec s = {.user = "alice", .targets = rds, .n_targets = 1,
                              .allow = JG_ACT_FORWARD, .from = src, .n_from = 1,
                              .until = until, .reason = "INC-42 \"db\" check"};
    return s;
}

static void
test_write_and_decide(void **state)
{
    int64_t now = T("2026-11-27T10:00:00Z");
    struct jg_grant_spec s = spec(now + 7200);
    struct jg_diags d = {0};
    struct jg_policy *p = NULL;
    struct jg_request q = {.user = "alice", .from = "198.51.100.9", .target = "rds-prod",
                           .action = JG_ACT_FORWARD, .at = now};
    struct jg_decision dec;
    char id[32], path[256];
    struct stat st;

    if (jg_policy_grant_write(policy, &s, now, id, sizeof(id), &d) != 0) {
        jg_diags_print(&d, stderr);
        fail();
    }
    assert_int_equal(strncmp(id, "g-", 2), 0);
    assert_int_equal(strlen(id), 10);
    snprintf(path, sizeof(path), "%s/grant-%s.yaml", dropins, id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(count_files(), 1); /* no temporary file left */
    assert_int_equal(jg_policy_load(policy, &p, &d), 0);
    assert_int_equal(jg_policy_n_grants(p), 2);
    assert_int_equal(jg_policy_decide(p, &q, &dec), 0);
    assert_int_equal(dec.effect, JG_ALLOW);
    assert_string_equal(dec.by_name, id);
    assert_int_equal(dec.until, now + 7200);
    assert_non_null(strstr(dec.reason, "INC-42 \"db\" check"));
    q.at = now + 7200;
    assert_int_equal(jg_policy_decide(p, &q, &dec), 0);
    assert_int_equal(dec.effect, JG_DENY);
    jg_policy_free(p);
    jg_diags_clear(&d);
}

static void
test_refused(void **state)
{
    int64_t now = T("2026-11-27T10:00:00Z");
    struct jg_grant_spec s = spec(now + 60);
    static const char *const nope[] = {"no-such"};
    struct jg_diags d = {0};
    char id[32], *t;
    size_t before = count_files();

    s.user = "mallory";
    s.targets = nope;
    s.until = now - 1;
    assert_int_equal(jg_policy_grant_write(policy, &s, now, id, sizeof(id), &d), JG_ERR_INVALID);
    t = diags_text(&d);
    assert_non_null(strstr(t, "unknown user 'mallory'"));
    assert_non_null(strstr(t, "unknown target 'no-such'"));
    assert_non_null(strstr(t, "end before it starts"));
    free(t);
    jg_diags_clear(&d);
    assert_int_equal(count_files(), before);
}

static void
test_concurrent_writes(void **state)
{
    int64_t now = T("2026-11-27T10:00:00Z");
    enum { N = 16 };
    pid_t kids[N];
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    size_t before = count_files(), i, j;
    int st;

    for (i = 0; i < N; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            struct jg_grant_spec s = spec(now + 3600);
            struct jg_diags cd = {0};
            char id[32];
            _exit(jg_policy_grant_write(policy, &s, now, id, sizeof(id), &cd) == 0 ? 0 : 1);
        }
    }
    for (i = 0; i < N; i++) {
        assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_int_equal(count_files(), before + N);
    assert_int_equal(jg_policy_load(policy, &p, &d), 0);
    assert_int_equal(jg_policy_n_grants(p), before + N + 1);
    for (i = 0; i < jg_policy_n_grants(p); i++) {
        for (j = i + 1; j < jg_policy_n_grants(p); j++)
            assert_string_not_equal(jg_policy_grant_at(p, i)->id,
                                    jg_policy_grant_at(p, j)->id);
    }
    jg_policy_free(p);
}

static void
test_revoke(void **state)
{
    int64_t now = T("2026-11-27T10:00:00Z");
    struct jg_grant_spec s = spec(now + 60);
    struct jg_diags d = {0};
    char id[32], *t;
    size_t before;

    assert_int_equal(jg_policy_grant_write(policy, &s, now, id, sizeof(id), &d), 0);
    before = count_files();
    assert_int_equal(jg_policy_grant_revoke(policy, id, &d), 0);
    assert_int_equal(count_files(), before - 1);
    assert_int_equal(jg_policy_grant_revoke(policy, id, &d), JG_ERR_NOTFOUND);
    assert_int_equal(jg_policy_grant_revoke(policy, "../policy", &d), JG_ERR_NOTFOUND);
    /* a grant written by hand in policy.yaml is not removed */
    assert_int_equal(jg_policy_grant_revoke(policy, "g-hand", &d), JG_ERR_INVALID);
    t = diags_text(&d);
    assert_non_null(strstr(t, "8:1: grant g-hand is defined here"));
    free(t);
    jg_diags_clear(&d);
}

struct pruned {
    int n;
    char id[32];
};

static void
on_prune(const char *id, const char *user, int64_t until, void *arg)
{
    struct pruned *pr = arg;

    pr->n++;
    jg_strlcpy(pr->id, id, sizeof(pr->id));
    assert_string_equal(user, "alice");
}

static void
test_prune(void **state)
{
    int64_t now = T("2026-11-27T10:00:00Z");
    struct jg_grant_spec s = spec(now + 60);
    struct jg_diags d = {0};
    struct pruned pr = {0};
    char short_id[32], long_id[32], path[256];
    struct stat st;
    size_t before;

    assert_int_equal(jg_policy_grant_write(policy, &s, now, short_id, sizeof(short_id), &d), 0);
    s.until = now + 86400 * 30;
    assert_int_equal(jg_policy_grant_write(policy, &s, now, long_id, sizeof(long_id), &d), 0);
    before = count_files();
    /* nothing has ended yet */
    assert_int_equal(jg_policy_grant_prune(policy, now, on_prune, &pr, &d), 0);
    /* an hour later the short one has; earlier tests' grants ended too */
    assert_true(jg_policy_grant_prune(policy, now + 7200, on_prune, &pr, &d) >= 1);
    snprintf(path, sizeof(path), "%s/grant-%s.yaml", dropins, short_id);
    assert_int_not_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/grant-%s.yaml", dropins, long_id);
    assert_int_equal(stat(path, &st), 0);
    assert_true(count_files() < before);
    assert_true(pr.n >= 1);
    assert_int_equal(d.n, 0);
}

static void
test_broken_policy_refuses(void **state)
{
    int64_t now = T("2026-11-27T10:00:00Z");
    struct jg_grant_spec s = spec(now + 60);
    struct jg_diags d = {0};
    char id[32], broken[256];
    size_t before = count_files();

    snprintf(broken, sizeof(broken), "%s/zz-broken.yaml", dropins);
    write_file(broken, "users: [\n");
    assert_int_equal(jg_policy_grant_write(policy, &s, now, id, sizeof(id), &d), JG_ERR_INVALID);
    assert_true(d.n >= 1);
    assert_int_equal(count_files(), before + 1);
    unlink(broken);
    jg_diags_clear(&d);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_and_decide),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_concurrent_writes),
        cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_prune),
        cmocka_unit_test(test_broken_policy_refuses),
    };

    return cmocka_run_group_tests_name("policy/grants", tests, setup, teardown);
}
