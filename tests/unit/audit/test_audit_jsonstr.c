/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/audit/test_audit_jsonstr.c - the recorder's JSON string
 * encoder writes exactly what jansson's compact dump writes, and what it
 * writes parses back to the input. */
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_ascii_byte),
        cmocka_unit_test(test_utf8_and_edges),
        cmocka_unit_test(test_random_mixes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
