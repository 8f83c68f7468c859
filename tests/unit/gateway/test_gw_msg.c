/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/gateway/test_gw_msg.c - the worker/monitor messages: what
 * jg_gw_msg_send_bytes() sends (the recorded bytes passed beside the
 * message, not copied into it) arrives exactly as the same message built
 * with jg_gw_msg_put_bytes(), and a payload that would not fit a message
 * is refused rather than cut. The source is compiled in here (jumpgated is
 * not a library). */
#include <sys/socket.h>

#include "jgtest.h"

#include "gateway/proto/msg.c"

static void
pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

static void
test_send_bytes_matches_put_bytes(void **state)
{
    static const size_t sizes[] = {0, 1, 7, 4096, JG_GW_MSG_MAX - 64};
    struct jg_gw_msg *a = jg_xmalloc(sizeof(*a)), *b = jg_xmalloc(sizeof(*b));
    uint8_t *data = jg_xmalloc(JG_GW_MSG_MAX);
    const uint8_t *p;
    size_t i, k, n;
    uint32_t chan;
    uint8_t kind;
    int sv[2];

    (void)state;
    for (k = 0; k < JG_GW_MSG_MAX; k++)
        data[k] = (uint8_t)(k * 31 + 7);
    pair(sv);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        /* The copy the old way... */
        jg_gw_msg_init(a, 42);
        jg_gw_msg_put_u32(a, 7);
        jg_gw_msg_put_u8(a, 'o');
        jg_gw_msg_put_bytes(a, data, sizes[i]);
        assert_false(a->bad);
        assert_int_equal(jg_gw_msg_send(sv[0], a, -1), 0);
        assert_int_equal(jg_gw_msg_recv(sv[1], b, 1000), 0);
        assert_int_equal(b->type, 42);
        assert_int_equal(b->len, a->len);
        assert_memory_equal(b->data, a->data, a->len);
        /* ...and beside the message: the same bytes arrive. */
        jg_gw_msg_init(a, 42);
        jg_gw_msg_put_u32(a, 7);
        jg_gw_msg_put_u8(a, 'o');
        assert_int_equal(jg_gw_msg_send_bytes(sv[0], a, data, sizes[i]), 0);
        assert_int_equal(jg_gw_msg_recv(sv[1], b, 1000), 0);
        assert_int_equal(b->type, 42);
        assert_int_equal(b->len, 4 + 1 + 4 + sizes[i]);
        assert_int_equal(jg_gw_msg_get_u32(b, &chan), 0);
        assert_int_equal(jg_gw_msg_get_u8(b, &kind), 0);
        assert_int_equal(jg_gw_msg_get_bytes(b, &p, &n), 0);
        assert_int_equal(chan, 7);
        assert_int_equal(kind, 'o');
        assert_int_equal(n, sizes[i]);
        if (n > 0)
            assert_memory_equal(p, data, n);
        assert_int_equal(b->pos, b->len);
    }
    close(sv[0]);
    close(sv[1]);
    free(data);
    free(a);
    free(b);
}

static void
test_send_bytes_refuses_what_does_not_fit(void **state)
{
    struct jg_gw_msg *a = jg_xmalloc(sizeof(*a)), *b = jg_xmalloc(sizeof(*b));
    uint8_t *data = jg_xcalloc(1, JG_GW_MSG_MAX);
    int sv[2];

    (void)state;
    pair(sv);
    jg_gw_msg_init(a, 42);
    jg_gw_msg_put_u32(a, 7);
    /* Header 4 + length 4: one byte more than a message holds. */
    assert_int_equal(jg_gw_msg_send_bytes(sv[0], a, data, JG_GW_MSG_MAX - 7),
                     JG_ERR_INTERNAL);
    assert_int_equal(jg_gw_msg_send_bytes(sv[0], a, data, SIZE_MAX),
                     JG_ERR_INTERNAL);
    /* Exactly full still goes, and arrives whole. */
    assert_int_equal(jg_gw_msg_send_bytes(sv[0], a, data, JG_GW_MSG_MAX - 8),
                     0);
    assert_int_equal(jg_gw_msg_recv(sv[1], b, 1000), 0);
    assert_int_equal(b->len, JG_GW_MSG_MAX);
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
        cmocka_unit_test(test_send_bytes_matches_put_bytes),
        cmocka_unit_test(test_send_bytes_refuses_what_does_not_fit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
