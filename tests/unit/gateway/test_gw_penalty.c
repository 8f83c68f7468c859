/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/gateway/test_gw_penalty.c - the master's per-source penalties
 * (limits.penalties): penalties add up to the minimum, are capped at the
 * maximum, refuse the source until they run out, and the table is bounded.
 * The source is compiled in here (jumpgated is not a library). */
#include "jgtest.h"

#define JG_GW_ROOM_MASTER
#include "gateway/master/penalty.c"

static void
ended(const char *src, void *arg)
{
    int *n = arg;

    (void)src;
    (*n)++;
}

static void
test_adds_up_to_min(void **state)
{
    struct jg_gw_penalties *p = jg_gw_penalties_new(15, 600);
    int64_t until = 0;

    (void)state;
    assert_false(jg_gw_penalties_add(p, "a", 10, 1000, &until));
    assert_false(jg_gw_penalties_refused(p, "a", 1000, NULL));
    assert_true(jg_gw_penalties_add(p, "a", 10, 1001, &until));
    assert_int_equal(until, 1020);
    assert_true(jg_gw_penalties_refused(p, "a", 1019, &until));
    assert_int_equal(until, 1020);
    assert_false(jg_gw_penalties_refused(p, "b", 1019, NULL));
    /* while refused, nothing more is added */
    assert_false(jg_gw_penalties_add(p, "a", 10, 1002, &until));
    assert_int_equal(jg_gw_penalties_active(p, 1002), 1);
    assert_false(jg_gw_penalties_refused(p, "a", 1020, NULL));
    assert_int_equal(jg_gw_penalties_active(p, 1020), 0);
    /* nothing: no penalty */
    assert_false(jg_gw_penalties_add(p, "c", 0, 1000, NULL));
    assert_false(jg_gw_penalties_add(p, "c", -5, 1000, NULL));
    assert_int_equal(p->n, 1);
    jg_gw_penalties_free(p);
    jg_gw_penalties_free(NULL);
}

static void
test_runs_out_and_capped(void **state)
{
    struct jg_gw_penalties *p = jg_gw_penalties_new(15, 60);
    int64_t until = 0, next;
    int n = 0;

    (void)state;
    /* A penalty that ran out starts again from nothing. */
    assert_false(jg_gw_penalties_add(p, "a", 10, 1000, NULL));
    assert_false(jg_gw_penalties_add(p, "a", 10, 1011, NULL));
    assert_false(jg_gw_penalties_refused(p, "a", 1011, NULL));
    /* Capped at max from now. */
    assert_true(jg_gw_penalties_add(p, "b", 1000000, 1000, &until));
    assert_int_equal(until, 1060);
    jg_gw_penalties_expire(p, 1030, ended, &n, &next);
    assert_int_equal(n, 0);
    assert_int_equal(next, 1060);
    assert_int_equal(p->n, 1);     /* a ran out and was forgotten */
    jg_gw_penalties_expire(p, 1060, ended, &n, &next);
    assert_int_equal(n, 1);
    assert_int_equal(next, JG_TIME_NEVER);
    assert_int_equal(p->n, 0);
    /* min 0: any penalty refuses; a reload's values apply */
    jg_gw_penalties_set(p, 0, 5);
    assert_true(jg_gw_penalties_add(p, "c", 1, 2000, &until));
    assert_int_equal(until, 2001);
    jg_gw_penalties_set(p, 100, 5);  /* min beyond max: max */
    assert_int_equal(p->min, 5);
    jg_gw_penalties_free(p);
}

static void
test_bounded(void **state)
{
    struct jg_gw_penalties *p = jg_gw_penalties_new(15, 600);
    char src[32];
    size_t i;

    (void)state;
    assert_true(jg_gw_penalties_add(p, "refused", 100, 1000, NULL));
    for (i = 0; i < JG_GW_PENALTIES_MAX + 100; i++) {
        snprintf(src, sizeof(src), "10.0.%zu.%zu", i / 256, i % 256);
        jg_gw_penalties_add(p, src, 1, 1000 + (int64_t)i / 1000, NULL);
    }
    assert_int_equal(p->n, JG_GW_PENALTIES_MAX);
    /* a refused source is never the one forgotten */
    assert_true(jg_gw_penalties_refused(p, "refused", 1005, NULL));
    /* all refused: a new penalty is not recorded */
    jg_gw_penalties_set(p, 0, 600);
    for (i = 0; i < p->n; i++) {
        p->v[i].active = true;
        p->v[i].expiry = 5000;
    }
    assert_false(jg_gw_penalties_add(p, "new", 100, 1005, NULL));
    assert_false(jg_gw_penalties_refused(p, "new", 1005, NULL));
    jg_gw_penalties_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adds_up_to_min),
        cmocka_unit_test(test_runs_out_and_capped),
        cmocka_unit_test(test_bounded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
