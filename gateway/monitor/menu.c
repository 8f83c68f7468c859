/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/monitor/menu.c - the monitor's part of the target menu: every
 * ssh target (ECS members included) and login the user may open a shell on
 * now (each decided by the policy), appended to the answer to JG_GW_REQ_TARGETS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/monitor/internal.h"

#define LOGINS_MAX 16

struct entry {
    const char *target, *login; /* borrowed from the policy */
    const struct jg_target *t;
};

/* How the menu shows t: an ECS member asked for by its alias as that
 * alias with the instance it is now ("ecs-prod/web-a (i-0abc...)"); any
 * other target as its name (""). */
static void
label_of(const struct jg_target *t, char *buf, size_t n)
{
    buf[0] = '\0';
    if (t->parent != NULL && t->alias != NULL &&
        strcmp(t->alias, t->name + strlen(t->parent) + 1) != 0)
        snprintf(buf, n, "%s/%s (%s)", t->parent, t->alias,
                 t->name + strlen(t->parent) + 1);
}

/* Appends the logins of t the user may open a shell with now. */
static size_t
add_target(struct jg_gw_mon *m, const struct jg_target *t, int64_t now,
           struct entry *e, size_t n)
{
    const struct jg_policy *p = m->d->pol;
    struct jg_request req = {.user = m->user, .from = m->conn->peer,
                             .target = t->name, .action = JG_ACT_SHELL,
                             .at = now};
    const char *logins[LOGINS_MAX];
    size_t k, nl;

    if (t->kind != JG_TARGET_SSH || t->host == NULL || m->lapsed)
        return n;
    nl = jg_policy_logins(p, &req, logins, LOGINS_MAX);
    for (k = 0; k < nl && n < JG_GW_MENU_MAX; k++) {
        struct jg_decision dec;
        req.login = logins[k];
        if (jg_policy_decide(p, &req, &dec) != 0 || dec.effect != JG_ALLOW)
            continue;
        e[n].target = t->name;
        e[n].login = logins[k];
        e[n].t = t;
        n++;
    }
    return n;
}

void
jg_gw_mon_menu_entries(struct jg_gw_mon *m, struct jg_gw_msg *a)
{
    const struct jg_policy *p = m->d->pol;
    struct entry *e = jg_xcalloc(JG_GW_MENU_MAX, sizeof(*e));
    size_t i, k, n = 0, room;
    int64_t now = jg_now();

    /* Targets with an address, then the members ECS discovery found. */
    for (i = 0; i < jg_policy_n_targets(p) && n < JG_GW_MENU_MAX; i++)
        n = add_target(m, jg_policy_target_at(p, i), now, e, n);
    for (i = 0; i < jg_policy_n_members(p) && n < JG_GW_MENU_MAX; i++)
        n = add_target(m, jg_policy_member_at(p, i), now, e, n);
    /* What does not fit in one message is left off. */
    room = a->len < JG_GW_MSG_MAX ? JG_GW_MSG_MAX - a->len : 0;
    room = room > 4 ? room - 4 : 0;
    for (k = 0; k < n; k++) {
        char label[300];
        size_t need;
        label_of(e[k].t, label, sizeof(label));
        need = 12 + strlen(e[k].target) + strlen(e[k].login) + strlen(label);
        if (need > room)
            break;
        room -= need;
    }
    jg_gw_msg_put_u32(a, (uint32_t)k);
    for (i = 0; i < k; i++) {
        char label[300];
        label_of(e[i].t, label, sizeof(label));
        jg_gw_msg_put_str(a, e[i].target);
        jg_gw_msg_put_str(a, e[i].login);
        jg_gw_msg_put_str(a, label);
    }
    free(e);
}
