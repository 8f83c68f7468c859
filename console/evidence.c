/* SPDX-License-Identifier: Apache-2.0 */
/* console/evidence.c - GET /sessions/ID/evidence: the session's evidence
 * archive (audit/evidence.c) as a download. The slice of the event log's
 * chain that proves the session's lines holds other users' events, so it
 * goes in only for an auditor who sees every user and target; anyone else
 * gets the recording and copies of the session's lines, which the archive
 * says it does not prove. Each export is a console.export event, written
 * before anything is sent. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console/internal.h"

/* An unnamed file for the archive: on disk where there is one, so that a
 * large recording does not sit in memory. */
static int
scratch(void)
{
    int fd = open("/var/tmp", O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);

    return fd >= 0 ? fd : memfd_create("jumpgate-evidence", MFD_CLOEXEC);
}

enum MHD_Result
jgc_evidence(struct jgc_req *q, const char *id)
{
    struct jg_audit_sessions all;
    struct jg_audit_evidence x = {.id = id};
    const struct jg_policy *p;
    const struct jg_auditor *a;
    char err[512], *by = NULL, *pub = NULL, disp[128];
    int fd = -1, r;

    if (jgc_find(q, id, &all, &r) == NULL) {
        jg_audit_sessions_free(&all);
        return jgc_not_found(q, r, "session");
    }
    jg_audit_sessions_free(&all);
    if (q->x->cfg->audit_signing_key == NULL ||
        (pub = jg_audit_key_pub_path(q->x->cfg->audit_signing_key)) == NULL)
        return jgc_error(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "no audit.signing_key: an archive without its "
                         "public key proves nothing");
    pthread_mutex_lock(&q->x->mu);
    x.whole_log = (a = jgc_auditor(q, &p)) != NULL &&
                  jg_policy_auditor_sees(p, a, NULL, NULL);
    pthread_mutex_unlock(&q->x->mu);
    if (jgc_event(q, "console.export", id, "ok",
                  x.whole_log ? "evidence with the log's chain"
                              : "evidence with copies of the session's "
                                "lines") != 0) {
        free(pub);
        return jgc_unrecorded(q);
    }
    by = jg_xasprintf("%s (auditor %s, web console from %s)", q->s.account,
                      q->s.auditor, q->from);
    x.audit_dir = q->x->cfg->audit_dir;
    x.pub_path = pub;
    x.by = by;
    if ((fd = scratch()) < 0) {
        r = JG_ERR_IO;
        snprintf(err, sizeof(err), "no room for the archive");
    } else {
        r = jg_audit_evidence_write(&x, fd, err, sizeof(err));
    }
    free(by);
    free(pub);
    if (r != 0) {
        if (fd >= 0)
            close(fd);
        return jgc_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                         "the evidence archive cannot be made: %s", err);
    }
    snprintf(disp, sizeof(disp),
             "attachment; filename=\"jumpgate-evidence-%s.tar.gz\"", id);
    return jgc_answer_fd(q, fd, "application/gzip", disp);
}
