/* SPDX-License-Identifier: Apache-2.0 */
/* pam/event.c - appends one pam.account / pam.auth event per
 * decision to the audit event log, sealed when the signing key is
 * readable, without aborting or leaving anything open. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "pam/pam_jumpgate.h"

/* The signing key of cfg, or NULL (*why says why when one is configured
 * but cannot be used). JG_ERR_NOMEM is the only error: an unreadable key
 * leaves the event unsealed, as it does for `jumpgate policy grant`. */
static int
load_key(const struct jg_config *cfg, struct jg_audit_key **key, char *why,
         size_t n)
{
    char ebuf[128];
    int r, err;

    *key = NULL;
    if (cfg->audit_signing_key == NULL)
        return 0;
    errno = 0;
    r = jg_audit_key_load_private(cfg->audit_signing_key, key);
    err = errno;
    if (r == 0 || r == JG_ERR_NOMEM)
        return r;
    *key = NULL;
    if (r == JG_ERR_IO || r == JG_ERR_NOTFOUND)
        snprintf(why, n, "audit.signing_key %s: %s", cfg->audit_signing_key,
                 strerror_r(r == JG_ERR_NOTFOUND ? ENOENT : err, ebuf,
                            sizeof(ebuf)));
    else
        snprintf(why, n, "audit.signing_key %s: %s", cfg->audit_signing_key,
                 r == JG_ERR_INVALID ? "not an Ed25519 private key (PEM)"
                                     : jg_strerror(r));
    return 0;
}

/* A JSON string of a valid UTF-8 copy of s (PAM items are bytes from
 * anywhere), json null for NULL; NULL when out of memory. */
static json_t *
jstr(const char *s)
{
    char *c;
    json_t *j;

    if (s == NULL)
        return json_null();
    if ((c = jg_audit_utf8_clean(s, strlen(s))) == NULL)
        return NULL;
    j = json_string(c);
    free(c);
    return j;
}

/* The "service" and "result" members; NULL when out of memory. */
static json_t *
extra_of(const struct jg_pam_event *e)
{
    json_t *x = json_object();

    if (x == NULL)
        return NULL;
    if (json_object_set_new(x, "service", jstr(e->service)) != 0 ||
        json_object_set_new(x, "result", jstr(e->result)) != 0) {
        json_decref(x);
        return NULL;
    }
    return x;
}

int
jg_pam_event_append(const struct jg_config *cfg,
                    const struct jg_pam_event *e, int64_t now_us,
                    bool *sealed, char *why, size_t n)
{
    struct jg_audit_key *key = NULL;
    struct jg_audit_log *log = NULL;
    struct jg_audit_event ev;
    json_t *x = NULL;
    char ebuf[128];
    int r, err;

    *sealed = false;
    why[0] = '\0';
    if (cfg == NULL || cfg->audit_dir == NULL ||
        (access(cfg->audit_dir, F_OK) != 0 && errno == ENOENT))
        return JG_ERR_NOTFOUND;
    if ((r = load_key(cfg, &key, why, n)) != 0)
        goto nomem;
    errno = 0;
    if ((r = jg_audit_log_open(cfg->audit_dir, key, 1, &log)) != 0) {
        err = errno;
        if (r == JG_ERR_NOMEM)
            goto nomem;
        if (r == JG_ERR_DENIED)
            snprintf(why, n, "%s or its events/: refused: the folder is "
                     "writable by anyone or owned by another user",
                     cfg->audit_dir);
        else
            snprintf(why, n, "%s/events: %s", cfg->audit_dir,
                     r == JG_ERR_IO || r == JG_ERR_NOTFOUND
                         ? strerror_r(err != 0 ? err : EIO, ebuf,
                                      sizeof(ebuf))
                         : jg_strerror(r));
        goto out;
    }
    if ((x = extra_of(e)) == NULL) {
        r = JG_ERR_NOMEM;
        goto nomem;
    }
    memset(&ev, 0, sizeof(ev));
    ev.type = e->type;
    ev.user = e->user;
    ev.from = e->from;
    ev.target = e->target;
    ev.action = e->action;
    ev.rule = e->rule;
    ev.reason = e->reason;
    ev.extra = x;
    errno = 0;
    if ((r = jg_audit_log_append(log, &ev, now_us)) != 0) {
        err = errno;
        if (r == JG_ERR_NOMEM)
            goto nomem;
        snprintf(why, n, "%s/events: cannot append: %s", cfg->audit_dir,
                 r == JG_ERR_IO || r == JG_ERR_NOTFOUND
                     ? strerror_r(err != 0 ? err : EIO, ebuf, sizeof(ebuf))
                     : jg_strerror(r));
        goto out;
    }
    *sealed = key != NULL;
    r = 0;
    goto out;
nomem:
    snprintf(why, n, "%s/events: out of memory", cfg->audit_dir);
out:
    json_decref(x);
    jg_audit_log_free(log);
    jg_audit_key_free(key);
    return r;
}
