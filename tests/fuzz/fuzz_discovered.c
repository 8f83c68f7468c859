/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_discovered.c - libFuzzer target for the discovered-
 * members loader (policy/discovered.c): the input is
 * policy.d/ecs-prod.discovered.json beside a fixed policy with two
 * discovering targets, in a private temporary folder, loaded the way the
 * gateway loads it (jg_policy_load). When it loads, every member resolves
 * by its name and its alias to itself, belongs to its parent, and a few
 * requests are decided against it (the same answer by either name; no
 * member of the target without a file); when it does not, a diagnostic
 * names the discovered file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"

static const char policy[] =
    "version: 1\n"
    "users:\n"
    "  alice:\n"
    "    keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLhqf40Rr0bwyOlGZtIcRUoqGrLXbvRyfCc/pprH6R5 a\"]\n"
    "    groups: [ops]\n"
    "    from: [10.0.0.0/8]\n"
    "  bob:\n"
    "    keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHLhqf40Rr0bwyOlGZtIcRUoqGrLXbvRyfCc/pprH6R5 b\"]\n"
    "    groups: [dev]\n"
    "    from: [10.0.0.0/8]\n"
    "targets:\n"
    "  web-1: {kind: ssh, address: \"10.0.0.1:22\"}\n"
    "  ecs-prod: {kind: ssh, discover: {ecs_cluster: shop-prod, port: 2222},\n"
    "             labels: {env: prod, tier: ecs}}\n"
    "  ecs-stage: {kind: ssh, discover: {ecs_cluster: shop-stage}}\n"
    "rules:\n"
    "  - {name: ops-ecs, groups: [ops], targets: [ecs-prod], allow: [shell],"
    " logins: [ec2-user]}\n"
    "  - {name: dev-ecs, groups: [dev], targets: [\"tier=ecs\"],"
    " allow: [exec, sftp]}\n"
    "  - {name: no-db, effect: deny, targets: [\"role=db\"]}\n";

static char dir_[64], policy_path_[128], file_[160];

static void
check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_discovered: %s\n", what);
        abort();
    }
}

static void
cleanup(void)
{
    char sub[96];

    unlink(file_);
    unlink(policy_path_);
    snprintf(sub, sizeof(sub), "%s/policy.d", dir_);
    rmdir(sub);
    rmdir(dir_);
}

static void
put(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    check(f != NULL && fwrite(data, 1, n, f) == n && fclose(f) == 0,
          "cannot write the temporary files");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    char sub[96];

    (void)argc;
    (void)argv;
    jg_log_init("fuzz", false, 0);
    snprintf(dir_, sizeof(dir_), "/tmp/jg-fuzz-disc-XXXXXX");
    check(mkdtemp(dir_) != NULL, "mkdtemp");
    snprintf(sub, sizeof(sub), "%s/policy.d", dir_);
    check(mkdir(sub, 0700) == 0, "mkdir");
    snprintf(policy_path_, sizeof(policy_path_), "%s/policy.yaml", dir_);
    snprintf(file_, sizeof(file_), "%s/ecs-prod.discovered.json", sub);
    atexit(cleanup);
    put(policy_path_, policy, sizeof(policy) - 1);
    /* without a discovered file the policy loads, with no members */
    if (jg_policy_load(policy_path_, &p, &d) != 0)
        jg_diags_print(&d, stderr);
    check(p != NULL && jg_policy_n_members(p) == 0, "the fixed policy");
    jg_policy_free(p);
    jg_diags_clear(&d);
    return 0;
}

/* The decision for who on target by action, from a fixed place and time. */
static struct jg_decision
decide(const struct jg_policy *p, const char *who, const char *target,
       unsigned action)
{
    struct jg_request q = {.user = who, .from = "10.1.2.3", .target = target,
                           .action = action, .at = 1795780800};
    struct jg_decision dec;
    const char *logins[4];

    check(jg_policy_decide(p, &q, &dec) == 0, "decide failed");
    jg_policy_logins(p, &q, logins, 4);
    return dec;
}

static void
check_member(const struct jg_policy *p, const struct jg_target *m)
{
    static const char *const users[] = {"alice", "bob"};
    static const unsigned actions[] = {JG_ACT_SHELL, JG_ACT_EXEC, JG_ACT_SFTP};
    char *by_alias, *elsewhere;
    size_t u, a;

    check(m->parent != NULL && strcmp(m->parent, "ecs-prod") == 0,
          "a member of another target");
    check(m->name != NULL && m->alias != NULL && m->host != NULL,
          "a member without its name, alias or host");
    check(jg_policy_target(p, m->name) == m, "the name does not resolve");
    by_alias = jg_xasprintf("ecs-prod/%s", m->alias);
    elsewhere = jg_xasprintf("ecs-stage/%s", m->alias);
    check(jg_policy_target(p, by_alias) == m, "the alias does not resolve");
    check(jg_policy_target(p, elsewhere) == NULL,
          "a member of the target without a file");
    for (u = 0; u < 2; u++) {
        for (a = 0; a < 3; a++) {
            struct jg_decision x = decide(p, users[u], m->name, actions[a]);
            struct jg_decision y = decide(p, users[u], by_alias, actions[a]);
            struct jg_decision z = decide(p, users[u], elsewhere, actions[a]);
            check(x.effect == y.effect, "name and alias decide differently");
            check(z.effect == JG_DENY, "an unknown member is allowed");
        }
    }
    free(by_alias);
    free(elsewhere);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    size_t i;
    bool named = false;

    put(file_, data, size);
    if (jg_policy_load(policy_path_, &p, &d) == 0) {
        check(p != NULL, "loaded, but no policy");
        check(jg_policy_n_members(p) <= JG_POLICY_MEMBERS_MAX,
              "too many members");
        for (i = 0; i < jg_policy_n_members(p); i++)
            check_member(p, jg_policy_member_at(p, i));
        check(jg_policy_member_at(p, i) == NULL, "a member past the end");
    } else {
        check(p == NULL, "a half-loaded policy");
        for (i = 0; i < d.n; i++)
            named |= d.v[i].file != NULL && strcmp(d.v[i].file, file_) == 0;
        check(named, "an error that does not name the discovered file");
    }
    jg_policy_free(p);
    jg_diags_clear(&d);
    return 0;
}
