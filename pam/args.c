/* SPDX-License-Identifier: Apache-2.0 */
/* pam/args.c - parses the module arguments config=, target=,
 * action= and on_error=; anything else is an error. */
#include <string.h>

#include "pam/pam_jumpgate.h"

/* The value of "key=value" when arg starts with key and '=', else NULL. */
static const char *
value_of(const char *arg, const char *key)
{
    size_t l = strlen(key);

    if (strncmp(arg, key, l) != 0 || arg[l] != '=')
        return NULL;
    return arg + l + 1;
}

int
jg_pam_args_parse(int argc, const char *const *argv,
                  struct jg_pam_args *out, char *why, size_t n)
{
    static const char *const keys[] = {"config", "target", "action",
                                       "on_error"};
    const char *seen[4] = {NULL, NULL, NULL, NULL};
    int i;
    size_t k;

    memset(out, 0, sizeof(*out));
    out->config = JG_CONFIG_DEFAULT;
    out->action = JG_ACT_SHELL;
    why[0] = '\0';
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;

        if (arg == NULL)
            continue;
        for (k = 0; k < 4 && (v = value_of(arg, keys[k])) == NULL; k++)
            ;
        if (v == NULL) {
            snprintf(why, n, "unknown argument '%.64s' (use config=, "
                     "target=, action=, on_error=)", arg);
            return JG_ERR_INVALID;
        }
        if (seen[k] != NULL) {
            snprintf(why, n, "%s= given twice", keys[k]);
            return JG_ERR_INVALID;
        }
        if (*v == '\0') {
            snprintf(why, n, "%s= needs a value", keys[k]);
            return JG_ERR_INVALID;
        }
        seen[k] = v;
    }
    if (seen[0] != NULL) {
        if (seen[0][0] != '/') {
            snprintf(why, n, "config=%.200s: the path must be absolute",
                     seen[0]);
            return JG_ERR_INVALID;
        }
        out->config = seen[0];
    }
    if (seen[1] == NULL) {
        snprintf(why, n, "target= is required (a target name in the policy)");
        return JG_ERR_INVALID;
    }
    out->target = seen[1];
    if (seen[2] != NULL) {
        out->action = jg_policy_action_parse(seen[2]);
        if (out->action == 0 || (out->action & (out->action - 1)) != 0) {
            snprintf(why, n, "action=%.64s: use one of shell, exec, sftp, "
                     "forward, jump", seen[2]);
            return JG_ERR_INVALID;
        }
    }
    if (seen[3] != NULL) {
        if (strcmp(seen[3], "ignore") == 0) {
            out->on_error_ignore = true;
        } else if (strcmp(seen[3], "deny") != 0) {
            snprintf(why, n, "on_error=%.64s: use deny or ignore", seen[3]);
            return JG_ERR_INVALID;
        }
    }
    return 0;
}
