/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_console_text.c - libFuzzer target for what the auditors'
 * console reads from and writes for the network: the urlencoded forms a
 * browser posts (console/server.c, jgc_field) and the escaping of any text
 * into a page (console/html.c, jgc_esc). Besides the sanitizers: a field
 * found fits its buffer and holds no NUL; escaped text is valid UTF-8 with
 * no markup character or control byte left. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8, and none of < > " ' or a control byte but tab. */
static void
check_escaped(const unsigned char *s, size_t n)
{
    size_t i = 0, k, len;

    while (i < n) {
        unsigned char c = s[i];
        if (c == '<' || c == '>' || c == '"' || c == '\'' || c == 0x7f ||
            (c < 0x20 && c != '\t'))
            abort();
        len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (len == 0 || i + len > n)
            abort();
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                abort();
        }
        i += len;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"account", "password", "code",
                                        "csrf", "a", ""};
    struct jgc_req q = {.form = (const char *)data, .form_len = size};
    struct jgc_buf b = {0};
    char small[8], big[600], *text;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (jgc_field(&q, names[i], small, sizeof(small)) &&
            strlen(small) >= sizeof(small))
            abort();
        if (jgc_field(&q, names[i], big, sizeof(big)) &&
            strlen(big) >= sizeof(big))
            abort();
    }
    text = jg_xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    jgc_esc(&b, text);
    if (b.p != NULL)
        check_escaped((const unsigned char *)b.p, b.n);
    free(b.p);
    b = (struct jgc_buf){0};
    jgc_urlenc(&b, text);
    for (i = 0; b.p != NULL && i < b.n; i++) {
        if (strchr("&=?#+ <>\"'", b.p[i]) != NULL || (unsigned char)b.p[i] >= 0x80)
            abort();
    }
    free(b.p);
    free(text);
    return 0;
}
