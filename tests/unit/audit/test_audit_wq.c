/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_audit_wq.c - a recording's writer thread runs the
 * jobs it is given in order (here: writes and syncs of a file), a queue far smaller than the data still
 * passes everything, the first failure sticks: it is returned by every
 * later call and nothing queued after it is written, and blocks count whole
 * against the bound. */
#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "jgtest.h"
#include "audit/internal.h"

static char *
dup_text(const char *s, size_t n)
{
    char *p = malloc(n);

    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* Jobs: ctx points at the fd. */
static int
write_job(void *ctx, char *buf, size_t len)
{
    return jg_audit_write_all(*(int *)ctx, buf, len);
}

static int
sync_job(void *ctx, char *buf, size_t len)
{
    (void)buf;
    (void)len;
    return fdatasync(*(int *)ctx) == 0 ? 0 : JG_ERR_IO;
}

static int
wq_write(struct jg_audit_wq *q, int *fd, char *buf, size_t len)
{
    return jg_audit_wq_run(q, write_job, fd, buf, len, false);
}

static int
wq_sync(struct jg_audit_wq *q, int *fd)
{
    return jg_audit_wq_run(q, sync_job, fd, NULL, 0, false);
}

static int
tmp_file(char *path)
{
    int fd;

    snprintf(path, 32, "/tmp/jg-wq-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    return fd;
}

static void
test_order_through_a_small_queue(void **state)
{
    struct jg_audit_wq *q;
    char path[32], line[32], *got, *p;
    size_t i, len, want_len = 0;
    int fd = tmp_file(path), dfd;

    (void)state;
    /* A 64-byte bound: the writer drains while the test still queues. */
    assert_int_equal(jg_audit_wq_start(64, &q), 0);
    for (i = 0; i < 5000; i++) {
        len = (size_t)snprintf(line, sizeof(line), "line %zu\n", i);
        want_len += len;
        assert_int_equal(wq_write(q, &fd, dup_text(line, len), len),
                         0);
        if (i % 1000 == 0)
            assert_int_equal(wq_sync(q, &fd), 0);
    }
    assert_int_equal(jg_audit_wq_finish(q), 0);
    dfd = open("/tmp", O_DIRECTORY | O_RDONLY);
    assert_int_equal(jg_audit_read_at(dfd, path + 5, 1 << 20, &got, &len), 0);
    assert_int_equal(len, want_len);
    for (i = 0, p = got; i < 5000; i++) {
        char *nl = strchr(p, '\n');

        snprintf(line, sizeof(line), "line %zu", i);
        assert_non_null(nl);
        assert_int_equal((size_t)(nl - p), strlen(line));
        assert_memory_equal(p, line, strlen(line));
        p = nl + 1;
    }
    free(got);
    close(dfd);
    close(fd);
    unlink(path);
}

static void
test_first_failure_sticks(void **state)
{
    struct jg_audit_wq *q;
    char path[32];
    int fd = tmp_file(path), ro, e, i;
    struct stat st;

    (void)state;
    ro = open(path, O_RDONLY); /* writing to it fails with EBADF */
    assert_true(ro >= 0);
    assert_int_equal(jg_audit_wq_start(1 << 20, &q), 0);
    assert_int_equal(wq_write(q, &fd, dup_text("ok\n", 3), 3), 0);
    assert_int_equal(wq_write(q, &ro, dup_text("no\n", 3), 3), 0);
    /* The failure surfaces on a later call once the thread met it. */
    for (i = 0, e = 0; i < 2000 && e == 0; i++) {
        e = wq_write(q, &fd, dup_text("after\n", 6), 6);
        if (e == 0)
            usleep(1000);
    }
    assert_int_not_equal(e, 0);
    assert_int_equal(jg_audit_wq_error(q), e);
    assert_int_equal(wq_sync(q, &fd), e);
    assert_int_equal(jg_audit_wq_finish(q), e);
    /* Only the line before the failure reached the file. */
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 3);
    close(ro);
    close(fd);
    unlink(path);
}

struct stuck {
    struct jg_audit_wq *q;
    int fd;
    atomic_bool done;
};

static void *
queue_one_more(void *arg)
{
    struct stuck *s = arg;
    char *b = jg_audit_wq_block(s->q);

    assert_non_null(b);
    memcpy(b, "C", 1);
    assert_int_equal(jg_audit_wq_run(s->q, write_job, &s->fd, b, 1, true),
                     0);
    atomic_store(&s->done, true);
    return NULL;
}

/* Blocks count whole against the bound, however little of them is used:
 * with the writer stuck, a bound of two blocks holds the third back, so
 * many small bursts cannot pile up blocks while the disk hangs. */
static void
test_blocks_count_whole_against_the_bound(void **state)
{
    struct stuck s = {0};
    pthread_t t;
    char fill[4096], got[16];
    int pp[2], i;
    ssize_t n;
    size_t total = 0;

    (void)state;
    assert_int_equal(pipe(pp), 0);
    /* A full pipe: the writer thread stops in its first write(2). */
    assert_int_equal(fcntl(pp[1], F_SETFL, O_NONBLOCK), 0);
    memset(fill, '.', sizeof(fill));
    while ((n = write(pp[1], fill, sizeof(fill))) > 0)
        total += (size_t)n;
    assert_int_equal(fcntl(pp[1], F_SETFL, 0), 0);
    assert_int_equal(jg_audit_wq_start(2 * JG_AUDIT_WQ_BLOCK, &s.q), 0);
    s.fd = pp[1];
    for (i = 0; i < 2; i++) {
        char *b = jg_audit_wq_block(s.q);

        assert_non_null(b);
        b[0] = (char)('A' + i);
        assert_int_equal(jg_audit_wq_run(s.q, write_job, &s.fd, b, 1, true),
                         0);
    }
    atomic_init(&s.done, false);
    assert_int_equal(pthread_create(&t, NULL, queue_one_more, &s), 0);
    usleep(200 * 1000);
    assert_false(atomic_load(&s.done));
    /* Emptying the pipe lets everything through, in order. */
    while (total > 0) {
        n = read(pp[0], fill, total < sizeof(fill) ? total : sizeof(fill));
        assert_true(n > 0);
        total -= (size_t)n;
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(atomic_load(&s.done));
    assert_int_equal(jg_audit_wq_finish(s.q), 0);
    close(pp[1]);
    assert_int_equal(read(pp[0], got, sizeof(got)), 3);
    assert_memory_equal(got, "ABC", 3);
    close(pp[0]);
}

static void
test_finish_of_nothing(void **state)
{
    struct jg_audit_wq *q;

    (void)state;
    assert_int_equal(jg_audit_wq_finish(NULL), 0);
    assert_int_equal(jg_audit_wq_start(16, &q), 0);
    assert_int_equal(jg_audit_wq_finish(q), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_through_a_small_queue),
        cmocka_unit_test(test_first_failure_sticks),
        cmocka_unit_test(test_blocks_count_whole_against_the_bound),
        cmocka_unit_test(test_finish_of_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
