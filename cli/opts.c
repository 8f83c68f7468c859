/* SPDX-License-Identifier: Apache-2.0 */
/* cli/opts.c - option helpers shared by the subcommands: usage errors,
 * comma-separated lists and time arguments. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int
jg_cli_plain_opts(struct jg_cli *c, const char *cmd, const char *usage,
                  int argc, char **argv, bool *force)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:hf", opts, NULL)) != -1) {
        if (ch == 'c') {
            c->config = optarg;
        } else if (ch == 'h') {
            fputs(usage, stdout);
            return JG_EXIT_OK;
        } else if (ch == 'f' && force != NULL) {
            *force = true;
        } else {
            if (ch == 'f') { /* --force where it means nothing */
                ch = '?';
                optopt = 'f';
            }
            return jg_cli_opt_error(cmd, ch, argv, usage);
        }
    }
    if (optind != argc)
        return jg_cli_usage_error(cmd, usage, "no arguments expected");
    return -1;
}

int
jg_cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cmd != NULL)
        jg_error("%s: %s", cmd, msg);
    else
        jg_error("%s", msg);
    if (usage != NULL)
        fputs(usage, stderr);
    return JG_EXIT_ERROR;
}

int
jg_cli_opt_error(const char *cmd, int ch, char **argv, const char *usage)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    bool long_opt = strncmp(arg, "--", 2) == 0;

    if (ch == ':') {
        if (long_opt || optopt == 0)
            return jg_cli_usage_error(cmd, usage, "option '%s' needs a value",
                                      arg);
        return jg_cli_usage_error(cmd, usage, "option '-%c' needs a value",
                                  optopt);
    }
    if (long_opt && strchr(arg, '=') != NULL && optopt != 0)
        return jg_cli_usage_error(cmd, usage, "option '%.*s' takes no value",
                                  (int)(strchr(arg, '=') - arg), arg);
    if (optopt == 0 || long_opt)
        return jg_cli_usage_error(cmd, usage, "unknown option '%s'", arg);
    return jg_cli_usage_error(cmd, usage, "unknown option '-%c'", optopt);
}

void
jg_cli_split_append(const char *s, char ***v, size_t *n)
{
    const char *p = s;

    while (*p != '\0') {
        size_t len = strcspn(p, ",");

        if (len > 0) {
            char *part = jg_xmalloc(len + 1);

            memcpy(part, p, len);
            part[len] = '\0';
            *v = jg_xrealloc(*v, *n + 1, sizeof(**v));
            (*v)[(*n)++] = part;
        }
        p += len;
        if (*p == ',')
            p++;
    }
}

void
jg_cli_strv_free(char **v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int
jg_cli_parse_time(const char *s, int64_t *t)
{
    if (strcmp(s, "now") == 0) {
        *t = jg_now();
        return 0;
    }
    return jg_time_parse(s, t) == 0 ? 0 : JG_ERR_INVALID;
}

int
jg_cli_group(struct jg_cli *c, const char *group, const char *usage,
             const struct jg_cli_cmd *cmds, size_t n, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t i;
    int ch;

    optind = 0;
    while ((ch = getopt_long(argc, argv, "+:c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        default:
            return jg_cli_opt_error(group, ch, argv, usage);
        }
    }
    if (optind >= argc)
        return jg_cli_usage_error(group, usage, "no subcommand given");
    for (i = 0; i < n; i++) {
        if (strcmp(argv[optind], cmds[i].name) == 0)
            return cmds[i].run(c, argc - optind, argv + optind);
    }
    return jg_cli_usage_error(group, usage, "unknown subcommand '%s'",
                              argv[optind]);
}
