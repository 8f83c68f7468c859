/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/sync/test_ship_state.c - the ship state (audit.dir/ship/state):
 * lines written and read back, the last line of a file winning, a torn
 * last line ignored and cut off on open, malformed lines refused with
 * their number, and records that survive reopening. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jgtest.h"
#include "sync/sync.h"

#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SHA_B "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

static struct jg_sync_ship_entry
entry(const char *file, const char *key, uint64_t size, const char *sha)
{
    struct jg_sync_ship_entry e = {.file = (char *)file, .key = (char *)key,
                                   .size = size, .time_us = 1795737600000000,
                                   .mtime_ns = 1795737600123456789,
                                   .ctime_ns = 1795737601000000000,
                                   .ino = 4242};

    memcpy(e.sha256, sha, 65);
    snprintf(e.etag, sizeof(e.etag), "d41d8cd98f00b204e9800998ecf8427e");
    return e;
}

static void
test_line_round_trip(void **state)
{
    struct jg_sync_ship_entry e = entry("events/2026-11-26.jsonl",
                                        "jump-1/events/2026-11-26.jsonl", 812,
                                        SHA_A);
    const struct jg_sync_ship_entry *g;
    struct jg_sync_ship_state *st = NULL;
    char err[256];
    size_t len, torn = 9;
    char *line = jg_sync_ship_entry_line(&e, &len);

    (void)state;
    assert_true(len > 0 && line[len - 1] == '\n');
    assert_int_equal(jg_sync_ship_state_parse(line, len, &st, &torn, err,
                                              sizeof(err)), 0);
    assert_int_equal(torn, 0);
    g = jg_sync_ship_state_get(st, "events/2026-11-26.jsonl");
    assert_non_null(g);
    assert_string_equal(g->key, e.key);
    assert_int_equal(g->size, 812);
    assert_string_equal(g->sha256, SHA_A);
    assert_string_equal(g->etag, e.etag);
    assert_int_equal(g->time_us, e.time_us);
    assert_int_equal(g->mtime_ns, e.mtime_ns);
    assert_int_equal(g->ctime_ns, e.ctime_ns);
    assert_int_equal(g->ino, 4242);
    assert_null(jg_sync_ship_state_get(st, "events/2026-11-25.jsonl"));
    jg_sync_ship_state_free(st);
    free(line);
}

static void
test_last_line_wins_and_torn_tail_ignored(void **state)
{
    struct jg_sync_ship_entry a = entry("sessions/2026-11-27/x.cast", "k1", 10,
                                        SHA_A),
                              b = entry("sessions/2026-11-27/x.cast",
                                        "k1.changed-60303ae22b998861", 11,
                                        SHA_B);
    struct jg_sync_ship_state *st = NULL;
    size_t la, lb, torn = 0;
    char *pa = jg_sync_ship_entry_line(&a, &la);
    char *pb = jg_sync_ship_entry_line(&b, &lb);
    char *all = jg_xasprintf("%s%s%.*s", pa, pb, (int)(la / 2), pa);
    char err[256];

    (void)state;
    assert_int_equal(jg_sync_ship_state_parse(all, strlen(all), &st, &torn,
                                              err, sizeof(err)), 0);
    assert_int_equal(torn, 1);
    assert_int_equal(jg_sync_ship_state_count(st), 1);
    assert_string_equal(jg_sync_ship_state_get(st, a.file)->key, b.key);
    assert_string_equal(jg_sync_ship_state_get(st, a.file)->sha256, SHA_B);
    jg_sync_ship_state_free(st);
    free(all);
    free(pa);
    free(pb);
}

static void
test_bad_lines_refused_with_their_number(void **state)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"not json\n", "line 1: not a JSON object"},
        {"[]\n", "line 1: not a JSON object"},
        {"{\"file\":\"../etc/passwd\",\"key\":\"k\"}\n", "line 1: \"file\""},
        {"{\"file\":\"/abs\",\"key\":\"k\"}\n", "line 1: \"file\""},
        {"{\"file\":\"a/../../b\",\"key\":\"k\"}\n", "line 1: \"file\""},
        {"{\"file\":\"a\",\"key\":\"\"}\n", "line 1: \"key\""},
        {"{\"file\":\"a\",\"key\":\"k\",\"sha256\":\"ABC\"}\n",
         "line 1: \"sha256\""},
        {"{\"file\":\"a\",\"key\":\"k\",\"sha256\":\"" SHA_A "\",\"etag\":\"e\","
         "\"time\":\"yesterday\"}\n", "line 1: \"time\""},
        {"{\"file\":\"a\",\"key\":\"k\",\"sha256\":\"" SHA_A "\",\"etag\":\"e\","
         "\"time\":\"2026-11-27T00:00:00Z\",\"size\":-1,\"mtime_ns\":1,"
         "\"ctime_ns\":1,\"ino\":1}\n", "line 1: \"size\""},
        {"\n", "line 1: not a JSON object"},
    };
    struct jg_sync_ship_entry good = entry("a", "k", 1, SHA_A);
    size_t i, gl;
    char *gline = jg_sync_ship_entry_line(&good, &gl);

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* after one good line, so the number counts */
        char *text = jg_xasprintf("%s%s", gline, cases[i].text);
        struct jg_sync_ship_state *st = (struct jg_sync_ship_state *)1;
        char err[256] = "", want[128];

        snprintf(want, sizeof(want), "line 2%s", cases[i].want + 6);
        if (jg_sync_ship_state_parse(text, strlen(text), &st, NULL, err,
                                     sizeof(err)) != JG_ERR_INVALID ||
            st != NULL || strncmp(err, want, strlen(want)) != 0)
            fail_msg("%s:%d: case %zu: got '%s', want '%s...'", __FILE__,
                     __LINE__, i, err, want);
        free(text);
    }
    free(gline);
}

static void
test_file_records_survive_reopen_and_torn_tail_is_cut(void **state)
{
    char dir[] = "/tmp/jg-ship-state-XXXXXX", path[128], err[256];
    struct jg_sync_ship_entry a = entry("events/2026-11-20.jsonl", "ka", 5,
                                        SHA_A),
                              b = entry("events/2026-11-21.jsonl", "kb", 6,
                                        SHA_B);
    struct jg_sync_ship_state *st = NULL;
    struct stat sb;
    int fd;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(jg_sync_ship_state_open(dir, &st, err, sizeof(err)), 0);
    assert_int_equal(jg_sync_ship_state_count(st), 0);
    assert_int_equal(jg_sync_ship_state_record(st, &a), 0);
    assert_int_equal(jg_sync_ship_state_record(st, &b), 0);
    assert_non_null(jg_sync_ship_state_get(st, b.file));
    jg_sync_ship_state_free(st);
    snprintf(path, sizeof(path), "%s/ship/state", dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    /* a crash in the middle of the next append */
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"file\":\"ev", 11), 11);
    close(fd);
    assert_int_equal(jg_sync_ship_state_open(dir, &st, err, sizeof(err)), 0);
    assert_int_equal(jg_sync_ship_state_count(st), 2);
    assert_string_equal(jg_sync_ship_state_get(st, a.file)->key, "ka");
    assert_int_equal(stat(path, &sb), 0);
    jg_sync_ship_state_free(st);
    {
        char *text = NULL;
        size_t len = 0;

        assert_int_equal(jg_read_file(path, 1 << 20, &text, &len), 0);
        assert_true(len > 0 && text[len - 1] == '\n');
        assert_null(strstr(text, "{\"file\":\"ev\n"));
        free(text);
    }
    /* a record refused: not a path below audit.dir */
    assert_int_equal(jg_sync_ship_state_open(dir, &st, err, sizeof(err)), 0);
    a.file = (char *)"../outside";
    assert_int_equal(jg_sync_ship_state_record(st, &a), JG_ERR_INVALID);
    jg_sync_ship_state_free(st);
    /* a corrupt line in the middle: refused, naming the file */
    fd = open(path, O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "garbage\n", 8), 8);
    close(fd);
    assert_int_equal(jg_sync_ship_state_open(dir, &st, err, sizeof(err)),
                     JG_ERR_INVALID);
    assert_null(st);
    assert_non_null(strstr(err, "ship/state: line 3"));
    unlink(path);
    snprintf(path, sizeof(path), "%s/ship", dir);
    rmdir(path);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_round_trip),
        cmocka_unit_test(test_last_line_wins_and_torn_tail_ignored),
        cmocka_unit_test(test_bad_lines_refused_with_their_number),
        cmocka_unit_test(test_file_records_survive_reopen_and_torn_tail_is_cut),
    };

    jg_log_init("test_ship_state", false, JG_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
