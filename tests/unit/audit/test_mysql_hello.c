/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_mysql_hello.c - the MySQL connection-phase
 * packets: a greeting and a login written and read back, MariaDB's real
 * greeting bytes read, an SSLRequest told from a login, ERR and OK
 * written, and every truncation of a greeting and a login refused with a
 * reason, never read past. */
#include "jgtest.h"
#include "audit/audit.h"

#define CAPS (JG_MYSQL_CLIENT_PROTOCOL_41 | JG_MYSQL_CLIENT_SECURE_CONNECTION | \
              JG_MYSQL_CLIENT_PLUGIN_AUTH | JG_MYSQL_CLIENT_CONNECT_WITH_DB)

static void
test_greeting_round_trip(void **state)
{
    struct jg_mysql_greeting g = {0}, h;
    uint8_t buf[256];
    char why[128];
    size_t n;

    (void)state;
    snprintf(g.version, sizeof(g.version), "%s", "5.5.5-10.11.6-MariaDB");
    g.conn_id = 77;
    for (size_t i = 0; i < JG_MYSQL_SCRAMBLE_LEN; i++)
        g.scramble[i] = (uint8_t)(0x21 + i);
    g.caps = CAPS | JG_MYSQL_CLIENT_DEPRECATE_EOF;
    g.charset = 45;
    g.status = 2;
    snprintf(g.plugin, sizeof(g.plugin), "%s", "mysql_native_password");
    n = jg_mysql_greeting_build(&g, buf, sizeof(buf));
    assert_true(n > 40);
    assert_int_equal(jg_mysql_greeting_parse(buf, n, &h, why, sizeof(why)), 0);
    assert_string_equal(h.version, g.version);
    assert_int_equal(h.conn_id, 77);
    assert_memory_equal(h.scramble, g.scramble, JG_MYSQL_SCRAMBLE_LEN);
    assert_int_equal(h.caps, g.caps);
    assert_int_equal(h.charset, 45);
    assert_string_equal(h.plugin, "mysql_native_password");
    /* Every cut is refused with a reason. */
    for (size_t k = 0; k + 1 < n - 22; k++) {
        why[0] = '\0';
        assert_int_equal(jg_mysql_greeting_parse(buf, k, &h, why, sizeof(why)),
                         JG_ERR_INVALID);
        assert_true(why[0] != '\0');
    }
    assert_int_equal(jg_mysql_greeting_build(&g, buf, 30), 0);
    /* An ERR instead of a greeting says the server's words. */
    n = jg_mysql_err_build(1040, "08004", "Too many connections", buf,
                           sizeof(buf));
    assert_int_equal(jg_mysql_greeting_parse(buf, n, &h, why, sizeof(why)),
                     JG_ERR_INVALID);
    assert_non_null(strstr(why, "Too many connections"));
    buf[0] = 9;
    assert_int_equal(jg_mysql_greeting_parse(buf, n, &h, why, sizeof(why)),
                     JG_ERR_INVALID);
    assert_non_null(strstr(why, "protocol version 9"));
}

static void
test_login_round_trip(void **state)
{
    struct jg_mysql_login l = {0}, m;
    uint8_t buf[1024];
    char why[128];
    size_t n;

    (void)state;
    l.caps = CAPS | JG_MYSQL_CLIENT_PLUGIN_AUTH_LENENC;
    l.max_packet = 1u << 24;
    l.charset = 33;
    snprintf(l.user, sizeof(l.user), "%s", "app_ro");
    l.auth_len = 20;
    memset(l.auth, 0xab, 20);
    snprintf(l.schema, sizeof(l.schema), "%s", "shop");
    snprintf(l.plugin, sizeof(l.plugin), "%s", "mysql_native_password");
    n = jg_mysql_login_build(&l, buf, sizeof(buf));
    assert_true(n > 32);
    assert_int_equal(jg_mysql_login_parse(buf, n, &m, why, sizeof(why)), 0);
    assert_false(m.ssl_request);
    assert_string_equal(m.user, "app_ro");
    assert_string_equal(m.schema, "shop");
    assert_string_equal(m.plugin, "mysql_native_password");
    assert_int_equal(m.auth_len, 20);
    assert_memory_equal(m.auth, l.auth, 20);
    /* Cut anywhere before the end of the auth response: refused (the
     * schema and plugin that follow may be left out, as old clients do). */
    for (size_t k = 0; k < 32 + strlen(l.user) + 1 + 1 + l.auth_len; k++)
        assert_int_equal(jg_mysql_login_parse(buf, k, &m, why, sizeof(why)),
                         JG_ERR_INVALID);
    /* Cut inside the plugin name: no NUL ends it. */
    assert_int_equal(jg_mysql_login_parse(buf, n - 24, &m, why, sizeof(why)),
                     JG_ERR_INVALID);
    /* An SSLRequest. */
    l.caps |= JG_MYSQL_CLIENT_SSL;
    l.ssl_request = true;
    n = jg_mysql_login_build(&l, buf, sizeof(buf));
    assert_int_equal(n, 32);
    assert_int_equal(jg_mysql_login_parse(buf, n, &m, why, sizeof(why)), 0);
    assert_true(m.ssl_request);
    /* A user name of 256 bytes does not fit and is refused. */
    l.ssl_request = false;
    memset(l.user, 'u', sizeof(l.user) - 1);
    l.user[sizeof(l.user) - 1] = '\0';
    n = jg_mysql_login_build(&l, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(jg_mysql_login_parse(buf, n, &m, why, sizeof(why)), 0);
    buf[32 + 255] = 'u';    /* one more byte before its NUL */
    memmove(buf + 32 + 256, buf + 32 + 255, n - 32 - 255);
    assert_int_equal(jg_mysql_login_parse(buf, n + 1, &m, why, sizeof(why)),
                     JG_ERR_INVALID);
}

static void
test_ok_and_frame(void **state)
{
    uint8_t buf[64];
    size_t n;

    (void)state;
    n = jg_mysql_ok_build(2, buf, sizeof(buf));
    assert_int_equal(n, 7);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[3], 2);
    jg_mysql_frame(5, buf, n, buf);
    assert_int_equal(buf[0], 7);
    assert_int_equal(buf[3], 5);
    assert_int_equal(buf[4], 0);
    n = jg_mysql_err_build(1045, "28000", "Access denied", buf, 20);
    assert_int_equal(n, 20);
    assert_memory_equal(buf + 3, "#28000Access", 12);
}

static void
test_err_text(void **state)
{
    static const uint8_t early[] = {0xff, 0x6a, 0x04, 'H', 'o', 's', 't',
                                    0x01, 'n', 'o'};
    uint8_t buf[64];
    char msg[16];
    size_t n;

    (void)state;
    n = jg_mysql_err_build(1045, "28000", "Access denied", buf, sizeof(buf));
    assert_int_equal(jg_mysql_err_text(buf, n, msg, sizeof(msg)), 1045);
    assert_string_equal(msg, "Access denied");
    /* Before the handshake there is no SQL state; odd bytes become '?'. */
    assert_int_equal(jg_mysql_err_text(early, sizeof(early), msg,
                                       sizeof(msg)), 1130);
    assert_string_equal(msg, "Host?no");
    /* Cut to fit, and nothing from a packet too short to have a code. */
    n = jg_mysql_err_build(1040, "08004", "Too many connections", buf,
                           sizeof(buf));
    assert_int_equal(jg_mysql_err_text(buf, n, msg, 8), 1040);
    assert_string_equal(msg, "Too man");
    assert_int_equal(jg_mysql_err_text(buf, 2, msg, sizeof(msg)), 0);
    assert_string_equal(msg, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_round_trip),
        cmocka_unit_test(test_login_round_trip),
        cmocka_unit_test(test_ok_and_frame),
        cmocka_unit_test(test_err_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
