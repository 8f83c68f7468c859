/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_audit_reader.c - libFuzzer target for the audit readers:
 * asciicast header and event lines, seal checkpoint lines, event-log lines
 * and a whole day file through the chain verifier, and the text rebuilder
 * and replay filter over event data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

static void
on_line(const char *line, size_t len, double t, void *arg)
{
    (void)line;
    (void)len;
    (void)t;
    (void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct jg_audit_cast_header h;
    struct jg_audit_cast_event ev;
    struct jg_audit_checkpoint cp;
    struct jg_audit_log_status st = {0};
    struct jg_audit_filter f = {0};
    struct jg_audit_text *x;
    struct jg_diags d = {0}, notes = {0};
    char err[256], prev[65] = "", *out;
    uint64_t seq = 0;
    json_t *o = NULL;

    if (jg_audit_cast_header_parse(buf, size, &h, err, sizeof(err)) == 0)
        jg_audit_cast_header_clear(&h);
    if (jg_audit_cast_event_parse(buf, size, &ev, err, sizeof(err)) == 0) {
        x = jg_audit_text_new(on_line, NULL);
        jg_audit_text_feed(x, ev.data, ev.len, ev.time);
        jg_audit_text_flush(x);
        jg_audit_text_free(x);
        out = malloc(ev.len + 3);
        jg_audit_filter_feed(&f, ev.data, ev.len, out);
        free(out);
        free(ev.data);
    }
    jg_audit_checkpoint_parse(buf, size, NULL, NULL, &cp, err, sizeof(err));
    if (jg_audit_event_parse(buf, size, &o, err, sizeof(err)) == 0)
        json_decref(o);
    jg_audit_verify_log_mem("fuzz", buf, size, NULL, prev, &seq, &st, &d, &notes);
    jg_diags_clear(&d);
    jg_diags_clear(&notes);
    x = jg_audit_text_new(on_line, NULL);
    jg_audit_text_feed(x, buf, size, 0);
    jg_audit_text_flush(x);
    jg_audit_text_free(x);
    return 0;
}
