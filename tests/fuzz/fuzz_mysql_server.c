/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_mysql_server.c - libFuzzer target for what a database
 * server answers through the MySQL-aware tunnel, read by the query
 * audit's parser (audit/mysql.c): OK, ERR and EOF packets, text and binary
 * result sets, multi-results, prepare answers, LOCAL INFILE requests,
 * lengths and sequence ids of every kind, packets split anywhere; and the
 * whole input as the server's greeting (audit/mysql_hello.c). Before
 * each of the server's records the client sends the next of a round of
 * commands (mysql_fuzz.h). */
#include "mysql_fuzz.h"

static void
client_says(struct jg_audit_mysql *p, size_t i, uint64_t t)
{
    static const struct {
        const char *b;
        size_t n;
    } cmds[] = {
        {"\x03SELECT * FROM customer", 23},
        {"\x16SELECT ? + ?", 13},
        /* EXECUTE 1: two longs, bound now */
        {"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x00\x03\x00"
         "\x05\x00\x00\x00\x06\x00\x00\x00", 24},
        {"\x1c\x01\x00\x00\x00\x0a\x00\x00\x00", 9},   /* FETCH */
        {"\x04t\x00", 3},                               /* FIELD_LIST */
        {"\x09", 1},                                    /* STATISTICS */
        {"\x1b\x00\x00", 3},                            /* SET_OPTION */
        {"\x02shop", 5},                                /* INIT_DB */
        {"\x0e", 1},                                    /* PING */
    };
    size_t k = i % (sizeof(cmds) / sizeof(cmds[0]));

    mf_packet(p, true, 0, cmds[k].b, cmds[k].n, t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_mysql_greeting g, h;
    uint8_t buf[256];
    char why[256];
    size_t n;

    /* The whole input as the server's greeting: refused with a reason,
     * or read into something that writes and reads back the same. */
    why[0] = '\0';
    if (jg_mysql_greeting_parse(data, size, &g, why, sizeof(why)) != 0) {
        mf_check(why[0] != '\0', "a greeting refused without a reason");
    } else {
        g.caps |= JG_MYSQL_CLIENT_PLUGIN_AUTH;
        n = jg_mysql_greeting_build(&g, buf, sizeof(buf));
        mf_check(n > 0 && jg_mysql_greeting_parse(buf, n, &h, why,
                                                  sizeof(why)) == 0 &&
                     strcmp(h.version, g.version) == 0 &&
                     memcmp(h.scramble, g.scramble, sizeof(g.scramble)) == 0,
                 "a greeting that does not read back");
    }
    mf_run(data, size, false, client_says);
    return 0;
}
