/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/sync/test_ship_seals.c - a day's seal lines for S3: exactly
 * the seal lines of the day file, in order, byte for byte (an event whose
 * text mentions a seal is not one); the object key; and the record of
 * what went up (audit.dir/ship/seals), which a pass compacts to one entry
 * per day once it has grown, without uploading what did not change. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jgtest.h"
#include "audit/audit.h"
#include "sync/internal.h"

/* 2026-11-27T00:00:00Z in µs. */
#define T0 ((int64_t)1795737600 * 1000000)

struct fx {
    char dir[64];
    char *keypath, *cfgpath;
    struct jg_audit_key *key;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/jg-seals-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    chmod(f->dir, 0750);
    f->keypath = jg_xasprintf("%s/key.pem", f->dir);
    f->cfgpath = jg_xasprintf("%s/jumpgate.yaml", f->dir);
    assert_int_equal(jg_audit_keygen(f->keypath, false), 0);
    assert_int_equal(jg_audit_key_load_private(f->keypath, &f->key), 0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char *cmd = jg_xasprintf("rm -rf '%s'", f->dir);

    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    free(cmd);
    jg_audit_key_free(f->key);
    free(f->keypath);
    free(f->cfgpath);
    free(f);
    return 0;
}

/* Five events (one whose reason mentions a seal line) sealed every two,
 * and a final seal. */
static void
fill(struct fx *f)
{
    struct jg_audit_log *log = NULL;
    struct jg_audit_event ev = {.type = "auth.success", .user = "alice",
                                .reason = ",\"type\":\"seal\",\"session\":"};
    int i;

    assert_int_equal(jg_audit_log_open(f->dir, f->key, 2, &log), 0);
    for (i = 0; i < 5; i++)
        assert_int_equal(jg_audit_log_append(log, &ev, T0 + i), 0);
    assert_int_equal(jg_audit_log_seal(log, T0 + 10), 0);
    jg_audit_log_free(log);
}

static void
test_seal_lines_of_a_day(void **state)
{
    struct fx *f = *state;
    char *path = jg_xasprintf("%s/events/2026-11-27.jsonl", f->dir), *data;
    char *lines = NULL, *want = jg_xstrdup(""), *p, *nl, *k;
    size_t len, count, n = 0;
    int dfd;

    fill(f);
    assert_int_equal(jg_read_file(path, 1 << 20, &data, &len), 0);
    for (p = data; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        if (strncmp(strstr(p, "\"type\":"), "\"type\":\"seal\"", 13) == 0) {
            char *w = jg_xasprintf("%s%.*s\n", want, (int)(nl - p), p);

            free(want);
            want = w;
            n++;
        }
    }
    assert_int_equal(n, 3);
    dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    assert_int_equal(jg_sync_seal_lines(dfd, "2026-11-27", &lines, &len,
                                        &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(lines, want, len);
    free(lines);
    assert_int_equal(jg_sync_seal_lines(dfd, "2026-11-28", &lines, &len,
                                        &count), JG_ERR_NOTFOUND);
    close(dfd);
    k = jg_sync_seals_key(NULL, "2026-11-27.jsonl");
    assert_string_equal(k, "seals/2026-11-27.jsonl");
    free(k);
    k = jg_sync_seals_key("jump-1", "2026-11-27");
    assert_string_equal(k, "jump-1/seals/2026-11-27.jsonl");
    free(k);
    k = jg_sync_seals_key("jump-1/", "2026-11-27");
    assert_string_equal(k, "jump-1/seals/2026-11-27.jsonl");
    free(k);
    free(want);
    free(data);
    free(path);
}

static size_t
count_lines(const char *path)
{
    char *data;
    size_t len, i, n = 0;

    assert_int_equal(jg_read_file(path, 1 << 20, &data, &len), 0);
    for (i = 0; i < len; i++)
        n += data[i] == '\n';
    free(data);
    return n;
}

static void
test_state_compacted_without_uploading(void **state)
{
    struct fx *f = *state;
    char *state_path = jg_xasprintf("%s/ship/seals", f->dir);
    char *ship = jg_xasprintf("%s/ship", f->dir), *text, *lines, sha[65];
    char *days[] = {"2026-11-27.jsonl", NULL};
    struct jg_sync_ship_totals t = {0};
    struct jg_config *cfg = NULL;
    struct jg_diags d = {0};
    struct jg_sync *s = NULL;
    size_t len, count, i;
    FILE *out;
    int dfd;

    fill(f);
    dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    assert_int_equal(jg_sync_seal_lines(dfd, days[0], &lines, &len, &count),
                     0);
    jg_audit_sha256_hex(lines, len, sha);
    free(lines);
    /* What a day of passes leaves: many entries for the day, the last one
     * for these very seal lines but another file size. */
    assert_int_equal(mkdir(ship, 0750), 0);
    out = fopen(state_path, "w");
    assert_non_null(out);
    for (i = 0; i < 300; i++)
        fprintf(out, "2026-11-27 %zu %064zx %zu\n", i, i, i);
    fprintf(out, "2026-11-27 3 %s 1\n", sha);
    fclose(out);
    /* No store is reachable here: nothing may be uploaded. */
    text = jg_xasprintf("policy: p.yaml\naudit:\n  dir: %s\n  s3: {bucket: b, "
                        "region: eu-west-1}\n", f->dir);
    out = fopen(f->cfgpath, "w");
    assert_non_null(out);
    fputs(text, out);
    fclose(out);
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9/", 1);
    assert_int_equal(jg_config_load(f->cfgpath, &cfg, &d), 0);
    assert_int_equal(jg_sync_new(cfg, &s), 0);
    assert_int_equal(jg_sync_ship_seals(s, cfg, dfd, days, 1, NULL, NULL, &t), 0);
    assert_int_equal(t.seals, 0);
    assert_int_equal(t.failed, 0);
    /* One entry from the compaction, one for the size now. */
    assert_int_equal(count_lines(state_path), 2);
    /* Unchanged since: not even read again. */
    assert_int_equal(jg_sync_ship_seals(s, cfg, dfd, days, 1, NULL, NULL, &t), 0);
    assert_int_equal(count_lines(state_path), 2);
    unsetenv("AWS_ENDPOINT_URL_S3");
    close(dfd);
    jg_sync_free(s);
    jg_config_free(cfg);
    jg_diags_clear(&d);
    free(text);
    free(ship);
    free(state_path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seal_lines_of_a_day, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_compacted_without_uploading,
                                        setup, teardown),
    };

    return cmocka_run_group_tests_name("sync/ship_seals", tests, NULL, NULL);
}
