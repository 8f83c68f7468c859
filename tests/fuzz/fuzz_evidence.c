/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_evidence.c - libFuzzer target for the EVIDENCE manifest
 * of an evidence archive (audit/verify_evidence.c), which `audit verify
 * --dir` reads from an archive that came from elsewhere. Besides the
 * sanitizers: what it accepts names a valid session id and, when it holds
 * a chain slice, a seq of at least 1 and 64 hex digits of prev; what it
 * refuses says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_audit_evidence_info e;
    char err[512] = "";

    if (jg_audit_evidence_parse((const char *)data, size, "EVIDENCE", &e, err,
                                sizeof(err)) == 0) {
        if (!jg_audit_id_valid(e.session))
            abort();
        if (e.has_events && (e.seq < 1 || strlen(e.prev) != 64))
            abort();
    } else if (err[0] == '\0') {
        abort();
    }
    return 0;
}
