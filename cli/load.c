/* SPDX-License-Identifier: Apache-2.0 */
/* cli/load.c - finds and loads the configuration and the policy for a
 * subcommand, reporting failures the same way everywhere. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void
jg_cli_report_io(struct jg_diags *d, const char *what, int err)
{
    size_t i;

    if (d->n == 0)
        jg_error("%s: %s", what, strerror(err));
    for (i = 0; i < d->n; i++) {
        const struct jg_diag *g = &d->v[i];

        if (g->line > 0)
            jg_error("%s:%d:%d: %s", g->file, g->line, g->col, g->msg);
        else
            jg_error("%s: %s", g->file, g->msg);
    }
    jg_diags_clear(d);
}

void
jg_cli_print_diags(struct jg_diags *d)
{
    /* jg_diags_print() hands qsort() a NULL array when d is empty. */
    if (d->n > 0)
        jg_diags_print(d, stderr);
    jg_diags_clear(d);
}

void
jg_cli_report_invalid(struct jg_diags *d, const char *what)
{
    size_t n = d->n;

    jg_cli_print_diags(d);
    jg_error("%s: %zu error%s", what, n, n == 1 ? "" : "s");
}

int
jg_cli_config(const struct jg_cli *c, bool quiet, struct jg_config **cfg)
{
    const char *path = c->config != NULL ? c->config : jg_config_default_path();
    struct jg_diags d = {0};
    int r, err;

    *cfg = NULL;
    r = jg_config_load(path, cfg, &d);
    err = errno;
    if (r == 0 || quiet) {
        jg_diags_clear(&d);
        return r == 0 ? 0 : JG_EXIT_ERROR;
    }
    if (r == JG_ERR_IO) {
        jg_diags_clear(&d);
        jg_error("cannot read configuration %s: %s", path, strerror(err));
    } else if (r == JG_ERR_INVALID) {
        jg_cli_report_invalid(&d, "configuration not valid");
    } else {
        jg_diags_clear(&d);
        jg_error("configuration %s: %s", path, jg_strerror(r));
    }
    return JG_EXIT_ERROR;
}

int
jg_cli_policy_path(const struct jg_cli *c, char **path)
{
    struct jg_config *cfg = NULL;

    *path = NULL;
    if (jg_cli_config(c, false, &cfg) != 0)
        return JG_EXIT_ERROR;
    *path = jg_xstrdup(cfg->policy);
    jg_config_free(cfg);
    return 0;
}

int
jg_cli_load_policy(const char *path, int invalid_rc, struct jg_policy **out)
{
    struct jg_diags d = {0};
    int r, err;

    *out = NULL;
    r = jg_policy_load(path, out, &d);
    err = errno;
    switch (r) {
    case 0:
        /* Anything noted while loading a valid policy is a warning. */
        jg_cli_print_diags(&d);
        return 0;
    case JG_ERR_IO:
        jg_cli_report_io(&d, path, err);
        return JG_EXIT_ERROR;
    case JG_ERR_INVALID:
        jg_cli_report_invalid(&d, "policy not valid");
        return invalid_rc;
    default:
        jg_cli_print_diags(&d);
        jg_error("%s: %s", path, jg_strerror(r));
        return JG_EXIT_ERROR;
    }
}

size_t
jg_cli_active_grants(const struct jg_policy *p, int64_t now)
{
    size_t i, n = 0;

    for (i = 0; i < jg_policy_n_grants(p); i++)
        if (jg_policy_grant_at(p, i)->until > now)
            n++;
    return n;
}
