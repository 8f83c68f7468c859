/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_audit_jsonstr.c - the recorder's JSON string
 * encoder writes exactly what jansson's compact dump writes, and what it
 * writes parses back to the input; the eight-bytes-at-a-time scans find
 * a byte that needs care wherever it sits in a word; an event line's
 * dump writes durations as people do. */
#include <jansson.h>

#include "jgtest.h"
#include "audit/internal.h"

/* Encodes s both ways and compares; then parses ours back. */
static void
check_same(const char *s, size_t n)
{
    json_t *js = json_stringn(s, n), *back;
    char *want, *got = malloc(6 * n + 2);
    size_t len;
    json_error_t err;

    assert_non_null(js);
    want = json_dumps(js, JSON_ENCODE_ANY | JSON_COMPACT);
    assert_non_null(want);
    len = jg_audit_json_quote(s, n, got);
    if (len != strlen(want) || memcmp(got, want, len) != 0)
        fail_msg("encoded %zu bytes as %.*s, jansson wrote %s", n, (int)len,
                 got, want);
    back = json_loadb(got, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    assert_non_null(back);
    assert_int_equal(json_string_length(back), n);
    assert_memory_equal(json_string_value(back), s, n);
    json_decref(back);
    json_decref(js);
    free(want);
    free(got);
}

static void
test_every_ascii_byte(void **state)
{
    char all[128];
    int c;

    for (c = 0; c < 128; c++) {
        char one = (char)c;
        check_same(&one, 1);
        all[c] = (char)c;
    }
    check_same(all, sizeof(all));
}

static void
test_utf8_and_edges(void **state)
{
#define CASE(lit) {lit, sizeof(lit) - 1}
    static const struct {
        const char *s;
        size_t n;
    } cases[] = {
        CASE(""),
        CASE("plain text\r\n"),
        CASE("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
        CASE("\xe2\x80\xa8 \xe2\x80\xa9 \x7f"), /* U+2028, U+2029, DEL */
        CASE("\"quoted\" \\back\\ /slash/"),
        CASE("\x1b[1;31mred\x1b[0m"),
        CASE("\0\0\0\0"),
    };
#undef CASE
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_same(cases[i].s, cases[i].n);
}

/* Pseudo-random valid UTF-8 mixing control bytes and multibyte sequences;
 * the longest output (6 bytes per NUL) fits the documented bound. */
static void
test_random_mixes(void **state)
{
    static const char *const pieces[] = {"\0", "\n", "\x1f", "a", "\"",
        "\\", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\t"};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    char buf[4096];
    int round;

    for (round = 0; round < 200; round++) {
        size_t n = 0;

        while (n + 4 < sizeof(buf)) {
            const char *p;
            size_t l;

            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            p = pieces[(x * 0x2545f4914f6cdd1dull >> 33) % 10];
            l = p[0] == '\0' ? 1 : strlen(p);
            if ((x & 255) == 0)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        check_same(buf, n);
    }
}

/* Each byte that needs an escape, and each non-ASCII character, at every
 * position of plain runs longer than two words. */
static void
test_specials_at_every_offset(void **state)
{
    static const char *const odd[] = {"\0", "\x1f", "\"", "\\", "\n",
        "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    char buf[64];
    size_t k, len, pos, n;

    (void)state;
    for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
        n = odd[k][0] == '\0' ? 1 : strlen(odd[k]);
        for (len = 1; len <= 40; len++)
            for (pos = 0; pos <= len; pos++) {
                memset(buf, 'x', len);
                memmove(buf + pos + n, buf + pos, len - pos);
                memcpy(buf + pos, odd[k], n);
                check_same(buf, len + n);
            }
    }
}

/* ASCII runs of every length around invalid and multibyte sequences decode
 * to the pieces' own decodings, fed whole or one byte at a time. */
static void
test_utf8_runs(void **state)
{
    static const struct {
        const char *in, *out;
        uint64_t replaced;
    } odd[] = {
        {"\xff", "\xef\xbf\xbd", 1},
        {"\x80", "\xef\xbf\xbd", 1},
        {"\xc3", "\xef\xbf\xbd", 1}, /* a lead byte followed by ASCII */
        {"\xc3\xa9", "\xc3\xa9", 0},
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", 0},
    };
    char in[128], want[128];
    size_t k, len, pos;

    (void)state;
    for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++)
        for (len = 1; len <= 33; len++)
            for (pos = 0; pos < len; pos++) {
                struct jg_audit_utf8 whole = {{0}, 0, 0}, bytes = {{0}, 0, 0};
                size_t ni = strlen(odd[k].in), no = strlen(odd[k].out);
                size_t n, i, total = 0;
                char *out, acc[128];

                memset(in, 'a', len);
                memcpy(in + pos, odd[k].in, ni);
                memset(in + pos + ni, 'b', len - pos);
                memset(want, 'a', pos);
                memcpy(want + pos, odd[k].out, no);
                memset(want + pos + no, 'b', len - pos);
                jg_audit_utf8_feed(&whole, (const uint8_t *)in, len + ni,
                                   true, &out, &n);
                assert_int_equal(n, len + no);
                assert_memory_equal(out, want, n);
                assert_int_equal(whole.replaced, odd[k].replaced);
                free(out);
                for (i = 0; i <= len + ni; i++) {
                    jg_audit_utf8_feed(&bytes, (const uint8_t *)in + i,
                                       i < len + ni ? 1 : 0, i == len + ni,
                                       &out, &n);
                    memcpy(acc + total, out, n);
                    total += n;
                    free(out);
                }
                assert_int_equal(total, len + no);
                assert_memory_equal(acc, want, total);
                assert_int_equal(jg_audit_ascii_run((const uint8_t *)in,
                                                    len + ni),
                                 (size_t)pos);
            }
}

/* An event line: compact, in order, one newline; a duration in ms as
 * people write it, and still the same number read back. */
static void
test_dump_line(void **state)
{
    static const double ms[] = {0.288, 1234.5, 3600000.125, 0.001};
    static const char *const want[] = {"0.288", "1234.5", "3600000.125",
                                       "0.001"};

    (void)state;
    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
        json_t *o = json_pack("{s:s,s:f}", "type", "db.query", "duration_ms",
                              ms[i]), *back;
        char line[96];
        size_t len;
        char *got;

        assert_non_null(o);
        got = jg_audit_dump_line(o, &len);
        assert_non_null(got);
        snprintf(line, sizeof(line),
                 "{\"type\":\"db.query\",\"duration_ms\":%s}\n", want[i]);
        assert_string_equal(got, line);
        assert_int_equal(len, strlen(line));
        back = json_loads(got, 0, NULL);
        assert_non_null(back);
        assert_true(json_real_value(json_object_get(back, "duration_ms")) ==
                    ms[i]);
        json_decref(back);
        json_decref(o);
        free(got);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_ascii_byte),
        cmocka_unit_test(test_utf8_and_edges),
        cmocka_unit_test(test_random_mixes),
        cmocka_unit_test(test_specials_at_every_offset),
        cmocka_unit_test(test_utf8_runs),
        cmocka_unit_test(test_dump_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
