/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_cf_json.c - libFuzzer target for the Cloudflare v4
 * envelope parser and the IMDS credentials document parser. */
#include <stdint.h>
#include <stdlib.h>

#include "sync/sync.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct jg_sync_creds c;
    json_t *res = NULL;
    char *cursor = NULL;
    char err[512];

    jg_sync_cf_parse_envelope(buf, size, &res, &cursor, err, sizeof(err));
    json_decref(res);
    free(cursor);
    if (jg_sync_creds_parse_imds(buf, size, &c, err, sizeof(err)) == 0)
        jg_sync_creds_clear(&c);
    if (jg_sync_creds_parse_file(buf, size, "default", &c, err,
                                 sizeof(err)) == 0)
        jg_sync_creds_clear(&c);
    return 0;
}
