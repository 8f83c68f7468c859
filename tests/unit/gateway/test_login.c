/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/gateway/test_login.c - SSH user names: "alice", "alice:web-1",
 * "alice:deploy@web-1", and the same with '+' for ':' (what sftp and scp
 * can pass); bad parts. The source is compiled in here. */
#include "jgtest.h"

#include "gateway/daemon/login.c"

static void
parse(const char *s, int rc, const char *user, const char *login,
      const char *target, bool bad)
{
    struct jg_gw_login l;

    assert_int_equal(jg_gw_login_parse(s, &l), rc);
    if (rc != 0)
        return;
    assert_string_equal(l.user, user);
    assert_string_equal(l.login, login);
    assert_string_equal(l.target, target);
    assert_int_equal(l.bad_target, bad);
}

static void
test_forms(void **state)
{
    (void)state;
    parse("alice", 0, "alice", "", "", false);
    parse("alice:web-1", 0, "alice", "", "web-1", false);
    parse("alice:deploy@web-1", 0, "alice", "deploy", "web-1", false);
    parse("alice+web-1", 0, "alice", "", "web-1", false);
    parse("alice+deploy@web-1", 0, "alice", "deploy", "web-1", false);
    parse("alice+ecs-prod/web-a", 0, "alice", "", "ecs-prod/web-a", false);
    /* the first separator splits; what follows must be a target */
    parse("alice+web-1:x", 0, "alice", "", "", true);
    parse("alice:web+1", 0, "alice", "", "", true);
    parse("alice+", 0, "alice", "", "", true);
    parse("+web-1", JG_ERR_INVALID, NULL, NULL, NULL, false);
    parse("Alice+web-1", JG_ERR_INVALID, NULL, NULL, NULL, false);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
