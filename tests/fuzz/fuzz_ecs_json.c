/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_ecs_json.c - libFuzzer target for the ECS JSON 1.1
 * answer parsers (ListContainerInstances, DescribeContainerInstances). */
#include <stdint.h>
#include <stdlib.h>

#include "sync/sync.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct jg_sync_container_instance *ci = NULL;
    char **arns = NULL, *tok = NULL, err[512];
    size_t n = 0, nci = 0, nf = 0, i;

    jg_sync_ecs_parse_list(buf, size, &arns, &n, &tok, err, sizeof(err));
    for (i = 0; i < n; i++)
        free(arns[i]);
    free(arns);
    free(tok);
    jg_sync_ecs_parse_describe(buf, size, &ci, &nci, &nf, err, sizeof(err));
    for (i = 0; i < nci; i++)
        if (!jg_sync_instance_id_ok(ci[i].instance_id))
            abort(); /* the parser promised a valid id */
    jg_sync_container_instances_free(ci, nci);
    return 0;
}
