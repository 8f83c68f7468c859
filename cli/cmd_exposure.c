/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_exposure.c - "jumpgate policy exposure": what each exposure entry
 * must let through the cloud firewalls at a given time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] policy exposure [--at TIME] [--json]\n";
static const char cmd[] = "policy exposure";

static void
print_entry(const struct jg_exposure *e, const struct jg_cidr *v, size_t n)
{
    char buf[JG_CIDR_STRLEN];
    size_t i;

    printf("%s:", e->name);
    if (e->port != 0)
        printf(" port %u,", (unsigned)e->port);
    printf(" sources %s\n", e->sources != NULL ? e->sources : "-");
    if (e->aws_security_group != NULL)
        printf("  aws security group %s\n", e->aws_security_group);
    if (e->cloudflare != NULL)
        printf("  cloudflare list %s, zone %s, host %s, path %s\n",
               e->cloudflare->list, e->cloudflare->zone_id, e->cloudflare->host,
               e->cloudflare->path_prefix);
    for (i = 0; i < n; i++) {
        jg_cidr_format(&v[i], buf, sizeof(buf));
        printf("  allow %s\n", buf);
    }
    if (n == 0)
        printf("  allow nothing (no active user or grant)\n");
}

static json_t *
entry_json(const struct jg_exposure *e, const struct jg_cidr *v, size_t n)
{
    json_t *o = json_object(), *cf = NULL;

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "name", json_string(e->name));
    json_object_set_new(o, "port",
                        e->port != 0 ? json_integer(e->port) : json_null());
    json_object_set_new(o, "sources",
                        e->sources != NULL ? json_string(e->sources)
                                           : json_null());
    json_object_set_new(o, "aws_security_group",
                        e->aws_security_group != NULL
                            ? json_string(e->aws_security_group)
                            : json_null());
    if (e->cloudflare != NULL) {
        cf = json_pack("{s:s?, s:s?, s:s?, s:s?}", "list", e->cloudflare->list,
                       "zone_id", e->cloudflare->zone_id, "host",
                       e->cloudflare->host, "path_prefix",
                       e->cloudflare->path_prefix);
    }
    json_object_set_new(o, "cloudflare", cf != NULL ? cf : json_null());
    json_object_set_new(o, "cidrs", jg_cli_json_cidrs(v, n));
    return o;
}

int
jg_cli_policy_exposure(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"at", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct jg_policy *p = NULL;
    struct jg_cidr *v = NULL;
    json_t *arr = NULL;
    const char *at_s = "now";
    bool json = false;
    int64_t at;
    char *path = NULL;
    size_t i, n;
    int ch, rc, r;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        case 'T':
            at_s = optarg;
            break;
        case 'j':
            json = true;
            break;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (optind < argc)
        return jg_cli_usage_error(cmd, usage, "unexpected argument '%s'",
                                  argv[optind]);
    if (jg_cli_parse_time(at_s, &at) != 0)
        return jg_cli_usage_error(cmd, NULL,
                                  "--at '%s' is not a time (use RFC 3339, "
                                  "e.g. 2026-11-27T18:00:00Z, or 'now')",
                                  at_s);
    if ((rc = jg_cli_policy_path(c, &path)) != 0)
        return rc;
    if ((rc = jg_cli_load_policy(path, JG_EXIT_ERROR, &p)) != 0)
        goto out;
    if (json && (arr = json_array()) == NULL) {
        rc = jg_cli_json_print(NULL);
        goto out;
    }
    for (i = 0; i < jg_policy_n_exposures(p); i++) {
        const struct jg_exposure *e = jg_policy_exposure_at(p, i);

        if ((r = jg_policy_exposure_sources(p, i, at, &v, &n)) != 0) {
            jg_error("exposure %s: %s", e->name, jg_strerror(r));
            rc = JG_EXIT_ERROR;
            goto out;
        }
        if (json)
            json_array_append_new(arr, entry_json(e, v, n));
        else
            print_entry(e, v, n);
        free(v);
        v = NULL;
    }
    if (json) {
        rc = jg_cli_json_print(arr);
        arr = NULL;
    } else {
        rc = fflush(stdout) == 0 ? JG_EXIT_OK : JG_EXIT_ERROR;
    }
out:
    json_decref(arr);
    free(v);
    jg_policy_free(p);
    free(path);
    return rc;
}
