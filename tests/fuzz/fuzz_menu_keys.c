/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_menu_keys.c - libFuzzer target for the target menu of
 * jumpgated: the client's bytes through the key decoder into the menu,
 * with the screen drawn after each read; the first bytes choose the number
 * of entries and the window size (the sources are compiled in here). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JG_GW_ROOM_WORKER
#include "gateway/worker/internal.h"
#include "gateway/daemon/login.c"
#include "gateway/daemon/escape.c"
#include "gateway/worker/screen.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_gw_menu_entry *v;
    struct jg_gw_menu *m;
    size_t n, i, chunk;
    char *screen = NULL;
    size_t len = 0;

    if (size < 4)
        return 0;
    n = 1 + data[0] % 40;
    v = jg_xcalloc(n, sizeof(*v));
    for (i = 0; i < n; i++) {
        /* names with bytes of the input in them, control bytes too */
        char name[8] = {'t', (char)(data[(i + 1) % size] | 1), '-',
                        (char)('a' + i % 26), 0};
        v[i].target = jg_xstrdup(name);
        v[i].login = jg_xstrdup("root");
    }
    m = jg_gw_menu_new("fuzz", v, n);
    jg_gw_menu_resize(m, data[1], data[2]);
    chunk = 1 + data[3] % 16;
    data += 4;
    size -= 4;
    while (size > 0) {
        size_t k = size < chunk ? size : chunk;
        for (i = 0; i < k; i++) {
            int digit;
            enum jg_gw_key key = jg_gw_key_feed(&m->dec, data[i], &digit);
            if (key == JG_GW_KEY_DIGIT && (digit < 0 || digit > 9))
                abort();
            jg_gw_menu_key(m, key, digit);
            if (m->sel >= m->n || m->top > m->sel)
                abort();
        }
        jg_gw_menu_render(m, &screen, &len);
        if (len != strlen(screen))
            abort();
        free(screen);
        data += k;
        size -= k;
    }
    jg_gw_menu_free(m);
    return 0;
}
