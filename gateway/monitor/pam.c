/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/pam.c - keyboard-interactive through PAM, run by the
 * monitor: each PAM conversation round becomes a prompt message to the
 * worker, whose next message must be the answers. */
#include <security/pam_appl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/monitor/internal.h"

#define PAM_INFO_MAX 2048

struct pamctx {
    struct jg_gw_mon *m;
    char info[PAM_INFO_MAX];   /* text and error messages not yet shown */
    bool broken;               /* the worker broke the protocol */
};

static void
free_resp(struct pam_response *r, int n)
{
    int i;

    if (r == NULL)
        return;
    for (i = 0; i < n; i++) {
        if (r[i].resp != NULL) {
            explicit_bzero(r[i].resp, strlen(r[i].resp));
            free(r[i].resp);
        }
    }
    free(r);
}

static void
add_info(struct pamctx *x, const char *s)
{
    size_t have = strlen(x->info);

    if (s == NULL)
        return;
    snprintf(x->info + have, sizeof(x->info) - have, "%s\n", s);
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
     void *arg)
{
    struct pamctx *x = arg;
    struct jg_gw_mon *m = x->m;
    struct pam_response *r = NULL;
    struct jg_gw_msg *q = NULL;
    int i, np = 0, rc = PAM_CONV_ERR, left;
    uint32_t got;
    uint8_t abort_;

    *resp = NULL;
    if (n <= 0 || n > 32)
        return PAM_CONV_ERR;
    for (i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
            msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
            np++;
        else if (msg[i]->msg_style == PAM_ERROR_MSG ||
                 msg[i]->msg_style == PAM_TEXT_INFO)
            add_info(x, msg[i]->msg);
        else
            return PAM_CONV_ERR;
    }
    r = jg_xcalloc((size_t)n, sizeof(*r));
    if (np == 0) {
        /* Shown with the next prompt. */
        *resp = r;
        return PAM_SUCCESS;
    }
    q = jg_xmalloc(sizeof(*q));
    jg_gw_msg_init(q, JG_GW_ANS_KBDINT_PROMPTS);
    jg_gw_msg_put_str(q, x->info);
    jg_gw_msg_put_u32(q, (uint32_t)np);
    for (i = 0; i < n; i++) {
        if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
            msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
            continue;
        jg_gw_msg_put_str(q, msg[i]->msg);
        jg_gw_msg_put_u8(q, msg[i]->msg_style == PAM_PROMPT_ECHO_ON);
    }
    x->info[0] = '\0';
    if (jg_gw_msg_send(m->sock, q, -1) != 0)
        goto out;
    left = (int)((m->grace_deadline - jg_now()) * 1000);
    if (left <= 0 || jg_gw_msg_recv(m->sock, q, left) != 0) {
        x->broken = true;
        goto out;
    }
    if (q->type != JG_GW_REQ_KBDINT_RESPOND || q->fd >= 0 ||
        jg_gw_msg_get_u8(q, &abort_) != 0 ||
        jg_gw_msg_get_u32(q, &got) != 0) {
        jg_error("monitor: unexpected message %u during PAM conversation",
                 q->type);
        x->broken = true;
        goto out;
    }
    if (abort_)
        goto out;
    if (got != (uint32_t)np) {
        x->broken = true;
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
            msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
            continue;
        if (jg_gw_msg_get_strdup(q, &r[i].resp) != 0) {
            x->broken = true;
            goto out;
        }
    }
    *resp = r;
    r = NULL;
    rc = PAM_SUCCESS;
out:
    free_resp(r, n);
    if (q != NULL) {
        explicit_bzero(q, sizeof(*q));
        free(q);
    }
    return rc;
}

int
jg_gw_mon_pam(struct jg_gw_mon *m, bool *ok)
{
    struct pamctx x;
    struct pam_conv pc = {.conv = conv, .appdata_ptr = &x};
    pam_handle_t *ph = NULL;
    struct jg_gw_msg *res;
    int pr, r = JG_ERR_INTERNAL;

    *ok = false;
    memset(&x, 0, sizeof(x));
    x.m = m;
    pr = pam_start(m->d->cfg->pam_service, m->user, &pc, &ph);
    if (pr != PAM_SUCCESS) {
        jg_error("pam_start(%s): %s", m->d->cfg->pam_service,
                 pam_strerror(ph, pr));
        ph = NULL;
    } else {
        pam_set_item(ph, PAM_RHOST, m->conn->peer);
        pam_set_item(ph, PAM_TTY, "ssh");
        m->pam_open = true;
        pr = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
        if (pr == PAM_SUCCESS)
            pr = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
        if (pr == PAM_SUCCESS)
            *ok = true;
        else if (!x.broken)
            jg_info("PAM (%s) for %s from %s: %s", m->d->cfg->pam_service,
                    m->user, m->conn->peer, pam_strerror(ph, pr));
        pam_end(ph, pr);
        m->pam_open = false;
    }
    if (x.broken)
        return JG_ERR_INVALID;
    res = jg_xmalloc(sizeof(*res));
    jg_gw_msg_init(res, JG_GW_ANS_KBDINT_RESULT);
    jg_gw_msg_put_u8(res, *ok);
    r = jg_gw_msg_send(m->sock, res, -1) == 0 ? 0 : JG_ERR_IO;
    free(res);
    return r;
}
