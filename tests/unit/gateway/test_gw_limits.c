/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/gateway/test_gw_limits.c - the master's limits: the random
 * early drop of limits.max_startups, and the ban table of
 * limits.auth_failures (failures in a window, ban, decay, bounded size).
 * The source is compiled in here (jumpgated is not a library). */
#include "jgtest.h"

#define JG_GW_ROOM_MASTER
#include "gateway/master/limits.c"

static void
test_drop_pct_table(void **state)
{
    static const struct {
        int start, rate, full;
        size_t n;
        int pct;
    } cases[] = {
        {10, 30, 100, 0, 0},    {10, 30, 100, 9, 0},
        {10, 30, 100, 10, 30},  {10, 30, 100, 55, 65},
        {10, 30, 100, 99, 99},  {10, 30, 100, 100, 100},
        {10, 30, 100, 5000, 100},
        {64, 100, 64, 63, 0},   {64, 100, 64, 64, 100},
        {1, 50, 3, 1, 50},      {1, 50, 3, 2, 75},
        {0, 50, 3, 0, 100},     {5, 50, 3, 0, 100},  /* nonsense: closed */
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = jg_gw_startups_drop_pct(cases[i].start, cases[i].rate,
                                          cases[i].full, cases[i].n);
        if (got != cases[i].pct)
            fail_msg("case %zu: %d:%d:%d with %zu: %d%%, want %d%%", i,
                     cases[i].start, cases[i].rate, cases[i].full,
                     cases[i].n, got, cases[i].pct);
    }
}

static void
test_drop_draws(void **state)
{
    uint32_t r;
    int dropped = 0;

    /* 30 % at start: exactly the draws 0..29 of every hundred drop. */
    for (r = 0; r < 1000; r++)
        dropped += jg_gw_startups_drop(10, 30, 100, 10, r);
    assert_int_equal(dropped, 300);
    for (r = 0; r < 100; r++) {
        assert_false(jg_gw_startups_drop(10, 30, 100, 9, r));
        assert_true(jg_gw_startups_drop(10, 30, 100, 100, r));
    }
}

struct ended_log {
    char srcs[8][64];
    size_t n;
};

static void
on_ended(const char *src, void *arg)
{
    struct ended_log *l = arg;

    if (l->n < 8)
        jg_strlcpy(l->srcs[l->n++], src, sizeof(l->srcs[0]));
}

static void
test_ban_and_decay(void **state)
{
    struct jg_gw_bans *b = jg_gw_bans_new(3, 60, 100);
    struct ended_log log = {0};
    int64_t until = 0, next;

    assert_false(jg_gw_bans_fail(b, "127.0.0.3", 1000, &until));
    assert_false(jg_gw_bans_fail(b, "127.0.0.3", 1010, &until));
    assert_false(jg_gw_bans_fail(b, "127.0.0.2", 1010, &until));
    assert_false(jg_gw_bans_banned(b, "127.0.0.3", 1011));
    assert_true(jg_gw_bans_fail(b, "127.0.0.3", 1020, &until));
    assert_int_equal(until, 1120);
    assert_true(jg_gw_bans_banned(b, "127.0.0.3", 1021));
    assert_false(jg_gw_bans_banned(b, "127.0.0.2", 1021));
    assert_int_equal(jg_gw_bans_active(b, 1021), 1);
    /* failures during a ban neither extend it nor start another */
    assert_false(jg_gw_bans_fail(b, "127.0.0.3", 1050, &until));
    jg_gw_bans_expire(b, 1119, on_ended, &log, &next);
    assert_int_equal(log.n, 0);
    assert_int_equal(next, 1120);
    assert_true(jg_gw_bans_banned(b, "127.0.0.3", 1119));
    /* the ban decays; 127.0.0.2's window ended too */
    jg_gw_bans_expire(b, 1120, on_ended, &log, &next);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.srcs[0], "127.0.0.3");
    assert_false(jg_gw_bans_banned(b, "127.0.0.3", 1120));
    assert_int_equal(jg_gw_bans_active(b, 1120), 0);
    assert_int_equal(next, JG_TIME_NEVER);
    jg_gw_bans_free(b);
}

static void
test_window(void **state)
{
    struct jg_gw_bans *b = jg_gw_bans_new(2, 10, 5);
    struct ended_log log = {0};
    int64_t until = 0, next;

    /* failures further apart than the window never ban */
    assert_false(jg_gw_bans_fail(b, "a", 0, &until));
    assert_false(jg_gw_bans_fail(b, "a", 10, &until));
    assert_false(jg_gw_bans_fail(b, "a", 20, &until));
    jg_gw_bans_expire(b, 25, on_ended, &log, &next);
    assert_int_equal(next, 30);
    assert_true(jg_gw_bans_fail(b, "a", 29, &until));
    assert_int_equal(until, 34);
    /* a failure after the ban ran out but before expire ran: the ban's end
     * is still reported once */
    assert_false(jg_gw_bans_fail(b, "a", 40, &until));
    jg_gw_bans_expire(b, 41, on_ended, &log, &next);
    assert_int_equal(log.n, 1);
    assert_int_equal(next, 50);
    jg_gw_bans_expire(b, 42, on_ended, &log, &next);
    assert_int_equal(log.n, 1);
    jg_gw_bans_free(b);
}

static void
test_bounded(void **state)
{
    struct jg_gw_bans *b = jg_gw_bans_new(1, 1000, 100000);
    char src[64];
    int64_t until;
    size_t i;

    /* the first source is banned; then the table fills with others */
    assert_true(jg_gw_bans_fail(b, "banned", 0, &until));
    jg_gw_bans_set(b, 5, 1000, 100000);
    for (i = 0; i < JG_GW_BANS_MAX + 100; i++) {
        snprintf(src, sizeof(src), "10.0.%zu.%zu", i / 256, i % 256);
        jg_gw_bans_fail(b, src, (int64_t)i + 1, &until);
    }
    assert_int_equal(b->n, JG_GW_BANS_MAX);
    /* a ban is never the one forgotten */
    assert_true(jg_gw_bans_banned(b, "banned", 5000));
    jg_gw_bans_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_pct_table),
        cmocka_unit_test(test_drop_draws),
        cmocka_unit_test(test_ban_and_decay),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
