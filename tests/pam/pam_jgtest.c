/* SPDX-License-Identifier: Apache-2.0 */
/* tests/pam/pam_jgtest.c - test driver, never installed: runs a PAM
 * service's account (or auth) stack many times in several threads and
 * checks that every call gives the expected result. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

struct job {
    const char *service, *user, *rhost, *op;
    int expect;
    long iterations;
    long mismatches;    /* written by this job's thread only */
    int last;           /* the last result seen */
};

static const struct {
    const char *name;
    int code;
} codes[] = {
    {"success", PAM_SUCCESS},         {"perm_denied", PAM_PERM_DENIED},
    {"auth_err", PAM_AUTH_ERR},       {"user_unknown", PAM_USER_UNKNOWN},
    {"ignore", PAM_IGNORE},           {"acct_expired", PAM_ACCT_EXPIRED},
};

static int
code_of(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(codes[i].name, name) == 0)
            return codes[i].code;
    }
    return -1;
}

/* No prompts: a module that asks for anything gets an error. */
static int
no_conv(int n, const struct pam_message **msg, struct pam_response **resp,
        void *data)
{
    return PAM_CONV_ERR;
}

static void *
run(void *arg)
{
    struct job *j = arg;
    const struct pam_conv conv = {no_conv, NULL};
    long i;

    for (i = 0; i < j->iterations; i++) {
        pam_handle_t *h = NULL;
        int rc = pam_start(j->service, j->user, &conv, &h);

        if (rc == PAM_SUCCESS && strcmp(j->rhost, "-") != 0)
            rc = pam_set_item(h, PAM_RHOST, j->rhost);
        if (rc == PAM_SUCCESS)
            rc = strcmp(j->op, "auth") == 0 ? pam_authenticate(h, 0)
                                            : pam_acct_mgmt(h, 0);
        if (h != NULL)
            pam_end(h, rc);
        j->last = rc;
        if (rc != j->expect)
            j->mismatches++;
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    struct job *jobs;
    pthread_t *tids;
    long threads, iterations, bad = 0, t;
    char *end;
    int expect;

    if (argc != 8) {
        fprintf(stderr, "usage: pam_jgtest SERVICE USER RHOST|- account|auth "
                "EXPECT THREADS ITERATIONS\n");
        return 2;
    }
    expect = code_of(argv[5]);
    threads = strtol(argv[6], &end, 10);
    if (*end != '\0' || threads < 1 || threads > 64)
        expect = -1;
    iterations = strtol(argv[7], &end, 10);
    if (*end != '\0' || iterations < 1 || iterations > 1000000)
        expect = -1;
    if (expect < 0) {
        fprintf(stderr, "pam_jgtest: bad EXPECT, THREADS or ITERATIONS\n");
        return 2;
    }
    jobs = calloc((size_t)threads, sizeof(*jobs));
    tids = calloc((size_t)threads, sizeof(*tids));
    if (jobs == NULL || tids == NULL)
        return 2;
    for (t = 0; t < threads; t++) {
        jobs[t] = (struct job){argv[1], argv[2], argv[3], argv[4], expect,
                               iterations, 0, -1};
        if (pthread_create(&tids[t], NULL, run, &jobs[t]) != 0) {
            fprintf(stderr, "pam_jgtest: pthread_create failed\n");
            return 2;
        }
    }
    for (t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        bad += jobs[t].mismatches;
    }
    printf("calls=%ld mismatches=%ld last=%d (%s)\n", threads * iterations,
           bad, jobs[0].last, pam_strerror(NULL, jobs[0].last));
    free(jobs);
    free(tids);
    return bad == 0 ? 0 : 1;
}
