/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cmd_sync.c - "jumpgate sync plan|apply|run|discover": keeps the AWS
 * security groups and Cloudflare in step with the policy, and the members
 * of ECS-discovered targets up to date. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "sync/sync.h"

static const char usage[] =
    "usage: jumpgate [-c FILE] sync plan [--json] [--out PLAN]\n"
    "       jumpgate [-c FILE] sync apply [--force] [PLAN]\n"
    "       jumpgate [-c FILE] sync run [--force]\n"
    "       jumpgate [-c FILE] sync discover\n";

enum mode { MODE_PLAN, MODE_APPLY, MODE_DISCOVER };

/* What plan and apply were told besides the mode. */
struct sync_opts {
    bool json, force;
    const char *out;            /* plan --out: where the plan is saved */
    const char *saved;          /* apply PLAN: the plan to carry out */
};

/* Would apply refuse plan (sync.max_removals)? The reason in why. */
static bool
refuses(const struct jg_config *cfg, const struct jg_sync_plan *plan,
        char *why, size_t n)
{
    if (cfg->max_removals < 0 ||
        plan->n_removals <= (size_t)cfg->max_removals)
        return false;
    snprintf(why, n, "it removes %zu managed rules or list entries, more "
             "than sync.max_removals (%d)", plan->n_removals,
             cfg->max_removals);
    return true;
}

/* plan --out: the plan as JSON, for apply PLAN to carry out exactly. */
static int
save_plan(const char *cmd, const char *path, json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    FILE *f = text != NULL ? fopen(path, "w") : NULL;
    bool ok = f != NULL && fputs(text, f) >= 0 && fputc('\n', f) != EOF;

    if (f != NULL && fclose(f) != 0)
        ok = false;
    free(text);
    if (!ok) {
        jg_error("%s: cannot write the plan to %s: %s", cmd, path,
                 strerror(errno));
        return JG_EXIT_ERROR;
    }
    return JG_EXIT_OK;
}

/* apply PLAN: the saved plan must be the one that would be made now (the
 * same changes, to the letter); else nothing is done. */
static int
same_as_saved(const char *cmd, const char *path,
              const struct jg_sync_plan *plan)
{
    json_t *saved, *now = jg_sync_plan_json(plan);
    json_error_t je;
    int rc = JG_EXIT_OK;

    if ((saved = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) == NULL) {
        jg_error("%s: %s:%d:%d: %s", cmd, path, je.line, je.column, je.text);
        rc = JG_EXIT_ERROR;
    } else if (!json_is_array(json_object_get(saved, "changes"))) {
        jg_error("%s: %s: not a saved plan (no \"changes\"; make one with "
                 "jumpgate sync plan --out)", cmd, path);
        rc = JG_EXIT_ERROR;
    } else if (!json_equal(json_object_get(saved, "changes"),
                           json_object_get(now, "changes"))) {
        jg_error("%s: the plan in %s is no longer what would be done (%zu "
                 "changes saved, %zu now): the policy or the cloud changed "
                 "since; nothing was changed. Make and review a new plan",
                 cmd, path, json_array_size(json_object_get(saved, "changes")),
                 plan->n);
        rc = JG_EXIT_NO;
    }
    json_decref(saved);
    json_decref(now);
    return rc;
}

/* One round: the plan; with apply, discovery first and then the plan
 * carried out; with discover, discovery alone. Exit status. */
static int
sync_once(struct jg_cli_sync_ctx *x, const char *cmd, enum mode mode,
          const struct sync_opts *o)
{
    bool json = o->json, force = o->force;
    char why[256];
    const struct jg_config *cfg = x->cfg;
    struct jg_policy *p = NULL;
    struct jg_sync *s = NULL;
    struct jg_sync_plan *plan = NULL;
    size_t done = 0;
    int rc, r, disc_rc = JG_EXIT_OK;

    /* An invalid policy changes nothing: it is refused before any call. */
    if ((rc = jg_cli_load_policy(cfg->policy, JG_EXIT_NO, &p)) != 0) {
        if (mode != MODE_PLAN)
            jg_cli_sync_failed(x, NULL, "policy", "the policy does not load");
        goto out;
    }
    if ((r = jg_sync_new(cfg, &s)) != 0) {
        jg_error("%s: %s", cmd, jg_strerror(r));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    jg_cli_sync_observe(x, s);
    if (mode != MODE_PLAN)
        disc_rc = jg_cli_sync_discover(x, s, p, stdout);
    if (mode == MODE_DISCOVER) {
        rc = disc_rc;
        goto out;
    }
    if ((r = jg_sync_plan_build(s, p, jg_now(), &plan)) != 0) {
        jg_error("%s: %s", cmd, jg_sync_error(s));
        if (mode != MODE_PLAN)
            jg_cli_sync_failed(x, jg_sync_error_provider(s), "plan",
                               jg_sync_error(s));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    if (mode == MODE_PLAN) {
        bool refused = refuses(cfg, plan, why, sizeof(why));
        json_t *j = jg_sync_plan_json(plan);

        json_object_set_new(j, "apply_refuses",
                            refused ? json_string(why) : json_null());
        if (o->out != NULL && (rc = save_plan(cmd, o->out, j)) != 0) {
            json_decref(j);
            goto out;
        }
        if (json) {
            rc = jg_cli_json_print(j);
        } else {
            json_decref(j);
            jg_sync_plan_print(plan, stdout);
            if (refused)
                printf("Apply will refuse this plan: %s; review the "
                       "removals, then run: jumpgate sync apply --force\n",
                       why);
            if (o->out != NULL)
                printf("Saved to %s: jumpgate sync apply %s carries out "
                       "exactly this plan.\n", o->out, o->out);
            rc = fflush(stdout) == 0 ? JG_EXIT_OK : JG_EXIT_ERROR;
        }
        /* Exit 1 says that apply would refuse, as it will. */
        if (rc == JG_EXIT_OK && refused)
            rc = JG_EXIT_NO;
        goto out;
    }
    if (o->saved != NULL && (rc = same_as_saved(cmd, o->saved, plan)) != 0)
        goto out;
    jg_sync_plan_print(plan, stdout);
    fflush(stdout);
    if (mode != MODE_APPLY || plan->n == 0) {
        rc = disc_rc;
        goto out;
    }
    r = jg_sync_plan_apply(s, plan, cfg->max_removals, force, &done);
    if (r == JG_ERR_DENIED && done == 0 && plan->n_removals > 0 &&
        !force && plan->n_removals > (size_t)cfg->max_removals) {
        jg_error("%s: %s", cmd, jg_sync_error(s));
        jg_cli_sync_failed(x, NULL, "apply", jg_sync_error(s));
        rc = JG_EXIT_NO;
        goto out;
    }
    if (r != 0) {
        jg_error("%s: %s (%zu of %zu changes made; the next run converges)",
                 cmd, jg_sync_error(s), done, plan->n);
        jg_cli_sync_failed(x, jg_sync_error_provider(s), "apply",
                           jg_sync_error(s));
        rc = JG_EXIT_ERROR;
        goto out;
    }
    printf("Apply complete: %zu change%s.\n", done, done == 1 ? "" : "s");
    rc = fflush(stdout) == 0 ? disc_rc : JG_EXIT_ERROR;
out:
    jg_sync_plan_free(plan);
    jg_sync_free(s);
    jg_policy_free(p);
    if (x->audit_failed && rc == JG_EXIT_OK)
        rc = JG_EXIT_ERROR;
    return rc;
}

static int
run_round(struct jg_cli_sync_ctx *x, bool force)
{
    struct sync_opts o = {.force = force};

    return sync_once(x, "sync run", MODE_APPLY, &o);
}

int
jg_cli_sync(struct jg_cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'j'},
        {"force", no_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct jg_config *cfg = NULL;
    struct sync_opts o = {0};
    const char *sub;
    char cmd[32];
    bool json = false, force = false;
    int ch, rc;

    /* "sync" [options] SUBCOMMAND [options]: permute so both orders work. */
    optind = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            c->config = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return JG_EXIT_OK;
        case 'j':
            json = true;
            break;
        case 'f':
            force = true;
            break;
        case 'o':
            o.out = optarg;
            break;
        default:
            return jg_cli_opt_error("sync", ch, argv, usage);
        }
    }
    if (optind >= argc)
        return jg_cli_usage_error("sync", usage, "no subcommand given");
    sub = argv[optind];
    /* apply takes a saved plan */
    if (strcmp(sub, "apply") == 0 && optind + 2 == argc)
        o.saved = argv[optind + 1];
    else if (optind + 1 < argc)
        return jg_cli_usage_error("sync", usage, "unexpected argument '%s'",
                                  argv[optind + 1]);
    snprintf(cmd, sizeof(cmd), "sync %.16s", sub);
    if (strcmp(sub, "plan") != 0 && strcmp(sub, "apply") != 0 &&
        strcmp(sub, "run") != 0 && strcmp(sub, "discover") != 0)
        return jg_cli_usage_error("sync", usage, "unknown subcommand '%s'",
                                  sub);
    if ((json || o.out != NULL) && strcmp(sub, "plan") != 0)
        return jg_cli_usage_error(cmd, usage, "--json and --out are for sync "
                                  "plan");
    if (force && (strcmp(sub, "plan") == 0 || strcmp(sub, "discover") == 0))
        return jg_cli_usage_error(cmd, usage, "--force is for apply and run");
    if ((rc = jg_cli_config(c, false, &cfg)) != 0)
        return rc;
    if (strcmp(sub, "run") == 0) {
        rc = jg_cli_sync_run(c, cfg, force, run_round);
    } else {
        struct jg_cli_sync_ctx x = {.cli = c, .cfg = cfg};

        o.json = json;
        o.force = force;
        rc = sync_once(&x, cmd,
                       strcmp(sub, "apply") == 0  ? MODE_APPLY
                       : strcmp(sub, "plan") == 0 ? MODE_PLAN
                                                  : MODE_DISCOVER,
                       &o);
        jg_cli_sync_ctx_close(&x);
        if (x.audit_failed && rc == JG_EXIT_OK)
            rc = JG_EXIT_ERROR;
    }
    jg_config_free(cfg);
    return rc;
}
