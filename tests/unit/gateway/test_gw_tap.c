/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/gateway/test_gw_tap.c - the tap ring between the worker and
 * the monitor (gateway/proto/tap.c): bytes written by a producer in
 * another process arrive whole and in order, through wrap-arounds and a
 * full ring; a sleeping reader is nudged; a writer whose reader is gone
 * gives up; and the reader refuses every way a hostile writer can break
 * the ring's rules. Also the messages beside it (msg.c): a payload that
 * does not fit is refused rather than cut. The sources are compiled in
 * here (jumpgated is not a library). */
#include <sys/socket.h>
#include <sys/wait.h>

#include <poll.h>
#include <unistd.h>

#include "jgtest.h"

#include "gateway/proto/msg.c"
#include "gateway/proto/tap.c"

/* The bytes of the n-th record of the stream test. */
static uint8_t
byte_at(size_t rec, size_t i)
{
    return (uint8_t)(rec * 131 + i * 7 + (i >> 9));
}

/* Record sizes: small, odd, exactly the most, and beyond it (split in
 * two records). */
static size_t
size_of(size_t rec)
{
    static const size_t sizes[] = {1, 15, 16, 17, 4095, 70001,
                                   JG_GW_TAP_REC_MAX, JG_GW_TAP_REC_MAX + 3,
                                   0, 300000};
    return sizes[rec % (sizeof(sizes) / sizeof(sizes[0]))];
}

#define RECS 200

static void
produce(struct jg_gw_tap *t, int sock)
{
    uint8_t *buf = malloc(2 * JG_GW_TAP_REC_MAX + 300000);
    size_t r, i, n;

    for (r = 0; r < RECS; r++) {
        n = size_of(r);
        for (i = 0; i < n; i++)
            buf[i] = byte_at(r, i);
        if (jg_gw_tap_put(t, sock, (uint32_t)r, r % 3 == 0 ? 'e' : 'o', buf,
                          n) != 0)
            _exit(2);
    }
    /* As the worker does before it waits for more to relay. */
    if (jg_gw_tap_flush(t, sock) != 0)
        _exit(2);
    free(buf);
    _exit(0);
}

/* Twice the ring at once: the second half waits for a reader. Exits 7
 * when a put that had to wait failed, as it must once the reader is
 * gone. */
static void
flood(struct jg_gw_tap *t, int sock)
{
    uint8_t *buf = jg_xcalloc(1, JG_GW_TAP_REC_MAX);
    size_t i;

    for (i = 0; i < 2 * JG_GW_TAP_SIZE / JG_GW_TAP_REC_MAX; i++)
        if (jg_gw_tap_put(t, sock, 1, 'o', buf, JG_GW_TAP_REC_MAX) != 0)
            _exit(i >= JG_GW_TAP_SIZE / JG_GW_TAP_REC_MAX - 1 ? 7 : 3);
    _exit(0);
}

/* A new ring, with a writer process running fn on it; *sock is the
 * reader's end of the socket pair (the writer has the other). */
static struct jg_gw_tap *
start_writer(void (*fn)(struct jg_gw_tap *, int), int *sock, pid_t *pid)
{
    struct jg_gw_tap *t = jg_gw_tap_new();
    int sv[2];

    if (t == NULL)
        abort(); /* no ring */
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    *pid = fork();
    assert_true(*pid >= 0);
    if (*pid == 0) {
        close(sv[0]);
        fn(t, sv[1]);
    }
    close(sv[1]);
    *sock = sv[0];
    return t;
}

static void
test_stream_arrives_whole(void **state)
{
    struct jg_gw_msg *m = jg_xmalloc(sizeof(*m));
    struct jg_gw_tap_rec rec;
    uint64_t pos = 0, head, total = 0;
    size_t r = 0, got = 0, k, i, want;
    int sock, st, e;
    pid_t pid;
    struct jg_gw_tap *t = start_writer(produce, &sock, &pid);

    (void)state;
    /* Read slowly at first, so that the writer fills the ring and waits. */
    while (r < RECS) {
        head = jg_gw_tap_head(t);
        e = jg_gw_tap_next(t, &pos, head, &rec);
        if (e == JG_ERR_NOTFOUND) {
            if (jg_gw_tap_may_sleep(t, pos)) {
                /* Nothing until the writer nudges. */
                assert_int_equal(jg_gw_msg_recv(sock, m, 10000), 0);
                assert_int_equal(m->type, JG_GW_REQ_REC_TAP);
            }
            continue;
        }
        assert_int_equal(e, 0);
        want = size_of(r);
        /* A record beyond the most comes as several, each at most that. */
        k = want - got > JG_GW_TAP_REC_MAX ? JG_GW_TAP_REC_MAX : want - got;
        assert_int_equal(rec.len, k);
        assert_int_equal(rec.chan, (uint32_t)r);
        assert_int_equal(rec.kind, r % 3 == 0 ? 'e' : 'o');
        assert_int_equal(rec.n[0] + rec.n[1], rec.len);
        for (i = 0; i < rec.len; i++) {
            uint8_t b = i < rec.n[0] ? rec.p[0][i] : rec.p[1][i - rec.n[0]];
            if (b != byte_at(r, got + i))
                fail_msg("record %zu byte %zu differs", r, got + i);
        }
        got += rec.len;
        total += rec.len;
        if (got == want || want == 0) {
            r++;
            got = 0;
        } else {
            /* The rest of a split record: what is left of it. */
            assert_true(got < want);
        }
        jg_gw_tap_release(t, pos);
        if (total < 4 * JG_GW_TAP_SIZE && r % 16 == 0)
            usleep(2000);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    /* Far more than a ring went through, so it wrapped many times. */
    assert_true(total > 8 * (uint64_t)JG_GW_TAP_SIZE);
    assert_int_equal(jg_gw_tap_next(t, &pos, jg_gw_tap_head(t), &rec),
                     JG_ERR_NOTFOUND);
    close(sock);
    free(m);
    jg_gw_tap_free(t);
}

static void
test_writer_gives_up_when_reader_is_gone(void **state)
{
    int sock, st;
    pid_t pid;
    struct jg_gw_tap *t = start_writer(flood, &sock, &pid);

    (void)state;
    /* Once the ring is full, the reader goes away. */
    while (jg_gw_tap_head(t) < JG_GW_TAP_SIZE - 2 * JG_GW_TAP_REC_MAX)
        usleep(1000);
    close(sock);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 7);
    jg_gw_tap_free(t);
}

/* Writes a record head at byte position pos of the ring. */
static void
put_head(struct jg_gw_tap *t, uint64_t pos, uint32_t len, uint32_t chan,
         uint8_t kind)
{
    uint8_t *h = t->data + pos % JG_GW_TAP_SIZE;

    memset(h, 0, JG_GW_TAP_HEAD);
    memcpy(h, &len, 4);
    memcpy(h + 4, &chan, 4);
    h[8] = kind;
}

static void
test_reader_refuses_a_broken_ring(void **state)
{
    struct jg_gw_tap *t = jg_gw_tap_new();
    struct jg_gw_tap_rec rec;
    uint64_t pos;

    (void)state;
    if (t == NULL)
        abort(); /* no ring */
    /* A good one first: 5 bytes of output. */
    put_head(t, 0, 5, 9, 'o');
    pos = 0;
    assert_int_equal(jg_gw_tap_next(t, &pos, 32, &rec), 0);
    assert_int_equal(pos, 32);
    assert_int_equal(rec.len, 5);
    assert_int_equal(rec.chan, 9);
    /* head behind the reader, or more than a ring ahead */
    pos = 64;
    assert_int_equal(jg_gw_tap_next(t, &pos, 32, &rec), JG_ERR_INVALID);
    pos = 0;
    assert_int_equal(jg_gw_tap_next(t, &pos, JG_GW_TAP_SIZE + 16, &rec),
                     JG_ERR_INVALID);
    /* less than a head written */
    assert_int_equal(jg_gw_tap_next(t, &pos, 8, &rec), JG_ERR_INVALID);
    /* a length beyond what was written, or beyond the most */
    put_head(t, 0, 17, 9, 'o');
    assert_int_equal(jg_gw_tap_next(t, &pos, 32, &rec), JG_ERR_INVALID);
    put_head(t, 0, JG_GW_TAP_REC_MAX + 1, 9, 'o');
    assert_int_equal(jg_gw_tap_next(t, &pos, JG_GW_TAP_SIZE, &rec),
                     JG_ERR_INVALID);
    put_head(t, 0, UINT32_MAX, 9, 'o');
    assert_int_equal(jg_gw_tap_next(t, &pos, JG_GW_TAP_SIZE, &rec),
                     JG_ERR_INVALID);
    /* unknown kinds; a window size that is not two numbers */
    put_head(t, 0, 4, 9, 'x');
    assert_int_equal(jg_gw_tap_next(t, &pos, 32, &rec), JG_ERR_INVALID);
    put_head(t, 0, 4, 9, 'r');
    assert_int_equal(jg_gw_tap_next(t, &pos, 32, &rec), JG_ERR_INVALID);
    put_head(t, 0, 8, 9, 'r');
    assert_int_equal(jg_gw_tap_next(t, &pos, 32, &rec), 0);
    /* a position that is not on a record boundary */
    pos = 8;
    assert_int_equal(jg_gw_tap_next(t, &pos, 64, &rec), JG_ERR_INVALID);
    /* nothing is refused silently: each failure left pos alone */
    assert_int_equal(pos, 8);
    /* a payload across the end of the ring comes in two pieces */
    pos = JG_GW_TAP_SIZE - 32;
    put_head(t, pos, 40, 3, 'i');
    assert_int_equal(jg_gw_tap_next(t, &pos, pos + 16 + 48, &rec), 0);
    assert_int_equal(rec.n[0], 16);
    assert_int_equal(rec.n[1], 24);
    assert_ptr_equal(rec.p[1], t->data);
    jg_gw_tap_free(t);
}

static void
test_message_that_does_not_fit_is_refused(void **state)
{
    struct jg_gw_msg *a = jg_xmalloc(sizeof(*a)), *b = jg_xmalloc(sizeof(*b));
    uint8_t *data = jg_xcalloc(1, JG_GW_MSG_MAX);
    const uint8_t *p = NULL;
    size_t n = 0;
    int sv[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    /* Header 4 + length 4: one byte more than a message holds. */
    jg_gw_msg_init(a, 42);
    jg_gw_msg_put_u32(a, 7);
    jg_gw_msg_put_bytes(a, data, JG_GW_MSG_MAX - 7);
    assert_true(a->bad);
    assert_int_equal(jg_gw_msg_send(sv[0], a, -1), JG_ERR_INTERNAL);
    /* Exactly full still goes, and arrives whole. */
    jg_gw_msg_init(a, 42);
    jg_gw_msg_put_u32(a, 7);
    data[0] = 0x5a;
    jg_gw_msg_put_bytes(a, data, JG_GW_MSG_MAX - 8);
    assert_false(a->bad);
    assert_int_equal(jg_gw_msg_send(sv[0], a, -1), 0);
    assert_int_equal(jg_gw_msg_recv(sv[1], b, 1000), 0);
    assert_int_equal(b->len, JG_GW_MSG_MAX);
    b->pos = 4;
    assert_int_equal(jg_gw_msg_get_bytes(b, &p, &n), 0);
    assert_int_equal(n, JG_GW_MSG_MAX - 8);
    assert_int_equal(p[0], 0x5a);
    /* Nothing else was sent. */
    assert_int_equal(jg_gw_msg_recv(sv[1], b, 0), JG_ERR_NOTFOUND);
    close(sv[0]);
    close(sv[1]);
    free(data);
    free(a);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_arrives_whole),
        cmocka_unit_test(test_writer_gives_up_when_reader_is_gone),
        cmocka_unit_test(test_reader_refuses_a_broken_ring),
        cmocka_unit_test(test_message_that_does_not_fit_is_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
