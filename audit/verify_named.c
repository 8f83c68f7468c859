/* SPDX-License-Identifier: Apache-2.0 */
/* audit/verify_named.c - cross-checks the recordings the event
 * log names against what is on disk, so that a recording deleted together
 * with its seal file does not go unnoticed. */
#include <stdlib.h>
#include <string.h>

#include "audit/internal.h"

struct named {
    const char *audit_dir;
    struct jg_diags *d;
    size_t named, missing;
    int err;
};

static bool
check_one(json_t *ev, const char *file, size_t line, void *arg)
{
    struct named *x = arg;
    json_t *rec = json_object_get(ev, "recording");
    const char *id = json_string_value(json_object_get(ev, "session"));
    char *path = NULL;
    int r;

    /* null or absent: nothing was recorded (SFTP, a forward, a recording
     * that could not be made), and the event said so. */
    if (!json_is_string(rec))
        return true;
    x->named++;
    if (id == NULL) {
        x->missing++;
        jg_diags_add(x->d, file, (int)line, 0,
                     "names the recording %.200s but no session id",
                     json_string_value(rec));
        return true;
    }
    r = jg_audit_find_rec(x->audit_dir, id, &path);
    free(path);
    if (r == 0)
        return true;
    if (r != JG_ERR_NOTFOUND && r != JG_ERR_INVALID) {
        x->err = r;
        return false;
    }
    x->missing++;
    jg_diags_add(x->d, file, (int)line, 0,
                 r == JG_ERR_INVALID
                     ? "names the recording of session %.64s, which is not "
                       "a recording id"
                     : "the recording of session %.64s is missing (%.200s "
                       "was removed, or never reached this copy)",
                 id, json_string_value(rec));
    return true;
}

int
jg_audit_verify_named(const char *audit_dir, size_t *named, size_t *missing,
                      struct jg_diags *d)
{
    struct named x = {.audit_dir = audit_dir, .d = d};
    int r;

    *named = *missing = 0;
    if ((r = jg_audit_events_each(audit_dir, check_one, &x, NULL)) != 0)
        return r;
    *named = x.named;
    *missing = x.missing;
    if (x.err != 0)
        return x.err;
    return x.missing > 0 ? JG_ERR_INVALID : 0;
}
