/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_login.c - libFuzzer target for the SSH user names
 * jumpgated splits ("alice", "alice:web-1", "alice:deploy@web-1", and '+'
 * for ':'): whatever the bytes, a parsed name has a valid user, a valid or
 * empty target and login, nothing beside a bad target, and '+' means what
 * ':' means (the source is compiled in here). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/daemon/login.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct jg_gw_login *l)
{
    if (!jg_gw_valid_user(l->user))
        abort();
    if (l->target[0] != '\0' && !jg_gw_valid_target(l->target))
        abort();
    if (l->login[0] != '\0' && (!valid_login(l->login) || l->target[0] == '\0'))
        abort();
    if (l->bad_target && (l->target[0] != '\0' || l->login[0] != '\0'))
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_gw_login a, b;
    char *s, *sep;
    int ra, rb;

    if (size >= JG_GW_LOGIN_MAX + 8)
        return 0;
    s = jg_xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    ra = jg_gw_login_parse(s, &a);
    if (ra == 0)
        check(&a);
    /* The same name with its first separator written the other way. */
    if ((sep = strpbrk(s, ":+")) != NULL) {
        *sep = *sep == ':' ? '+' : ':';
        rb = jg_gw_login_parse(s, &b);
        if (rb != ra || (ra == 0 && (strcmp(a.user, b.user) != 0 ||
                                     strcmp(a.login, b.login) != 0 ||
                                     strcmp(a.target, b.target) != 0 ||
                                     a.bad_target != b.bad_target)))
            abort();
    }
    free(s);
    return 0;
}
