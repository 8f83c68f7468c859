/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/pam/test_pam_check.c - pam_jumpgate.so's argument parser and
 * policy check, without libpam (the sources are compiled in here). */
#include <unistd.h>

#include "jgtest.h"

#include "pam/args.c"
#include "pam/check.c"

static void
test_args_table(void **state)
{
    static const struct {
        const char *argv[5];
        int argc, r;
        unsigned action;
        bool ignore;
        const char *why;
    } cases[] = {
        {{"target=t"}, 1, 0, JG_ACT_SHELL, false, ""},
        {{"target=t", "action=forward", "on_error=ignore", "config=/x.yaml"}, 4,
         0, JG_ACT_FORWARD, true, ""},
        {{"target=t", "on_error=deny"}, 2, 0, JG_ACT_SHELL, false, ""},
        {{"target=t", "debug"}, 2, JG_ERR_INVALID, 0, false, "unknown argument 'debug'"},
        {{"config=/x"}, 1, JG_ERR_INVALID, 0, false, "target= is required"},
        {{"target=t", "target=u"}, 2, JG_ERR_INVALID, 0, false, "target= given twice"},
        {{"target="}, 1, JG_ERR_INVALID, 0, false, "target= needs a value"},
        {{"target=t", "action=all"}, 2, JG_ERR_INVALID, 0, false, "action=all"},
        {{"target=t", "on_error=yes"}, 2, JG_ERR_INVALID, 0, false, "on_error=yes"},
        {{"target=t", "config=x.yaml"}, 2, JG_ERR_INVALID, 0, false, "must be absolute"},
        {{"targetx=t"}, 1, JG_ERR_INVALID, 0, false, "unknown argument"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_pam_args a;
        char why[256];
        int r = jg_pam_args_parse(cases[i].argc, cases[i].argv, &a, why,
                                  sizeof(why));

        if (r != cases[i].r || strstr(why, cases[i].why) == NULL)
            fail_msg("case %zu: r=%d why='%s'", i, r, why);
        if (r == 0 && (a.action != cases[i].action ||
                       a.on_error_ignore != cases[i].ignore ||
                       strcmp(a.target, "t") != 0))
            fail_msg("case %zu: action=%u ignore=%d", i, a.action,
                     a.on_error_ignore);
    }
}

static char dir[64];

static void
put(const char *name, const char *text)
{
    char p[128];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    assert_non_null(f = fopen(p, "w"));
    fputs(text, f);
    fclose(f);
}

static int
setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/jg-pam-unit-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    put("jumpgate.yaml", "policy: policy.yaml\n");
    put("policy.yaml", "version: 1\nusers:\n  alice:\n    keys: [\"" KEY_ED25519
        "\"]\n    from: [203.0.113.0/24, 127.0.0.1]\n"
        "targets:\n  jump: {kind: ssh, address: \"127.0.0.1:22\"}\n"
        "rules:\n  - {name: r1, users: [alice], targets: [jump], allow: [shell]}\n");
    return 0;
}

static int
teardown(void **state)
{
    char p[128];

    snprintf(p, sizeof(p), "%s/jumpgate.yaml", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/policy.yaml", dir);
    unlink(p);
    return rmdir(dir);
}

static void
test_check(void **state)
{
    static const struct {
        const char *user, *rhost, *target;
        unsigned action;
        enum jg_pam_verdict v;
    } cases[] = {
        {"alice", "203.0.113.5", "jump", JG_ACT_SHELL, JG_PAM_ALLOW},
        {"alice", NULL, "jump", JG_ACT_SHELL, JG_PAM_ALLOW},
        {"alice", "", "jump", JG_ACT_SHELL, JG_PAM_ALLOW},
        {"alice", "198.51.100.1", "jump", JG_ACT_SHELL, JG_PAM_DENY},
        {"alice", "localhost", "jump", JG_ACT_SHELL, JG_PAM_DENY},
        {"alice", "203.0.113.5", "jump", JG_ACT_EXEC, JG_PAM_DENY},
        {"alice", "203.0.113.5", "nope", JG_ACT_SHELL, JG_PAM_DENY},
        {"zed", "203.0.113.5", "jump", JG_ACT_SHELL, JG_PAM_USER_UNKNOWN},
        {NULL, "203.0.113.5", "jump", JG_ACT_SHELL, JG_PAM_USER_UNKNOWN},
    };
    char cfg[128];
    size_t i;

    snprintf(cfg, sizeof(cfg), "%s/jumpgate.yaml", dir);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct jg_pam_args a = {cfg, cases[i].target, cases[i].action, false};
        struct jg_pam_result r;

        jg_pam_check(&a, cases[i].user, cases[i].rhost,
                     T("2026-11-27T12:00:00Z"), &r, NULL);
        if (r.verdict != cases[i].v)
            fail_msg("case %zu: verdict %d, want %d (%s)", i, r.verdict,
                     cases[i].v, r.dec.reason);
    }
}

static void
test_check_errors(void **state)
{
    struct jg_pam_args a = {"/nonexistent/jumpgate.yaml", "jump", JG_ACT_SHELL, false};
    struct jg_pam_result r;
    char cfg[128];

    jg_pam_check(&a, "alice", "203.0.113.5", 0, &r, NULL);
    assert_int_equal(r.verdict, JG_PAM_ERROR);
    assert_non_null(strstr(r.error, "cannot load the configuration: "));
    assert_non_null(strstr(r.error, "/nonexistent/jumpgate.yaml"));

    put("policy.yaml", "version: 1\nusers: {alice: {from: [nonsense]}}\n");
    snprintf(cfg, sizeof(cfg), "%s/jumpgate.yaml", dir);
    a.config = cfg;
    jg_pam_check(&a, "alice", "203.0.113.5", 0, &r, NULL);
    assert_int_equal(r.verdict, JG_PAM_ERROR);
    assert_non_null(strstr(r.error, "cannot load the policy: "));
    assert_non_null(strstr(r.error, "policy.yaml:2:"));
    assert_true(r.n_errors >= 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_table),
        cmocka_unit_test_setup_teardown(test_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_errors, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
