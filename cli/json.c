/* SPDX-License-Identifier: Apache-2.0 */
/* cli/json.c - builds and prints the --json output of the subcommands
 * with jansson. */
#include <stdio.h>

#include "cli/cli.h"

int
jg_cli_json_print(json_t *j)
{
    int r;

    if (j == NULL) {
        jg_error("out of memory building JSON output");
        return JG_EXIT_ERROR;
    }
    /* 15 significant digits: a duration of 0.06264 s prints as such, not
     * as the nearest double's 0.062640000000000001. */
    r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (r != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
        jg_error("cannot write the output");
        return JG_EXIT_ERROR;
    }
    return JG_EXIT_OK;
}

json_t *
jg_cli_json_time(int64_t t)
{
    char buf[JG_TIME_STRLEN];

    if (t == JG_TIME_NEVER)
        return json_null();
    jg_time_format(t, buf, sizeof(buf));
    return json_string(buf);
}

json_t *
jg_cli_json_strv(const char *const *v, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

json_t *
jg_cli_json_actions(unsigned mask)
{
    json_t *a = json_array();
    unsigned bit;

    for (bit = 1; a != NULL && bit <= JG_ACT_ALL; bit <<= 1)
        if (mask & bit)
            json_array_append_new(a, json_string(jg_policy_action_name(bit)));
    return a;
}

json_t *
jg_cli_json_cidrs(const struct jg_cidr *v, size_t n)
{
    json_t *a = json_array();
    char buf[JG_CIDR_STRLEN];
    size_t i;

    for (i = 0; a != NULL && i < n; i++) {
        jg_cidr_format(&v[i], buf, sizeof(buf));
        json_array_append_new(a, json_string(buf));
    }
    return a;
}
