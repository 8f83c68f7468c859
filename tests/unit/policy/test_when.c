/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/policy/test_when.c - time windows: joined windows, overnight
 * windows, whole days, and the DST gap and overlap in Europe/Madrid. */
#include "jgtest.h"

struct wcase {
    const char *when;       /* YAML value of when */
    const char *at;
    bool allowed;
    const char *until;      /* for allowed cases */
};

static const struct wcase cases[] = {
    /* adjacent windows join: the permission lasts to the end of the last */
    {"[\"Mon 08:00-12:00\", \"Mon 12:00-14:00\"]", "2026-11-23T09:00:00Z", true, "2026-11-23T14:00:00Z"},
    {"\"Mon-Fri 00:00-24:00\"", "2026-11-23T10:00:00Z", true, "2026-11-28T00:00:00Z"},
    {"\"Mon-Fri\"", "2026-11-27T23:59:59Z", true, "2026-11-28T00:00:00Z"},
    {"\"Mon-Fri\"", "2026-11-28T00:00:00Z", false, NULL},
    {"\"daily\"", "2026-11-28T10:00:00Z", true, "never"},
    {"\"Fri-Mon 09:00-10:00 UTC\"", "2026-11-29T09:30:00Z", true, "2026-11-29T10:00:00Z"},
    {"\"Fri-Mon 09:00-10:00 UTC\"", "2026-11-25T09:30:00Z", false, NULL},
    {"\"Sat,Sun\"", "2026-11-29T12:00:00Z", true, "2026-11-30T00:00:00Z"},
    /* overnight, Friday night into Saturday only */
    {"\"Fri 22:00-02:00 UTC\"", "2026-11-28T01:00:00Z", true, "2026-11-28T02:00:00Z"},
    {"\"Fri 22:00-02:00 UTC\"", "2026-11-29T01:00:00Z", false, NULL},
    /* a window in Madrid follows its wall clock: 09:00 is 08:00Z in winter */
    {"\"Mon-Fri 09:00-17:00 Europe/Madrid\"", "2026-11-23T08:00:00Z", true, "2026-11-23T16:00:00Z"},
    {"\"Mon-Fri 09:00-17:00 Europe/Madrid\"", "2026-07-06T07:00:00Z", true, "2026-07-06T15:00:00Z"},
    {"\"Mon-Fri 09:00-17:00 Europe/Madrid\"", "2026-07-06T06:59:59Z", false, NULL},
    /* DST gap (2026-03-29 02:00 CET -> 03:00 CEST): a window that ends in
     * the skipped half hour ends when the clock jumps */
    {"\"Sun 01:00-02:30 Europe/Madrid\"", "2026-03-29T00:30:00Z", true, "2026-03-29T01:00:00Z"},
    /* the Sunday of the change is 23 hours long */
    {"\"Sun Europe/Madrid\"", "2026-03-29T12:00:00Z", true, "2026-03-29T22:00:00Z"},
    /* and the autumn one 25 hours */
    {"\"Sun Europe/Madrid\"", "2026-10-25T12:00:00Z", true, "2026-10-25T23:00:00Z"},
    {"\"Sun Europe/Madrid\"", "2026-10-24T22:30:00Z", true, "2026-10-25T23:00:00Z"},
    {"\"Sun Europe/Madrid\"", "2026-10-24T21:59:59Z", false, NULL},
    /* a window ending in the repeated hour ends the first time round,
     * and a session in the second pass gets until the second 02:30 */
    {"\"daily 00:00-02:30 Europe/Madrid\"", "2026-10-25T00:00:00Z", true, "2026-10-25T00:30:00Z"},
    {"\"daily 00:00-02:30 Europe/Madrid\"", "2026-10-25T01:15:00Z", true, "2026-10-25T01:30:00Z"},
    /* Sydney: the other hemisphere, DST in November */
    {"\"Mon-Fri 09:00-17:00 Australia/Sydney\"", "2026-11-23T00:00:00Z", true, "2026-11-23T06:00:00Z"},
};

static void
test_windows(void **state)
{
    size_t i, fails = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct wcase *c = &cases[i];
        char text[1024], until[JG_TIME_STRLEN];
        struct jg_policy *p = NULL;
        struct jg_diags d = {0};
        struct jg_decision dec;
        struct jg_request q = {.user = "alice", .from = "10.0.0.1", .target = "web-1",
                               .action = JG_ACT_SHELL, .at = T(c->at)};

        snprintf(text, sizeof(text),
                 "version: 1\nusers:\n  alice: {keys: [\"" KEY_ED25519 "\"], from: [10.0.0.0/8]}\n"
                 "targets:\n  web-1: {kind: ssh, address: \"10.0.0.1:22\"}\n"
                 "rules:\n  - {name: r, users: [alice], targets: [web-1], allow: [shell], when: %s}\n",
                 c->when);
        if (jg_policy_load_mem("w.yaml", text, strlen(text), 0, &p, &d) != 0) {
            jg_diags_print(&d, stderr);
            fail_msg("case %zu does not load", i);
        }
        assert_int_equal(jg_policy_decide(p, &q, &dec), 0);
        jg_time_format(dec.until, until, sizeof(until));
        if ((dec.effect == JG_ALLOW) != c->allowed ||
            (c->allowed && strcmp(until, c->until) != 0)) {
            fprintf(stderr, "FAIL %s at %s: want %s until %s, got %s until %s (%s)\n",
                    c->when, c->at, c->allowed ? "allow" : "deny", c->until ? c->until : "-",
                    dec.effect ? "allow" : "deny", until, dec.reason);
            fails++;
        }
        jg_policy_free(p);
    }
    assert_int_equal(fails, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows),
    };

    return cmocka_run_group_tests_name("policy/when", tests, NULL, NULL);
}
