/* SPDX-License-Identifier: Apache-2.0 */
/* console/assets.c - GET /static/NAME: the few files the pages load, from
 * the assets folder (the asciinema player and its stylesheet, shipped with
 * jumpgate; the console's own stylesheet and script). Only the names
 * listed here are served: nothing from elsewhere on the disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/internal.h"

static const struct {
    const char *name, *type;
} files[] = {
    {"console.css", "text/css; charset=utf-8"},
    {"console.js", "text/javascript; charset=utf-8"},
    {"asciinema-player.min.js", "text/javascript; charset=utf-8"},
    {"asciinema-player.css", "text/css; charset=utf-8"},
};

enum MHD_Result
jgc_asset(struct jgc_req *q, const char *name)
{
    struct jgc_buf b = {0};
    char *path, *data = NULL;
    size_t i, len = 0;
    int r;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (strcmp(files[i].name, name) == 0)
            break;
    }
    if (i == sizeof(files) / sizeof(files[0]))
        return jgc_error(q, MHD_HTTP_NOT_FOUND, "no such file");
    path = jg_xasprintf("%s/%s", q->x->opts->assets_dir, files[i].name);
    r = jg_read_file(path, 8u << 20, &data, &len);
    if (r != 0) {
        jg_error("audit console: %s: %s", path, jg_read_strerror(r));
        free(path);
        return jgc_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                         "the console is not installed whole (%s is missing)",
                         files[i].name);
    }
    free(path);
    b.p = data;
    b.n = len;
    b.cap = len;
    return jgc_answer(q, MHD_HTTP_OK, &b, files[i].type);
}
