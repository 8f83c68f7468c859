/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_status.c - "jumpgate policy status": the digest of the policy on
 * disk beside the one the running jumpgated decides with, when it loaded
 * it and how it watches the files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] = "usage: jumpgate [-c FILE] policy status [--json]\n";
static const char cmd[] = "policy status";

int
jg_cli_policy_status(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct jg_policy *p = NULL;
    json_t *a = NULL, *out;
    const char *run_digest = NULL;
    char *path = NULL;
    bool json = false, same;
    int ch, rc;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        default:
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (optind != argc)
        return jg_cli_usage_error(cmd, usage, "unexpected argument '%s'",
                                  argv[optind]);
    if ((rc = jg_cli_policy_path(c, &path)) != 0)
        return rc;
    /* an invalid policy on disk is reported and shown as such */
    (void)jg_cli_load_policy(path, JG_EXIT_NO, &p);
    if ((rc = jg_cli_control_ask(c, cmd, "status\n", &a, NULL)) != 0)
        goto out;
    run_digest = json_string_value(json_object_get(a, "digest"));
    if (run_digest == NULL) {
        jg_error("%s: %s", cmd,
                 json_string_value(json_object_get(a, "error"))
                     ? json_string_value(json_object_get(a, "error"))
                     : "unexpected answer");
        rc = JG_EXIT_ERROR;
        goto out;
    }
    same = p != NULL && strcmp(jg_policy_digest(p), run_digest) == 0;
    if (json) {
        out = json_pack("{s:s,s:o,s:O,s:b}", "policy", path, "disk",
                        p != NULL ? json_string(jg_policy_digest(p))
                                  : json_null(),
                        "running", a, "in_step", same);
        rc = jg_cli_json_print(out);
    } else {
        printf("policy   %s\n", path);
        if (p != NULL)
            printf("on disk  sha256:%s (%zu files)\n", jg_policy_digest(p),
                   jg_policy_n_files(p));
        else
            printf("on disk  not valid\n");
        printf("running  sha256:%s (%" JSON_INTEGER_FORMAT " files, loaded "
               "%s, watched with %s)\n", run_digest,
               json_integer_value(json_object_get(a, "files")),
               json_string_value(json_object_get(a, "loaded"))
                   ? json_string_value(json_object_get(a, "loaded"))
                   : "?",
               json_string_value(json_object_get(a, "watch"))
                   ? json_string_value(json_object_get(a, "watch"))
                   : "?");
        printf("%s\n", same ? "jumpgated runs the policy on disk"
                            : "jumpgated runs another policy than the one "
                              "on disk");
        rc = fflush(stdout) == 0 ? JG_EXIT_OK : JG_EXIT_ERROR;
    }
    if (rc == JG_EXIT_OK && !same)
        rc = JG_EXIT_NO;
out:
    json_decref(a);
    jg_policy_free(p);
    free(path);
    return rc;
}
