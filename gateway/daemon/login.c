/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/daemon/login.c - splits SSH user names such as "alice:web-1",
 * "alice:deploy@web-1" or, for sftp and scp, "alice+web-1" into user,
 * login and target. */
#include <string.h>

#include "gateway/daemon/daemon.h"

/* [a-z_][a-z0-9_.-]{0,31}, as policy user names are. */
bool
jg_gw_valid_user(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 32)
        return false;
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* [A-Za-z0-9][A-Za-z0-9_.-]*, plus one '/' for a discovered member. */
bool
jg_gw_valid_target(const char *s)
{
    size_t i, n = strlen(s);
    int slashes = 0;

    if (n == 0 || n >= 128)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9');
        if (i == 0 || s[i - 1] == '/') {
            if (!alnum)
                return false;
        } else if (c == '/') {
            if (++slashes > 1)
                return false;
        } else if (!alnum && c != '_' && c != '.' && c != '-') {
            return false;
        }
    }
    return s[n - 1] != '/';
}

/* Logins on targets: POSIX-ish account names. */
static bool
valid_login(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 32 || s[0] == '-')
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int
jg_gw_login_parse(const char *s, struct jg_gw_login *out)
{
    const char *colon, *rest, *at;
    size_t ulen;

    memset(out, 0, sizeof(*out));
    if (s == NULL || strlen(s) >= JG_GW_LOGIN_MAX)
        return JG_ERR_INVALID;
    /* ':' or '+': sftp and scp take "alice:web-1@jump" for a host and a
     * path, so "alice+web-1@jump" is the same name for them ('+' is in no
     * user name, login or target). */
    colon = strpbrk(s, ":+");
    ulen = colon != NULL ? (size_t)(colon - s) : strlen(s);
    if (ulen == 0 || ulen >= sizeof(out->user))
        return JG_ERR_INVALID;
    memcpy(out->user, s, ulen);
    out->user[ulen] = '\0';
    if (!jg_gw_valid_user(out->user))
        return JG_ERR_INVALID;
    if (colon == NULL)
        return 0;
    rest = colon + 1;
    at = strchr(rest, '@');
    if (at != NULL) {
        size_t llen = (size_t)(at - rest);
        if (llen == 0 || llen >= sizeof(out->login)) {
            out->bad_target = true;
            return 0;
        }
        memcpy(out->login, rest, llen);
        out->login[llen] = '\0';
        if (!valid_login(out->login)) {
            out->login[0] = '\0';
            out->bad_target = true;
            return 0;
        }
        rest = at + 1;
    }
    if (!jg_gw_valid_target(rest)) {
        out->bad_target = true;
        out->login[0] = '\0';
        return 0;
    }
    jg_strlcpy(out->target, rest, sizeof(out->target));
    return 0;
}
