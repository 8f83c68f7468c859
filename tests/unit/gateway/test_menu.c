/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/gateway/test_menu.c - the target menu of jumpgated without a
 * connection: keystroke decoding (escape sequences split across reads,
 * CR/LF, digits, control keys, garbage), selection and typed numbers,
 * scrolling, and escaping of names on the screen (the sources are compiled
 * in here). */
#include "jgtest.h"

#define JG_GW_ROOM_WORKER
#include "gateway/worker/internal.h"
#include "gateway/daemon/login.c"
#include "gateway/daemon/escape.c"
#include "gateway/worker/screen.c"

/* Feeds text in chunks of size step (0: all at once); writes the keys as
 * letters: u d p n h e E (enter) 0-9 b q C (Ctrl-C) D (Ctrl-D). */
static void
keys(const char *in, size_t len, size_t step, char *out, size_t outn)
{
    struct jg_gw_keydec d = {0};
    static const char names[] = {
        [JG_GW_KEY_UP] = 'u', [JG_GW_KEY_DOWN] = 'd', [JG_GW_KEY_PGUP] = 'p',
        [JG_GW_KEY_PGDN] = 'n', [JG_GW_KEY_HOME] = 'h', [JG_GW_KEY_END] = 'e',
        [JG_GW_KEY_ENTER] = 'E', [JG_GW_KEY_BACKSPACE] = 'b',
        [JG_GW_KEY_QUIT] = 'q', [JG_GW_KEY_INTR] = 'C', [JG_GW_KEY_EOF] = 'D'};
    size_t i = 0, o = 0;

    if (step == 0)
        step = len ? len : 1;
    /* Chunks model separate reads: the decoder keeps its state between. */
    while (i < len) {
        size_t end = i + step < len ? i + step : len;
        for (; i < end; i++) {
            int digit = -1;
            enum jg_gw_key k = jg_gw_key_feed(&d, (uint8_t)in[i], &digit);
            if (k == JG_GW_KEY_NONE || o + 1 >= outn)
                continue;
            out[o++] = k == JG_GW_KEY_DIGIT ? (char)('0' + digit) : names[k];
        }
    }
    out[o] = '\0';
}

static void
test_keys_table(void **state)
{
    static const struct {
        const char *in;
        size_t len;   /* 0: strlen */
        const char *want;
    } cases[] = {
        {"\x1b[A\x1b[B", 0, "ud"},
        {"\x1bOA\x1bOB", 0, "ud"},           /* application cursor keys */
        {"jjk", 0, "ddu"},
        {"\x10\x0e", 0, "ud"},               /* Ctrl-P, Ctrl-N */
        {"\r", 0, "E"},
        {"\n", 0, "E"},
        {"\r\n", 0, "E"},                    /* one Enter, not two */
        {"\r\r", 0, "EE"},
        {"\n\n", 0, "EE"},
        {"\r\n\r\n", 0, "EE"},
        {"12\r", 0, "12E"},
        {"q", 0, "q"},
        {"Q", 0, "q"},
        {"\x03", 0, "C"},
        {"\x04", 0, "D"},
        {"\x7f\x08", 0, "bb"},
        {"\x1b[5~\x1b[6~", 0, "pn"},
        {"\x1b[H\x1b[F\x1b[1~\x1b[4~\x1bOH\x1bOF", 0, "hehehe"},
        {"\x1b[1;5A", 0, "u"},               /* with a modifier */
        {"\x1b[2~\x1b[3~\x1b[Z\x1b[15~", 0, ""}, /* keys the menu ignores */
        {"\x1b[200~x\x1b[201~", 0, ""},      /* bracketed paste marks */
        {"\x1bq", 0, "q"},                   /* Alt-q */
        {"\x1b\x1b[A", 0, "u"},              /* a lone Escape, then Up */
        {"\x1b[\x03", 0, "C"},               /* Ctrl-C breaks a sequence */
        {"\x1b[99999999999999999999999A2", 0, "2"}, /* overlong: dropped */
        {"xyz \t\x01\x80\xff", 0, ""},       /* garbage */
        {"\x1b[A\0\x1b[B", 7, "ud"},         /* a NUL between */
        {"3\x1bOB7", 0, "3d7"},
    };
    size_t i, step;
    char got[64];

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        /* every way of splitting the input into reads gives the same keys */
        for (step = 0; step <= len; step++) {
            keys(cases[i].in, len, step, got, sizeof(got));
            if (strcmp(got, cases[i].want) != 0)
                fail_msg("case %zu split by %zu: got '%s', want '%s'", i,
                         step, got, cases[i].want);
        }
    }
}

static struct jg_gw_menu *
menu_of(size_t n, const char *prefix, int width)
{
    struct jg_gw_menu_entry *v = jg_xcalloc(n, sizeof(*v));
    size_t i;

    for (i = 0; i < n; i++) {
        v[i].target = jg_xasprintf("%s%0*zu", prefix, width, i + 1);
        v[i].login = jg_xstrdup("root");
    }
    return jg_gw_menu_new("alice", v, n);
}

/* Feeds text to the menu; returns the first result other than MORE. */
static enum jg_gw_menu_res
type(struct jg_gw_menu *m, const char *s)
{
    enum jg_gw_menu_res r = JG_GW_MENU_MORE;

    for (; *s != '\0' && r == JG_GW_MENU_MORE; s++) {
        int digit;
        enum jg_gw_key k = jg_gw_key_feed(&m->dec, (uint8_t)*s, &digit);
        r = jg_gw_menu_key(m, k, digit);
    }
    return r;
}

static void
test_menu_moves_and_picks(void **state)
{
    struct jg_gw_menu *m = menu_of(5, "web-", 1);

    assert_int_equal(type(m, "\x1b[B\r"), JG_GW_MENU_PICK);
    assert_int_equal(m->sel, 1);
    m->sel = 0;
    assert_int_equal(type(m, "kkk"), JG_GW_MENU_MORE);
    assert_int_equal(m->sel, 0);                    /* stops at the top */
    assert_int_equal(type(m, "jjjjjjjj"), JG_GW_MENU_MORE);
    assert_int_equal(m->sel, 4);                    /* and at the bottom */
    /* fewer than 10 entries: one digit picks at once */
    assert_int_equal(type(m, "3"), JG_GW_MENU_PICK);
    assert_int_equal(m->sel, 2);
    assert_int_equal(type(m, "9"), JG_GW_MENU_MORE);
    assert_string_equal(m->note, "there is no entry 9");
    assert_int_equal(m->sel, 2);
    assert_int_equal(type(m, "0"), JG_GW_MENU_MORE);
    assert_int_equal(type(m, "q"), JG_GW_MENU_QUIT);
    assert_int_equal(type(m, "\x04"), JG_GW_MENU_QUIT);
    assert_int_equal(type(m, "\x03"), JG_GW_MENU_INTR);
    jg_gw_menu_free(m);
}

static void
test_menu_numbers(void **state)
{
    struct jg_gw_menu *m = menu_of(12, "t", 2);

    /* "1" could begin 10-12: it waits for Enter or another digit */
    assert_int_equal(type(m, "1"), JG_GW_MENU_MORE);
    assert_int_equal(m->sel, 0);
    assert_int_equal(type(m, "1"), JG_GW_MENU_PICK); /* 11 */
    assert_int_equal(m->sel, 10);
    assert_int_equal(type(m, "1\r"), JG_GW_MENU_PICK);
    assert_int_equal(m->sel, 0);
    assert_int_equal(type(m, "2"), JG_GW_MENU_PICK); /* 20 > 12 */
    assert_int_equal(m->sel, 1);
    assert_int_equal(type(m, "13"), JG_GW_MENU_MORE);
    assert_string_equal(m->note, "there is no entry 13");
    /* Backspace takes a digit back; an arrow forgets the number */
    assert_int_equal(type(m, "1\x7f" "2"), JG_GW_MENU_PICK);
    assert_int_equal(m->sel, 1);
    assert_int_equal(type(m, "1\x1b[B"), JG_GW_MENU_MORE);
    assert_string_equal(m->num, "");
    assert_int_equal(m->sel, 1);
    jg_gw_menu_free(m);
}

static bool
has(const char *screen, const char *needle)
{
    return strstr(screen, needle) != NULL;
}

static void
test_render_scrolls(void **state)
{
    struct jg_gw_menu *m = menu_of(30, "host-", 2);
    char *s = NULL;
    size_t len;

    jg_gw_menu_resize(m, 80, 10);                   /* 8 entries fit */
    jg_gw_menu_render(m, &s, &len);
    assert_int_equal(len, strlen(s));
    assert_true(has(s, "host-01") && has(s, "host-08"));
    assert_false(has(s, "host-09"));
    assert_true(has(s, "entries 1-8 of 30"));
    free(s);
    type(m, "\x1b[6~\x1b[6~\x1b[B");                /* two pages and one */
    assert_int_equal(m->sel, 17);
    jg_gw_menu_render(m, &s, &len);
    assert_true(has(s, "host-18") && !has(s, "host-01"));
    assert_true(has(s, "\x1b[7m> 18  host-18  as root"));
    free(s);
    type(m, "G");
    jg_gw_menu_render(m, &s, &len);
    assert_true(has(s, "host-30") && has(s, "entries 23-30 of 30"));
    free(s);
    /* a taller window shows more and scrolls back as far as it can */
    jg_gw_menu_resize(m, 80, 40);
    jg_gw_menu_render(m, &s, &len);
    assert_true(has(s, "host-01") && has(s, "host-30"));
    assert_false(has(s, "entries"));
    free(s);
    /* a window of one line still shows the chosen entry */
    jg_gw_menu_resize(m, 80, 1);
    jg_gw_menu_render(m, &s, &len);
    assert_true(has(s, "host-30"));
    free(s);
    jg_gw_menu_free(m);
}

static void
test_render_escapes_and_cuts(void **state)
{
    struct jg_gw_menu_entry *v = jg_xcalloc(2, sizeof(*v));
    struct jg_gw_menu *m;
    char *s = NULL, *p;
    size_t len, i, line = 0;

    v[0].target = jg_xstrdup("evil\x1b]0;owned\x07-\r\n");
    v[0].login = jg_xstrdup("r\x9boot");
    v[1].target = jg_xstrdup("a-very-long-target-name-that-goes-on-and-on");
    v[1].login = jg_xstrdup("root");
    m = jg_gw_menu_new("al\x1bice", v, 2);
    jg_gw_menu_resize(m, 120, 24);
    jg_gw_menu_render(m, &s, &len);
    assert_true(has(s, "evil\\x1b]0;owned\\x07-\\x0d\\x0a"));
    assert_true(has(s, "as r\\x9boot") && has(s, "for al\\x1bice"));
    /* no control byte but the menu's own CSI sequences and CR LF */
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0x1b) {
            assert_int_equal(s[i + 1], '[');
            continue;
        }
        assert_true(c == '\r' || c == '\n' || (c >= 0x20 && c < 0x7f));
    }
    free(s);
    jg_gw_menu_resize(m, 30, 24);
    jg_gw_menu_render(m, &s, &len);
    /* every line fits 30 columns (29 characters, without the escapes) */
    for (p = s; *p != '\0'; p++) {
        if (*p == '\x1b') {
            while (*p != '\0' && !(*p >= 0x40 && *p <= 0x7e && *p != '['))
                p++;
            continue;
        }
        if (*p == '\r' || *p == '\n') {
            line = 0;
            continue;
        }
        assert_true(++line <= 29);
    }
    free(s);
    jg_gw_menu_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_table),
        cmocka_unit_test(test_menu_moves_and_picks),
        cmocka_unit_test(test_menu_numbers),
        cmocka_unit_test(test_render_scrolls),
        cmocka_unit_test(test_render_escapes_and_cuts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
