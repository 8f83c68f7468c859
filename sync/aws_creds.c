/* SPDX-License-Identifier: Apache-2.0 */
/* sync/aws_creds.c - the AWS credential chain: environment, then the shared
 * credentials file, then IMDSv2 (aws_imds.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

/* Defined in aws_imds.c. */
int jg_sync_imds_fetch(struct jg_sync *s, struct jg_sync_creds *c);

static void
free_secret(char *p)
{
    if (p == NULL)
        return;
    explicit_bzero(p, strlen(p));
    free(p);
}

void
jg_sync_creds_clear(struct jg_sync_creds *c)
{
    free(c->key_id);
    free_secret(c->secret);
    free_secret(c->token);
    memset(c, 0, sizeof(*c));
}

static char *
trimmed(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    return g_strndup(p, n);
}

int
jg_sync_creds_parse_file(const char *text, size_t len, const char *profile,
                         struct jg_sync_creds *c, char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    bool in = false, seen = false;
    int line = 0, r = JG_ERR_INTERNAL;

    memset(c, 0, sizeof(*c));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        char *l = trimmed(p, (size_t)(le - p));
        char *eq;

        line++;
        p = nl != NULL ? nl + 1 : end;
        if (l[0] == '\0' || l[0] == '#' || l[0] == ';') {
            g_free(l);
            continue;
        }
        if (l[0] == '[') {
            size_t n = strlen(l);
            char *name;

            if (l[n - 1] != ']') {
                snprintf(err, errlen, "line %d: section header without ']'",
                         line);
                g_free(l);
                r = JG_ERR_INVALID;
                goto out;
            }
            name = trimmed(l + 1, n - 2);
            in = strcmp(name, profile) == 0;
            seen = seen || in;
            g_free(name);
            g_free(l);
            continue;
        }
        if ((eq = strchr(l, '=')) == NULL) {
            /* Never echo the line: it may hold a secret. */
            snprintf(err, errlen, "line %d: expected 'name = value'", line);
            explicit_bzero(l, strlen(l));
            g_free(l);
            r = JG_ERR_INVALID;
            goto out;
        }
        if (in) {
            char *k = trimmed(l, (size_t)(eq - l));
            char *v = trimmed(eq + 1, strlen(eq + 1));
            char **dst = NULL;

            if (strcmp(k, "aws_access_key_id") == 0)
                dst = &c->key_id;
            else if (strcmp(k, "aws_secret_access_key") == 0)
                dst = &c->secret;
            else if (strcmp(k, "aws_session_token") == 0)
                dst = &c->token;
            if (dst != NULL) {
                free_secret(*dst);
                *dst = jg_xstrdup(v);
            }
            explicit_bzero(v, strlen(v));
            g_free(v);
            g_free(k);
        }
        explicit_bzero(l, strlen(l));
        g_free(l);
    }
    if (!seen || c->key_id == NULL || c->secret == NULL) {
        snprintf(err, errlen, "%s", !seen ? "no such profile"
                                          : "profile lacks aws_access_key_id "
                                            "or aws_secret_access_key");
        r = JG_ERR_NOTFOUND;
        goto out;
    }
    c->expires = JG_TIME_NEVER;
    c->source = "shared-credentials-file";
    r = 0;
out:
    if (r != 0)
        jg_sync_creds_clear(c);
    return r;
}

static int
from_env(struct jg_sync_creds *c)
{
    const char *id = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");

    if (id == NULL || *id == '\0' || secret == NULL || *secret == '\0')
        return JG_ERR_NOTFOUND;
    c->key_id = jg_xstrdup(id);
    c->secret = jg_xstrdup(secret);
    c->token = token != NULL && *token != '\0' ? jg_xstrdup(token) : NULL;
    c->expires = JG_TIME_NEVER;
    c->source = "environment";
    return 0;
}

static int
from_file(struct jg_sync *s, struct jg_sync_creds *c)
{
    const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *profile = getenv("AWS_PROFILE");
    char *owned = NULL, *text = NULL;
    char err[256] = "";
    size_t len = 0;
    int r;

    if (profile == NULL || *profile == '\0')
        profile = "default";
    if (path == NULL || *path == '\0') {
        const char *home = getenv("HOME");

        if (home == NULL || *home == '\0')
            return JG_ERR_NOTFOUND;
        path = owned = jg_xasprintf("%s/.aws/credentials", home);
    }
    r = jg_read_file(path, 1u << 20, &text, &len);
    if (r == JG_ERR_IO && errno == ENOENT) {
        r = JG_ERR_NOTFOUND;
        goto out;
    }
    if (r != 0) {
        jg_sync_seterr(s, "AWS credentials file %s: %s", path,
                       jg_read_strerror(r));
        goto out;
    }
    r = jg_sync_creds_parse_file(text, len, profile, c, err, sizeof(err));
    if (r == JG_ERR_INVALID)
        jg_sync_seterr(s, "AWS credentials file %s: %s", path, err);
    else if (r == JG_ERR_NOTFOUND && getenv("AWS_PROFILE") != NULL &&
             *getenv("AWS_PROFILE") != '\0') {
        /* A profile asked for by name must exist. */
        jg_sync_seterr(s, "AWS credentials file %s: profile %s: %s", path,
                       profile, err);
        r = JG_ERR_INVALID;
    }
out:
    if (text != NULL) {
        explicit_bzero(text, len);
        free(text);
    }
    free(owned);
    return r;
}

int
jg_sync_creds_resolve(struct jg_sync *s, struct jg_sync_creds *c)
{
    const char *off = getenv("AWS_EC2_METADATA_DISABLED");
    int r;

    memset(c, 0, sizeof(*c));
    if ((r = from_env(c)) != JG_ERR_NOTFOUND)
        return r;
    if ((r = from_file(s, c)) != JG_ERR_NOTFOUND)
        return r;
    if (off != NULL && g_ascii_strcasecmp(off, "true") == 0) {
        jg_sync_seterr(s, "no AWS credentials: not in the environment, not in "
                          "the shared credentials file, and IMDS is disabled");
        return JG_ERR_NOTFOUND;
    }
    return jg_sync_imds_fetch(s, c);
}
