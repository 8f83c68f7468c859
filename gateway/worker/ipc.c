/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/worker/ipc.c - the worker's side of the monitor protocol: one
 * request, one answer; lapse notices may come in between. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/worker/internal.h"

static bool
note(struct jg_gw_wk *w, struct jg_gw_msg *m)
{
    char *text = NULL;

    if (m->type != JG_GW_NOTE_LAPSE)
        return false;
    if (jg_gw_msg_get_strdup(m, &text) == 0 && w->lapse == NULL)
        w->lapse = text;
    else
        free(text);
    return true;
}

int
jg_gw_wk_call(struct jg_gw_wk *w, const struct jg_gw_msg *req,
              struct jg_gw_msg *ans, uint8_t want)
{
    int r;

    if ((r = jg_gw_msg_send(w->mon, req, -1)) != 0)
        return r;
    for (;;) {
        if ((r = jg_gw_msg_recv(w->mon, ans, -1)) != 0)
            return r;
        if (note(w, ans))
            continue;
        if (want != 0 ? ans->type == want
                      : (ans->type == JG_GW_ANS_KBDINT_PROMPTS ||
                         ans->type == JG_GW_ANS_KBDINT_RESULT))
            return 0;
        if (ans->fd >= 0)
            close(ans->fd);
        return JG_ERR_INVALID;
    }
}

void
jg_gw_wk_send(struct jg_gw_wk *w, const struct jg_gw_msg *req)
{
    if (jg_gw_msg_send(w->mon, req, -1) != 0)
        w->monitor_gone = true;
}

int
jg_gw_wk_poll_monitor(struct jg_gw_wk *w)
{
    struct jg_gw_msg *m = jg_xmalloc(sizeof(*m));
    int r;

    while ((r = jg_gw_msg_recv(w->mon, m, 0)) == 0) {
        if (m->fd >= 0)
            close(m->fd);
        if (!note(w, m)) {
            r = JG_ERR_INVALID;
            break;
        }
    }
    free(m);
    return r == JG_ERR_NOTFOUND ? 0 : r;
}
