/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_policy.c - libFuzzer target for the policy loader: parse
 * and validate from memory, then decide a few requests and compute the
 * source set of every exposure entry of whatever loaded. */
#include <stdint.h>
#include <stdlib.h>

#include "policy/policy.h"

/* A few requests against the loaded policy, built from its own names. */
static void
decide_some(const struct jg_policy *p)
{
    static const char *const from[] = {"203.0.113.7", "2001:db8::1", "10.0.0.1",
                                       "::ffff:192.0.2.1", "not-an-address"};
    static const int64_t at[] = {0, 1764240000, 1774746000, 1792890000,
                                 JG_TIME_NEVER - 1};
    const char *logins[4];
    struct jg_decision dec;
    size_t nu = jg_policy_n_users(p), nt = jg_policy_n_targets(p), i;

    for (i = 0; i < 10; i++) {
        const struct jg_user *u = nu ? jg_policy_user_at(p, i % nu) : NULL;
        const struct jg_target *t = nt ? jg_policy_target_at(p, i % nt) : NULL;
        struct jg_request req = {
            .user = u ? u->name : "nobody",
            .from = from[i % 5],
            .target = t ? t->name : "nothing",
            .action = 1u << (i % 5),
            .login = (i & 1) ? NULL : "root",
            .at = at[i % 5],
        };
        jg_policy_decide(p, &req, &dec);
        jg_policy_logins(p, &req, logins, 4);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    size_t i;

    if (jg_policy_load_mem("fuzz.yaml", (const char *)data, size,
                           JG_POLICY_NO_FILES, &p, &d) == 0 && p != NULL) {
        decide_some(p);
        for (i = 0; i < jg_policy_n_exposures(p); i++) {
            struct jg_cidr *v = NULL;
            size_t n = 0;
            jg_policy_exposure_sources(p, i, 1764240000, &v, &n);
            free(v);
        }
    }
    jg_policy_free(p);
    jg_diags_clear(&d);
    return 0;
}
