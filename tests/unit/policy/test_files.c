/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/policy/test_files.c - a policy spread over policy.yaml,
 * policy.d drop-ins and keys_file: references across files, errors naming
 * the right file, unreadable paths, files that are not regular (a FIFO
 * would block for good), and the policy's digest. */
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <glib.h>

#include "jgtest.h"

static char dir[64];

static void
put(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *
path_of(const char *name)
{
    static char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static int
setup(void **state)
{
    char sub[128];

    snprintf(dir, sizeof(dir), "/tmp/jg-files-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(sub, sizeof(sub), "%s/policy.d", dir);
    return mkdir(sub, 0755);
}

static int
teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static void
test_across_files(void **state)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    struct jg_request q = {.user = "alice", .from = "10.1.1.1", .target = "web-1",
                           .action = JG_ACT_SHELL, .at = T("2026-11-27T10:00:00Z")};
    struct jg_decision dec;

    put("policy.yaml", "version: 1\nusers:\n  alice:\n    keys_file: keys/alice.pub\n"
                       "    groups: [ops]\n    from: [10.0.0.0/8]\n");
    mkdir(path_of("keys"), 0755);
    put("keys/alice.pub", "# alice's laptop\n\n" KEY_ED25519 "\n" KEY_ECDSA "\n");
    put("policy.d/10-targets.yaml", "targets:\n  web-1: {kind: ssh, address: \"10.0.0.1:22\"}\n");
    put("policy.d/20-rules.yaml", "rules:\n  - {name: r, groups: [ops], targets: [web-1], allow: [shell]}\n");
    put("policy.d/.hidden.yaml", "this: is ignored\n");
    put("policy.d/notes.txt", "so is this\n");
    if (jg_policy_load(path_of("policy.yaml"), &p, &d) != 0)
        jg_diags_print(&d, stderr);
    assert_non_null(p);
    assert_int_equal(jg_policy_n_files(p), 3);
    assert_int_equal(jg_policy_user(p, "alice")->n_keys, 2);
    assert_int_equal(jg_policy_decide(p, &q, &dec), 0);
    assert_int_equal(dec.effect, JG_ALLOW);
    assert_string_equal(dec.login, "alice"); /* no logins: the user's own name */
    jg_policy_free(p);
}

static void
test_errors_name_their_file(void **state)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    char want[512];
    size_t i;
    bool dup = false, key = false, tgt = false;

    put("policy.d/30-dup.yaml", "users:\n  alice: {keys: [\"" KEY_ED25519 "\"], from: [10.0.0.0/8]}\n");
    put("keys/alice.pub", KEY_ED25519 "\nssh-ed25519 AAAAbroken\n");
    put("policy.d/40-bad.yaml", "rules:\n  - {name: r2, users: [alice], targets: [web-9], allow: [shell]}\n");
    assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d), JG_ERR_INVALID);
    assert_null(p);
    for (i = 0; i < d.n; i++) {
        snprintf(want, sizeof(want), "%s", path_of("policy.d/30-dup.yaml"));
        dup |= strcmp(d.v[i].file, want) == 0 && d.v[i].line == 2 && d.v[i].col == 3 &&
               strstr(d.v[i].msg, "defined twice") != NULL;
        snprintf(want, sizeof(want), "%s", path_of("keys/alice.pub"));
        key |= strcmp(d.v[i].file, want) == 0 && d.v[i].line == 2 &&
               strstr(d.v[i].msg, "malformed public key") != NULL;
        snprintf(want, sizeof(want), "%s", path_of("policy.d/40-bad.yaml"));
        tgt |= strcmp(d.v[i].file, want) == 0 && d.v[i].line == 2 &&
               strstr(d.v[i].msg, "web-9") != NULL;
    }
    if (!(dup && key && tgt))
        jg_diags_print(&d, stderr);
    assert_true(dup && key && tgt);
    jg_diags_clear(&d);
    unlink(path_of("policy.d/30-dup.yaml"));
    unlink(path_of("policy.d/40-bad.yaml"));
    put("keys/alice.pub", KEY_ED25519 "\n");
}

static void
test_unreadable(void **state)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    char other[128];

    assert_int_equal(jg_policy_load(path_of("nope.yaml"), &p, &d), JG_ERR_IO);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, path_of("nope.yaml"));
    jg_diags_clear(&d);
    assert_int_equal(jg_policy_load(dir, &p, &d), JG_ERR_IO);
    jg_diags_clear(&d);
    /* policy.d that is not a folder */
    snprintf(other, sizeof(other), "%s/sub", dir);
    mkdir(other, 0755);
    put("sub/policy.yaml", "version: 1\n");
    put("sub/policy.d", "not a folder\n");
    assert_int_equal(jg_policy_load(path_of("sub/policy.yaml"), &p, &d), JG_ERR_IO);
    assert_non_null(strstr(d.v[0].file, "sub/policy.d"));
    jg_diags_clear(&d);
    /* keys_file missing */
    put("sub/policy.d", "");
    unlink(path_of("sub/policy.d"));
    put("sub/policy.yaml", "version: 1\nusers:\n  bob: {keys_file: none.pub, from: [10.0.0.0/8]}\n");
    assert_int_equal(jg_policy_load(path_of("sub/policy.yaml"), &p, &d), JG_ERR_INVALID);
    assert_non_null(strstr(d.v[0].msg, "none.pub"));
    assert_int_equal(d.v[0].line, 3);
    jg_diags_clear(&d);
    /* empty main file */
    put("sub/policy.yaml", "");
    assert_int_equal(jg_policy_load(path_of("sub/policy.yaml"), &p, &d), JG_ERR_INVALID);
    jg_diags_clear(&d);
}

/* Leaves policy.d without the drop-ins of the tests above. */
static void
clear_dropins(void)
{
    unlink(path_of("policy.d/10-targets.yaml"));
    unlink(path_of("policy.d/20-rules.yaml"));
    unlink(path_of("policy.d/.hidden.yaml"));
}

/* Finds a diagnostic of file whose message holds needle. */
static bool
has_diag(const struct jg_diags *d, const char *file, const char *needle)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (strcmp(d->v[i].file, file) == 0 && strstr(d->v[i].msg, needle))
            return true;
    return false;
}

static void
test_not_regular_refused(void **state)
{
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    char *data = NULL, fifo[256], keys[256];
    size_t len;

    /* Were the FIFO opened blocking, nothing would ever return: the alarm
     * ends the test instead. */
    alarm(20);
    clear_dropins();
    put("policy.yaml", "version: 1\n");
    snprintf(fifo, sizeof(fifo), "%s", path_of("policy.d/50-fifo.yaml"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(jg_read_file(fifo, 1024, &data, &len), JG_ERR_INVALID);
    assert_null(data);
    assert_non_null(strstr(jg_read_strerror(JG_ERR_INVALID), "not a regular file"));
    assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d), JG_ERR_INVALID);
    assert_null(p);
    assert_true(has_diag(&d, fifo, "not a regular file"));
    jg_diags_clear(&d);
    /* a symlink to a FIFO is no better; one to a regular file is fine */
    unlink(fifo);
    assert_int_equal(mkfifo(path_of("fifo"), 0600), 0);
    assert_int_equal(symlink(path_of("fifo"), fifo), 0);
    assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d), JG_ERR_INVALID);
    assert_true(has_diag(&d, fifo, "not a regular file"));
    jg_diags_clear(&d);
    unlink(fifo);
    put("real.yaml", "targets:\n  db: {kind: tcp, address: \"10.0.0.9:5432\"}\n");
    assert_int_equal(symlink(path_of("real.yaml"), fifo), 0);
    assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d), 0);
    assert_non_null(jg_policy_target(p, "db"));
    jg_policy_free(p);
    unlink(fifo);
    /* keys_file and the main file itself */
    snprintf(keys, sizeof(keys), "%s", path_of("fifo"));
    put("policy.yaml", "version: 1\nusers:\n  bob: {keys_file: fifo, from: [10.0.0.0/8]}\n");
    assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d), JG_ERR_INVALID);
    assert_int_equal(d.v[0].line, 3);
    assert_non_null(strstr(d.v[0].msg, "not a regular file"));
    jg_diags_clear(&d);
    assert_int_equal(jg_policy_load(keys, &p, &d), JG_ERR_INVALID);
    assert_true(has_diag(&d, keys, "not a regular file"));
    jg_diags_clear(&d);
    /* and a device */
    assert_int_equal(jg_read_file("/dev/zero", 1024, &data, &len), JG_ERR_INVALID);
    unlink(keys);
    alarm(0);
}

static void
test_digest(void **state)
{
    static const char main_text[] = "version: 1\n";
    static const char a[] = "targets:\n  db: {kind: tcp, address: \"10.0.0.9:5432\"}\n";
    static const char b[] = "targets:\n  db2: {kind: tcp, address: \"10.0.0.8:5432\"}\n";
    struct jg_policy *p = NULL;
    struct jg_diags d = {0};
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    char first[65];

    clear_dropins();
    put("policy.yaml", main_text);
    put("policy.d/b.yaml", b);
    put("policy.d/a.yaml", a);
    assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d), 0);
    /* the main file, then the drop-ins by name */
    g_checksum_update(sum, (const guchar *)main_text, sizeof(main_text) - 1);
    g_checksum_update(sum, (const guchar *)a, sizeof(a) - 1);
    g_checksum_update(sum, (const guchar *)b, sizeof(b) - 1);
    assert_string_equal(jg_policy_digest(p), g_checksum_get_string(sum));
    snprintf(first, sizeof(first), "%s", jg_policy_digest(p));
    jg_policy_free(p);
    /* one byte more and it differs */
    put("policy.d/b.yaml", "# revoked\n");
    assert_int_equal(jg_policy_load(path_of("policy.yaml"), &p, &d), 0);
    assert_int_equal(strlen(jg_policy_digest(p)), 64);
    assert_string_not_equal(jg_policy_digest(p), first);
    jg_policy_free(p);
    unlink(path_of("policy.d/a.yaml"));
    unlink(path_of("policy.d/b.yaml"));
    g_checksum_free(sum);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_across_files),
        cmocka_unit_test(test_errors_name_their_file),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_not_regular_refused),
        cmocka_unit_test(test_digest),
    };

    return cmocka_run_group_tests_name("policy/files", tests, setup, teardown);
}
