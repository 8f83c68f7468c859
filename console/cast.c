/* SPDX-License-Identifier: Apache-2.0 */
/* console/cast.c - GET /sessions/ID/cast: the recording as asciicast v2,
 * the view `jumpgate audit export` writes, for the player. It is served as
 * application/x-asciicast with nosniff, so that what the recorded people
 * typed or printed reaches only the player's terminal, never the page.
 * Fetching it is a console.view event of its own (the page is one too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console/internal.h"

/* The asciicast view of the recording at path in an anonymous file. */
static int
view(const char *path, int *fd_out, char *err, size_t n)
{
    struct jg_audit_recr *r = NULL;
    int fd, rc;

    if ((rc = jg_audit_recr_open(path, &r, err, n)) != 0)
        return rc;
    if ((fd = memfd_create("jumpgate-cast", MFD_CLOEXEC)) < 0) {
        jg_audit_recr_free(r);
        snprintf(err, n, "memfd_create failed");
        return JG_ERR_IO;
    }
    rc = jg_audit_view_cast(r, fd, err, n);
    jg_audit_recr_free(r);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

enum MHD_Result
jgc_cast(struct jgc_req *q, const char *id)
{
    struct jg_audit_sessions all;
    const struct jg_audit_session *s = NULL;
    char err[512];
    int fd = -1, r;

    if ((s = jgc_find(q, id, &all, &r)) == NULL || s->path == NULL) {
        jg_audit_sessions_free(&all);
        return jgc_not_found(q, r, "recording");
    }
    if (jgc_event(q, "console.view", id, "ok", "recording") != 0) {
        jg_audit_sessions_free(&all);
        return jgc_unrecorded(q);
    }
    r = view(s->path, &fd, err, sizeof(err));
    jg_audit_sessions_free(&all);
    if (r != 0)
        return jgc_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                         "the recording cannot be read: %s", err);
    return jgc_answer_fd(q, fd, "application/x-asciicast", NULL);
}
