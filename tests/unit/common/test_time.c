/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/common/test_time.c - durations and RFC 3339 timestamps. */
#include "jgtest.h"

static void
test_durations(void **state)
{
    static const struct { const char *s; int64_t v; } ok[] = {
        {"90s", 90}, {"30m", 1800}, {"4h", 14400}, {"7d", 604800}, {"2w", 1209600},
        {"1h30m", 5400}, {"1d2h3m4s", 93784}, {"0h5m", 300},
    };
    static const char *const bad[] = {"", "0s", "4", "h", "4x", "-5m", "4h ", " 4h",
        "1.5h", "99999999999999999999s", "5000000w", "4H"};
    size_t i;
    int64_t v;
    char buf[32];

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(jg_duration_parse(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].v);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jg_duration_parse(bad[i], &v) == 0)
            fail_msg("accepted bad duration '%s'", bad[i]);
    }
    jg_duration_format(5400, buf, sizeof(buf));
    assert_string_equal(buf, "1h30m");
    jg_duration_format(93784, buf, sizeof(buf));
    assert_string_equal(buf, "1d2h3m4s");
}

static void
test_times(void **state)
{
    static const struct { const char *s; int64_t v; } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2026-11-27T18:00:00Z", 1795802400},
        {"2026-11-27T19:00:00+01:00", 1795802400},
        {"2026-11-27T17:30:00-00:30", 1795802400},
        {"2026-11-27T18:00:00.123456Z", 1795802400},
        {"2027-06-30", 1814313600},
        {"2024-02-29T00:00:00Z", 1709164800},
    };
    static const char *const bad[] = {"", "2026-11-27T18:00:00", "2026-13-01",
        "2026-02-29", "2026-11-27T24:00:00Z", "2026-11-27T18:00Z", "27/11/2026",
        "2026-11-27T18:00:00+1", "2026-11-27T18:00:00Zjunk", "1969-12-31"};
    size_t i;
    int64_t v;
    char buf[JG_TIME_STRLEN];

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(jg_time_parse(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].v);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jg_time_parse(bad[i], &v) == 0)
            fail_msg("accepted bad time '%s'", bad[i]);
    }
    jg_time_format(1795802400, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-27T18:00:00Z");
    jg_time_format(JG_TIME_NEVER, buf, sizeof(buf));
    assert_string_equal(buf, "never");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_times),
    };

    return cmocka_run_group_tests_name("common/time", tests, NULL, NULL);
}
