/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_rec_reader.c - libFuzzer target for every reader of a
 * .jgr recording: the record reader (to the end, and its tail scan), the
 * asciicast view, and the verifier. The input is written to a file, as
 * the readers read files. Besides the sanitizers it checks that a reader
 * that fails says why, naming the file, and that no record is longer than
 * a block. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"

static char path[64];

static void
check(int ok)
{
    if (!ok)
        abort();
}

static void
cleanup(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof(path), "/tmp/fuzz-rec-%d.jgr", (int)getpid());
    atexit(cleanup);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jg_audit_recr *r = NULL;
    struct jg_audit_recr_ev ev;
    struct jg_audit_cast_status st;
    struct jg_diags d = {0};
    char err[512];
    int64_t end;
    bool fin;
    int fd, rc;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    if (jg_audit_recr_open(path, &r, err, sizeof(err)) == 0) {
        check(jg_audit_recr_tail(r, &end, &fin) <= 0);
        while ((rc = jg_audit_recr_next(r, &ev)) == 1)
            check(ev.len <= JG_AUDIT_REC_BLOCK && ev.time_us >= 0);
        if (rc < 0)
            check(strstr(jg_audit_recr_error(r), path) != NULL);
        jg_audit_recr_free(r);
        if (jg_audit_recr_open(path, &r, err, sizeof(err)) == 0) {
            fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
            jg_audit_view_cast(r, fd, err, sizeof(err));
            close(fd);
            jg_audit_recr_free(r);
        }
    } else {
        check(strstr(err, path) != NULL);
    }
    jg_audit_verify_jgr(path, "01a241b0-4d7f-714d-ae44-5223f4a6a201", NULL,
                        &st, &d);
    jg_diags_clear(&d);
    return 0;
}
