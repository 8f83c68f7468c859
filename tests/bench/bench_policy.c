/* SPDX-License-Identifier: Apache-2.0 */
/* tests/bench/bench_policy.c - times loading a large policy (10,000 users,
 * 1,000 targets, 500 rules, grants, exposure) and jg_policy_decide() on it.
 * Usage: bench_policy [LOAD_RUNS [DECISIONS]]; prints "key: value" lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "policy/policy.h"

#define N_USERS 10000
#define N_TARGETS 1000
#define N_RULES 500
#define N_GROUPS 50
#define N_GRANTS 300
#define WEEK_START 1796601600 /* 2026-12-07T00:00:00Z, a Monday */

/* xorshift64*: reproducible runs. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned
rndn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);

    return v[i < n ? i : n - 1];
}

/* "ssh-ed25519 BASE64 comment": the blob is string "ssh-ed25519" then a
 * string of 32 bytes, which is all an Ed25519 public key is. */
static void
append_key(GString *g, unsigned i)
{
    guchar blob[4 + 11 + 4 + 32];
    gchar *b64;
    size_t k;

    memcpy(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 4 + 11 + 4);
    for (k = 0; k < 32; k++)
        blob[19 + k] = (guchar)rnd();
    b64 = g_base64_encode(blob, sizeof(blob));
    g_string_append_printf(g, "\"ssh-ed25519 %s u%05u@bench\"", b64, i);
    g_free(b64);
}

static const char *
target_name(unsigned t, char *buf, size_t n)
{
    if (t < 700)
        snprintf(buf, n, "web-%04u", t);
    else if (t < 900)
        snprintf(buf, n, "db-%04u", t);
    else
        snprintf(buf, n, "mon-%04u", t);
    return buf;
}

/* What the generator knows about each allow rule, to build requests that
 * it should allow. */
struct rule_info {
    bool deny, by_users;
    unsigned group, users[3];
    unsigned target;   /* one target the rule covers */
    unsigned action;
};

static struct rule_info rules[N_RULES];

static void
gen_users(GString *g)
{
    unsigned i;

    g_string_append(g, "version: 1\nusers:\n");
    for (i = 0; i < N_USERS; i++) {
        g_string_append_printf(g, "  u%05u:\n    keys: [", i);
        append_key(g, i);
        g_string_append_printf(g, "]\n    groups: [g%02u", i % N_GROUPS);
        if (i % 2)
            g_string_append_printf(g, ", g%02u", (i / N_GROUPS) % N_GROUPS);
        g_string_append_printf(g, "]\n    from: [10.%u.%u.0/24", (i >> 8) & 255,
                               i & 255);
        if (i % 3 == 0)
            g_string_append_printf(g, ", \"2001:db8:%x::/48\"", i);
        g_string_append(g, "]\n");
        if (i % 10 == 0)
            g_string_append(g, "    mfa: true\n");
        if (i % 97 == 0)
            g_string_append(g, "    expires: 2026-12-09T00:00:00Z\n");
    }
}

static void
gen_targets(GString *g)
{
    static const char *const envs[] = {"prod", "staging", "dev"};
    char name[32];
    unsigned t;

    g_string_append(g, "targets:\n");
    for (t = 0; t < N_TARGETS; t++) {
        target_name(t, name, sizeof(name));
        if (t < 700)
            g_string_append_printf(g, "  %s: {kind: ssh, address: \"10.1.%u.%u:22\", "
                                   "labels: {env: %s, tier: %s, team: team%02u}}\n",
                                   name, t / 250, t % 250 + 1, envs[t % 3],
                                   t % 2 ? "ecs" : "app", t % 20);
        else if (t < 900)
            g_string_append_printf(g, "  %s: {kind: tcp, address: \"[2001:db8:1::%x]:3306\", "
                                   "protocol: mysql, labels: {env: %s, tier: db, "
                                   "team: team%02u}}\n", name, t, envs[t % 3], t % 20);
        else
            g_string_append_printf(g, "  %s: {kind: ssh, address: \"mon%u.internal:22\", "
                                   "labels: {env: %s, tier: monitoring, team: team%02u}}\n",
                                   name, t, envs[t % 3], t % 20);
    }
}

static void
gen_rules(GString *g)
{
    char name[32];
    unsigned r, k;

    g_string_append(g, "rules:\n");
    for (r = 0; r < N_RULES; r++) {
        struct rule_info *ri = &rules[r];

        ri->group = r % N_GROUPS;
        if (r % 10 == 9) {
            /* deny rules: a few for everyone, the rest for a group */
            ri->deny = true;
            g_string_append_printf(g, "  - name: deny-%03u\n    effect: deny\n", r);
            if (r % 100 == 9) {
                g_string_append(g, "    targets: [\"env=dev\"]\n    allow: [jump]\n");
                continue;
            }
            g_string_append_printf(g, "    groups: [g%02u]\n", ri->group);
            if (r % 20 == 9)
                g_string_append(g, "    targets: [\"env=prod\"]\n"
                                   "    when: \"Sat-Sun\"\n");
            else
                g_string_append_printf(g, "    targets: [\"web-0%u*\"]\n    logins: [root]\n"
                                       "    when: \"daily 02:00-03:00 Europe/Madrid\"\n",
                                       r % 70);
            continue;
        }
        g_string_append_printf(g, "  - name: allow-%03u\n", r);
        if (r % 7 == 0) {
            ri->by_users = true;
            for (k = 0; k < 3; k++)
                ri->users[k] = rndn(N_USERS);
            g_string_append_printf(g, "    users: [u%05u, u%05u, u%05u]\n", ri->users[0],
                                   ri->users[1], ri->users[2]);
        } else {
            g_string_append_printf(g, "    groups: [g%02u]\n", ri->group);
        }
        ri->action = JG_ACT_SHELL << rndn(3);
        switch (r % 4) {
        case 0: { /* three names */
            unsigned a = rndn(700), b = rndn(700), c = 900 + rndn(100);
            char nb[32], nc[32];
            ri->target = a;
            g_string_append_printf(g, "    targets: [%s, %s, %s]\n",
                                   target_name(a, name, sizeof(name)),
                                   target_name(b, nb, sizeof(nb)),
                                   target_name(c, nc, sizeof(nc)));
            break;
        }
        case 1: /* a glob: ten targets */
            ri->target = (r % 70) * 10;
            g_string_append_printf(g, "    targets: [\"web-0%02u*\"]\n", r % 70);
            break;
        case 2: /* a label selector and a name */
            ri->target = r % 20;
            g_string_append_printf(g, "    targets: [\"team=team%02u\", %s]\n", r % 20,
                                   target_name(900 + r % 100, name, sizeof(name)));
            break;
        default: /* databases: forward */
            ri->target = 700 + (r % 20);
            ri->action = JG_ACT_FORWARD;
            g_string_append_printf(g, "    targets: [\"tier=db\", \"team=team%02u\"]\n",
                                   r % 20);
            break;
        }
        if (ri->action == JG_ACT_FORWARD)
            g_string_append(g, "    allow: [forward]\n");
        else
            g_string_append(g, "    allow: [shell, exec, sftp]\n"
                               "    logins: [ec2-user, deploy]\n");
        if (r % 3 == 0)
            g_string_append(g, "    when: \"Mon-Fri 07:00-21:00 Europe/Madrid\"\n");
        if (r % 5 == 0)
            g_string_append(g, "    max_session: 4h\n");
        if (r % 6 == 0)
            g_string_append(g, "    record_input: true\n");
    }
}

static void
gen_exposure(GString *g)
{
    g_string_append(g,
        "exposure:\n"
        "  - {name: jump-ssh, port: 22, sources: users, aws_security_group: sg-0a1b2c3d}\n"
        "  - {name: grafana, port: 3000, sources: \"group:g01\", aws_security_group: sg-0e5f6a7b}\n"
        "  - {name: db-admin, port: 3306, sources: [\"group:g02\", \"group:g03\", \"user:u00001\"],\n"
        "     aws_security_group: sg-0123abcd}\n"
        "  - {name: shop-admin, sources: \"group:g04\",\n"
        "     cloudflare: {list: jumpgate_admin_ips, zone_id: \"023e105f4ecef8ad9ca31a8372d0c353\",\n"
        "                  host: shop.example.com, path_prefix: /admin}}\n");
}

static void
gen_grants(GString *g)
{
    char name[32];
    unsigned i;

    g_string_append(g, "grants:\n");
    for (i = 0; i < N_GRANTS; i++) {
        unsigned t = rndn(N_TARGETS);
        g_string_append_printf(g, "  - {id: g-%08x, user: u%05u, targets: [%s], "
                               "allow: [%s], until: %s, reason: INC-%u%s}\n",
                               i, rndn(N_USERS), target_name(t, name, sizeof(name)),
                               t >= 700 && t < 900 ? "forward" : "shell, exec",
                               i % 2 ? "2027-01-01T00:00:00Z" : "2026-01-01T00:00:00Z",
                               i, i % 3 ? "" : ", from: [198.51.100.0/24]");
    }
}

static int
write_file(const char *path, const GString *g)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fwrite(g->str, 1, g->len, f) != g->len) {
        fprintf(stderr, "bench_policy: %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

/* One request: half built to match an allow rule, half at random. */
static void
make_request(struct jg_request *q, char *user, char *from, char *target, size_t n)
{
    unsigned u, t, r;

    if (rndn(2)) {
        do
            r = rndn(N_RULES);
        while (rules[r].deny);
        u = rules[r].by_users ? rules[r].users[rndn(3)]
                              : rules[r].group + N_GROUPS * rndn(N_USERS / N_GROUPS);
        t = rules[r].target;
        q->action = rules[r].action;
    } else {
        u = rndn(N_USERS);
        t = rndn(N_TARGETS);
        q->action = 1u << rndn(5);
    }
    snprintf(user, n, "u%05u", u);
    target_name(t, target, n);
    switch (rndn(8)) {
    case 0:
        snprintf(from, n, "192.0.2.%u", rndn(250) + 1);   /* outside */
        break;
    case 1:
        if (u % 3 == 0) {
            snprintf(from, n, "2001:db8:%x::%x", u, rndn(65535) + 1);
            break;
        }
        /* fall through */
    default:
        snprintf(from, n, "10.%u.%u.%u", (u >> 8) & 255, u & 255, rndn(250) + 1);
    }
    q->user = user;
    q->from = from;
    q->target = target;
    q->login = rndn(4) == 0 ? "deploy" : NULL;
    q->at = WEEK_START + (int64_t)rndn(7 * 86400);
}

int
main(int argc, char **argv)
{
    int load_runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 7;
    size_t n_dec = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 200000, i;
    char dir[] = "/tmp/jg-bench-XXXXXX", path[64], dpath[96], ddir[64];
    GString *g = g_string_new(NULL), *gg = g_string_new(NULL);
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    double *lt, *dt, *adt, *ddt, t0;
    size_t n_allow = 0, n_deny = 0;
    volatile unsigned sink = 0;
    struct stat st;
    int run, rc = 1;

    if (load_runs < 1)
        load_runs = 1;
    if (n_dec < 1000)
        n_dec = 1000;
    if (mkdtemp(dir) == NULL) {
        perror("bench_policy: mkdtemp");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/policy.yaml", dir);
    snprintf(ddir, sizeof(ddir), "%s/policy.d", dir);
    snprintf(dpath, sizeof(dpath), "%s/grants.yaml", ddir);
    gen_users(g);
    gen_targets(g);
    gen_rules(g);
    gen_exposure(g);
    gen_grants(gg);
    if (mkdir(ddir, 0755) != 0 || write_file(path, g) != 0 || write_file(dpath, gg) != 0)
        goto out;
    stat(path, &st);

    lt = g_new(double, (size_t)load_runs);
    for (run = 0; run < load_runs; run++) {
        jg_policy_free(p);
        p = NULL;
        t0 = now_ns();
        if (jg_policy_load(path, &p, &d) != 0) {
            jg_diags_print(&d, stderr);
            fprintf(stderr, "bench_policy: the generated policy does not load\n");
            goto out;
        }
        lt[run] = (now_ns() - t0) / 1e6;
    }
    qsort(lt, (size_t)load_runs, sizeof(double), dbl_cmp);
    printf("policy: %zu users, %zu targets, %zu rules, %zu grants, %zu exposure "
           "entries; %lld + %zu bytes of YAML\n", jg_policy_n_users(p),
           jg_policy_n_targets(p), jg_policy_n_rules(p), jg_policy_n_grants(p),
           jg_policy_n_exposures(p), (long long)st.st_size, gg->len);
    printf("load runs: %d\n", load_runs);
    printf("load+validate ms: median %.2f, min %.2f, max %.2f\n",
           pct(lt, (size_t)load_runs, 0.5), lt[0], lt[load_runs - 1]);

    dt = g_new(double, n_dec);
    adt = g_new(double, n_dec);
    ddt = g_new(double, n_dec);
    for (i = 0; i < n_dec; i++) {
        char user[32], from[64], target[32];
        struct jg_request q;
        struct jg_decision dec;

        make_request(&q, user, from, target, sizeof(user));
        t0 = now_ns();
        jg_policy_decide(p, &q, &dec);
        dt[i] = now_ns() - t0;
        sink += (unsigned)dec.effect;
        if (dec.effect == JG_ALLOW)
            adt[n_allow++] = dt[i];
        else
            ddt[n_deny++] = dt[i];
    }
    qsort(dt, n_dec, sizeof(double), dbl_cmp);
    qsort(adt, n_allow, sizeof(double), dbl_cmp);
    qsort(ddt, n_deny, sizeof(double), dbl_cmp);
    printf("decisions: %zu (%zu allow, %zu deny)\n", n_dec, n_allow, n_deny);
    printf("decide ns: median %.0f, p99 %.0f, max %.0f\n", pct(dt, n_dec, 0.5),
           pct(dt, n_dec, 0.99), dt[n_dec - 1]);
    if (n_allow > 0)
        printf("decide ns (allow): median %.0f, p99 %.0f\n", pct(adt, n_allow, 0.5),
               pct(adt, n_allow, 0.99));
    if (n_deny > 0)
        printf("decide ns (deny): median %.0f, p99 %.0f\n", pct(ddt, n_deny, 0.5),
               pct(ddt, n_deny, 0.99));
    {
        struct jg_cidr *v = NULL;
        size_t n = 0;
        t0 = now_ns();
        jg_policy_exposure_sources(p, 0, WEEK_START, &v, &n);
        printf("exposure 'jump-ssh' (every user): %zu CIDRs in %.2f ms\n", n,
               (now_ns() - t0) / 1e6);
        free(v);
    }
    printf("clock_gettime overhead is inside each decide figure (one pair per call)\n");
    g_free(lt);
    g_free(dt);
    g_free(adt);
    g_free(ddt);
    rc = 0;
out:
    jg_policy_free(p);
    jg_diags_clear(&d);
    unlink(dpath);
    rmdir(ddir);
    unlink(path);
    rmdir(dir);
    g_string_free(g, TRUE);
    g_string_free(gg, TRUE);
    return rc;
}
