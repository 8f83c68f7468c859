/* SPDX-License-Identifier: Apache-2.0 */
/* audit/evread.c - walks the event log, day by day and line by
 * line, for the auditor's list, show, events and search. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit/internal.h"

int
jg_audit_events_each(const char *audit_dir, jg_audit_event_cb cb, void *arg,
                     size_t *bad)
{
    struct jg_audit_lr lr;
    char **days = NULL, *name = NULL, err[256];
    const char *line;
    size_t n = 0, i, len;
    json_t *o;
    bool nl, go = true;
    int top = -1, efd = -1, fd = -1, r;

    if (bad != NULL)
        *bad = 0;
    if ((r = jg_audit_list_days(audit_dir, &days, &n)) != 0 || n == 0)
        goto out;
    if ((r = jg_audit_dir_open(audit_dir, &top)) != 0 ||
        (r = jg_audit_subdir(top, "events", false, &efd)) != 0)
        goto out;
    for (i = 0; go && i < n; i++) {
        fd = openat(efd, days[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            r = JG_ERR_IO;
            goto out;
        }
        free(name);
        name = jg_xasprintf("events/%s", days[i]);
        jg_audit_lr_init(&lr, fd);
        while (go && (r = jg_audit_lr_next(&lr, &line, &len, &nl)) != 0) {
            if (r < 0 || !nl ||
                jg_audit_event_parse(line, len, &o, err, sizeof(err)) != 0) {
                if (r == JG_ERR_IO) {
                    jg_audit_lr_clear(&lr);
                    goto out;
                }
                if (bad != NULL)
                    (*bad)++;
                continue;
            }
            go = cb(o, name, lr.lineno, arg);
            json_decref(o);
        }
        jg_audit_lr_clear(&lr);
        close(fd);
        fd = -1;
    }
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    if (efd >= 0)
        close(efd);
    if (top >= 0)
        close(top);
    free(name);
    jg_strv_free(days);
    return r;
}
