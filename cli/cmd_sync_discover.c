/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_sync_discover.c - ECS discovery for `jumpgate sync discover`,
 * `apply` and `run`: every discovering target's members written to its
 * policy.d/T.discovered.json; a failed call leaves the old file alone. */
#include <string.h>

#include "cli/cli.h"
#include "sync/sync.h"

int
jg_cli_sync_discover(struct jg_cli_sync_ctx *x, struct jg_sync *s,
                     const struct jg_policy *p, FILE *out)
{
    size_t i;
    int rc = JG_EXIT_OK;

    for (i = 0; i < jg_policy_n_targets(p); i++) {
        const struct jg_target *t = jg_policy_target_at(p, i);
        struct jg_sync_member *v = NULL;
        char err[1024], what[256];
        size_t n = 0;
        int r;

        if (t->ecs_cluster == NULL)
            continue;
        snprintf(what, sizeof(what), "discovery of %s (ECS cluster %s)",
                 t->name, t->ecs_cluster);
        if ((r = jg_sync_discover(s, t, &v, &n)) != 0) {
            jg_error("%s: %s; its member list stays as it was", what,
                     jg_sync_error(s));
            jg_cli_sync_failed(x, "aws", what, jg_sync_error(s));
            rc = JG_EXIT_ERROR;
            continue;
        }
        if ((r = jg_sync_discovered_write(x->cfg->policy, t, v, n, jg_now(),
                                          err, sizeof(err))) != 0) {
            jg_error("%s: %s", what, err);
            jg_cli_sync_failed(x, NULL, what, err);
            rc = JG_EXIT_ERROR;
        } else {
            if (out != NULL)
                fprintf(out, "%s: %zu member%s in ECS cluster %s\n",
                        t->name, n, n == 1 ? "" : "s", t->ecs_cluster);
            if (x->metrics != NULL)
                jg_metrics_set(x->metrics,
                               "jumpgate_sync_discovered_targets", (double)n,
                               "target", t->name, NULL);
        }
        jg_sync_members_free(v, n);
    }
    return rc;
}
