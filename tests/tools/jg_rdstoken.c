/* SPDX-License-Identifier: Apache-2.0 */
/* tests/tools/jg_rdstoken.c - prints the RDS IAM authentication token
 * jumpgate makes (jg_sync_rds_token, sync/rds_token.c) for the arguments,
 * so that the tests can compare it with botocore's
 * generate_db_auth_token.
 *
 *   jg_rdstoken HOST PORT USER REGION UNIX-TIME KEY-ID SECRET [TOKEN] */
#include <stdio.h>
#include <stdlib.h>

#include "sync/sync.h"

int
main(int argc, char **argv)
{
    struct jg_sync_creds c = {0};
    char *tok = NULL;

    if (argc != 8 && argc != 9) {
        fprintf(stderr, "usage: jg_rdstoken HOST PORT USER REGION UNIX-TIME "
                        "KEY-ID SECRET [TOKEN]\n");
        return 2;
    }
    c.key_id = argv[6];
    c.secret = argv[7];
    c.token = argc == 9 ? argv[8] : NULL;
    if (jg_sync_rds_token(&c, argv[1], (uint16_t)atoi(argv[2]), argv[3],
                          argv[4], strtoll(argv[5], NULL, 10), &tok) != 0) {
        fprintf(stderr, "jg_rdstoken: refused\n");
        return 1;
    }
    printf("%s\n", tok);
    free(tok);
    return 0;
}
