/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_mysql_client.c - libFuzzer target for what a client
 * sends through the MySQL-aware tunnel, read by the query audit's parser
 * (audit/mysql.c, audit/mysql_params.c): statements, prepared statements
 * with bound parameters, long data, unknown and refused commands, lengths
 * and sequence ids of every kind, packets split anywhere; and the whole
 * input as the client's login (audit/mysql_hello.c). Statement 1 is
 * prepared with three parameters first; between the client's records the
 * server answers OK (mysql_fuzz.h). */
#include "mysql_fuzz.h"

static void
server_says(struct jg_audit_mysql *p, size_t i, uint64_t t)
{
    static const uint8_t ok[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
    static const uint8_t prep[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x03, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t def[] = {0x03, 'd', 'e', 'f', 0x00, 0x00, 0x00,
                                  0x01, '?', 0x00, 0x0c, 0x3f, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00,
                                  0x00, 0x00};
    static const uint8_t eof[] = {0xfe, 0x00, 0x00, 0x02, 0x00};

    if (i == 0) {
        static const char sql[] = "\x16SELECT ?, ?, ?";

        mf_packet(p, true, 0, sql, sizeof(sql) - 1, t);
        mf_packet(p, false, 1, prep, sizeof(prep), t);
        for (uint8_t k = 0; k < 3; k++)
            mf_packet(p, false, (uint8_t)(2 + k), def, sizeof(def), t);
        mf_packet(p, false, 5, eof, sizeof(eof), t);
        return;
    }
    mf_packet(p, false, 1, ok, sizeof(ok), t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_mysql_login l, m;
    uint8_t buf[1024];
    char why[256];
    size_t n;

    /* The whole input as the client's login: refused with a reason, or
     * read into something that writes and reads back the same. */
    why[0] = '\0';
    if (jg_mysql_login_parse(data, size, &l, why, sizeof(why)) != 0) {
        mf_check(why[0] != '\0', "a login refused without a reason");
    } else if (!l.ssl_request) {
        l.caps &= ~JG_MYSQL_CLIENT_CONNECT_ATTRS;
        n = jg_mysql_login_build(&l, buf, sizeof(buf));
        mf_check(n > 0 && jg_mysql_login_parse(buf, n, &m, why,
                                               sizeof(why)) == 0 &&
                     strcmp(m.user, l.user) == 0 &&
                     m.auth_len == l.auth_len &&
                     memcmp(m.auth, l.auth, l.auth_len) == 0,
                 "a login that does not read back");
    }
    mf_run(data, size, true, server_says);
    return 0;
}
