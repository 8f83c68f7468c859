/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_s3_xml.c - libFuzzer target for the S3 answer parsers
 * (error envelope, CreateMultipartUpload and CompleteMultipartUpload). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/sync.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct jg_sync_s3_error e;
    char *id = NULL, etag[80], err[256];

    if (jg_sync_s3_parse_error(buf, size, &e) == 0 &&
        (strlen(e.code) >= sizeof(e.code) || e.code[0] == '\0'))
        abort();
    if (jg_sync_s3_parse_initiate(buf, size, &id, err, sizeof(err)) == 0 &&
        (id == NULL || id[0] == '\0'))
        abort();
    free(id);
    jg_sync_s3_parse_complete(buf, size, etag, sizeof(etag), &e, err,
                              sizeof(err));
    return 0;
}
