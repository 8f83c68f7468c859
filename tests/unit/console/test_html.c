/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/console/test_html.c - what the console puts in a page from a
 * recording, an event or a request is text: every markup character is an
 * entity, control bytes and invalid UTF-8 become U+FFFD, valid UTF-8
 * stays; query values are percent-encoded; form fields are found and
 * decoded exactly, and refused when too long or holding a NUL. */
#include "jgtest.h"

#include "console/internal.h"

static char *
esc(const char *s)
{
    struct jgc_buf b = {0};

    jgc_esc(&b, s);
    return b.p ? b.p : jg_xstrdup("");
}

static void
test_escape(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"<img src=x onerror=\"a('b')\">",
         "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;"},
        {"a & b", "a &amp; b"},
        {"caf\xc3\xa9 \xe2\x86\x92 ok", "caf\xc3\xa9 \xe2\x86\x92 ok"},
        {"\x1b]0;title\x07", "\xef\xbf\xbd]0;title\xef\xbf\xbd"},
        {"bad \xff\xfe end", "bad \xef\xbf\xbd\xef\xbf\xbd end"},
        {"cut \xc3", "cut \xef\xbf\xbd"},
        {"overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd"},
        {"surrogate \xed\xa0\x80", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"tab\there", "tab\there"},
        {"", ""},
    };
    size_t i;
    char *got;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got = esc(cases[i].in);
        if (strcmp(got, cases[i].out) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].out);
        free(got);
    }
    got = esc(NULL);
    assert_string_equal(got, "-");
    free(got);
}

static void
test_urlenc(void **state)
{
    struct jgc_buf b = {0};

    (void)state;
    jgc_urlenc(&b, "a b&c=d/\xc3\xa9\"<");
    assert_string_equal(b.p, "a%20b%26c%3Dd%2F%C3%A9%22%3C");
    free(b.p);
}

static void
test_form_fields(void **state)
{
    static const char form[] =
        "account=carol&password=a%20b+c%26d&code=123456&empty=&nul=a%00b&"
        "long=0123456789";
    struct jgc_req q = {.form = form, .form_len = sizeof(form) - 1};
    char v[8], big[64];

    (void)state;
    assert_true(jgc_field(&q, "account", v, sizeof(v)));
    assert_string_equal(v, "carol");
    assert_true(jgc_field(&q, "password", big, sizeof(big)));
    assert_string_equal(big, "a b c&d");
    assert_true(jgc_field(&q, "empty", v, sizeof(v)));
    assert_string_equal(v, "");
    assert_false(jgc_field(&q, "nul", v, sizeof(v)));      /* a NUL */
    assert_false(jgc_field(&q, "long", v, sizeof(v)));     /* too long */
    assert_false(jgc_field(&q, "acc", v, sizeof(v)));      /* a prefix */
    assert_false(jgc_field(&q, "missing", v, sizeof(v)));
    q.form = NULL;
    q.form_len = 0;
    assert_false(jgc_field(&q, "account", v, sizeof(v)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_urlenc),
        cmocka_unit_test(test_form_fields),
    };

    return cmocka_run_group_tests_name("console/html", tests, NULL, NULL);
}
