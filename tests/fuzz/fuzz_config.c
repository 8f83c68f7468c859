/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_config.c - libFuzzer target for the YAML tree
 * (jg_yaml_parse and the schema helpers) and the configuration loader,
 * which reads a file: the input goes to a memfd opened by its
 * /proc/self/fd path. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/common.h"

/* Visits every node as the loaders do: shapes, keys, values. */
static void
walk(const struct jg_ynode *n, struct jg_diags *d, int depth)
{
    static const char *const keys[] = {"listen", "policy", "users", NULL};
    char **sv = NULL;
    size_t i, cnt = 0;
    bool b;
    int64_t v;

    if (n == NULL || depth > JG_YAML_MAX_DEPTH + 1)
        return;
    switch (n->type) {
    case JG_Y_SCALAR:
        jg_y_bool(n, "fuzz", &b, d);
        jg_duration_parse(n->str, &v);
        jg_time_parse(n->str, &v);
        break;
    case JG_Y_MAP:
        jg_y_check_keys(n, keys, "fuzz", "a map", d);
        jg_y_get(n, "listen");
        for (i = 0; i < n->n; i++)
            walk(n->kids[i], d, depth + 1);
        break;
    case JG_Y_SEQ:
        if (jg_y_strv(n, "fuzz", "a list", &sv, &cnt, d))
            jg_strv_free(sv);
        for (i = 0; i < n->n; i++)
            walk(n->kids[i], d, depth + 1);
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_ynode *root = NULL;
    struct jg_config *c = NULL;
    struct jg_diags d = {0};
    char path[64];
    int fd;

    if (jg_yaml_parse("fuzz.yaml", (const char *)data, size, &root, &d) == 0) {
        walk(root, &d, 0);
        jg_ynode_free(root);
    }
    jg_diags_clear(&d);

    if ((fd = memfd_create("fuzz-config", MFD_CLOEXEC)) < 0)
        return 0;
    if (size == 0 || write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (jg_config_load(path, &c, &d) == 0)
            jg_config_free(c);
        jg_diags_clear(&d);
    }
    close(fd);
    return 0;
}
