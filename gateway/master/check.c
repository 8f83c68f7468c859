/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/check.c - checks, at start, at -t and before a reload is
 * applied, the files the configuration names: listen addresses, host keys,
 * the upstream identity and user CA (loaded as the monitors will, in a
 * child), the
 * known hosts, and the audit folder and signing key. */
#include <unistd.h>

#include "gateway/master/master.h"

/* A key the monitors will sign with, loaded as they will (NULL: unset). */
static int
key_check(const struct jg_config *cfg, const char *path, const char *what,
          struct jg_diags *diags)
{
    char err[512];

    if (path == NULL)
        return 0;
    if (jg_gw_agent_key_check(path, what, err, sizeof(err)) != 0) {
        jg_diags_add(diags, cfg->path, 0, 0, "%s", err);
        return JG_ERR_INVALID;
    }
    return 0;
}

int
jg_gw_master_check(const struct jg_config *cfg, struct jg_diags *diags)
{
    int r = 0;

    if (cfg->n_listen == 0) {
        jg_diags_add(diags, cfg->path, 0, 0, "'listen' names no address");
        r = JG_ERR_INVALID;
    }
    if (cfg->n_host_keys == 0) {
        jg_diags_add(diags, cfg->path, 0, 0, "'host_keys' names no key");
        r = JG_ERR_INVALID;
    }
    if (cfg->upstream_identity == NULL && cfg->upstream_ca == NULL) {
        jg_diags_add(diags, cfg->path, 0, 0, "upstream needs a ca (a "
                     "certificate per login) or an identity (a static key)");
        r = JG_ERR_INVALID;
    }
    /* The monitors sign with them: check now that they can. */
    if (key_check(cfg, cfg->upstream_identity, "upstream.identity", diags) != 0)
        r = JG_ERR_INVALID;
    if (key_check(cfg, cfg->upstream_ca, "upstream.ca", diags) != 0)
        r = JG_ERR_INVALID;
    if (cfg->upstream_known_hosts == NULL ||
        access(cfg->upstream_known_hosts, R_OK) != 0) {
        jg_diags_add(diags, cfg->path, 0, 0,
                     "upstream.known_hosts: cannot read '%s'",
                     cfg->upstream_known_hosts ? cfg->upstream_known_hosts
                                               : "(unset)");
        r = JG_ERR_INVALID;
    }
    if (r == 0)
        r = jg_gw_audit_check(cfg, diags);
    return r;
}

