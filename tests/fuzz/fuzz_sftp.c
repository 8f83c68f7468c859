/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_sftp.c - libFuzzer target for the streaming SFTP v3
 * parser. The input is a list of chunks, each a control byte and its
 * bytes: bit 7 of the control says the direction (set: from the server),
 * the low 7 bits plus one the chunk's length (1..128 bytes). Every event is
 * also turned into its event-log members, and the stream is finished at
 * the end. The seeds (corpus/fuzz_sftp) cover uploads, downloads, path
 * requests, a repeated INIT, links, copies and extended requests. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

static void
on_event(const struct jg_audit_sftp_event *ev, void *arg)
{
    size_t *n = arg;
    json_t *j = jg_audit_sftp_event_json(ev);
    char *s = json_dumps(j, JSON_COMPACT);

    if (jg_audit_sftp_type(ev->kind) == NULL)
        abort(); /* an event of no known type */
    if (ev->kind == JG_AUDIT_SFTP_ERROR && ev->error == NULL)
        abort();
    if ((ev->kind == JG_AUDIT_SFTP_EXTENDED) != (ev->request != NULL))
        abort(); /* a request name only, and always, for sftp.extended */
    free(s);
    json_decref(j);
    (*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t events = 0, i = 0;
    struct jg_audit_sftp *p = jg_audit_sftp_new(on_event, &events);

    while (i < size) {
        uint8_t ctl = data[i++];
        size_t n = (size_t)(ctl & 0x7f) + 1;

        if (n > size - i)
            n = size - i;
        jg_audit_sftp_feed(p, (ctl & 0x80) == 0, data + i, n);
        i += n;
        /* a failed parser always says why (the gateway shows it) */
        if (jg_audit_sftp_failed(p) != (jg_audit_sftp_error(p) != NULL))
            abort();
    }
    jg_audit_sftp_finish(p);
    jg_audit_sftp_free(p);
    return 0;
}
