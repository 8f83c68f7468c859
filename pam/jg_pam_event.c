/* SPDX-License-Identifier: Apache-2.0 */
/* pam/jg_pam_event.c - the hook where pam_jumpgate.so's decisions will be
 * appended to the audit event log. */
#include "pam/pam_jumpgate.h"

/* The audit library (DESIGN.md section 8) does not exist yet: when it does,
 * this appends one policy event for the decision in r. Until then it does
 * nothing, and nothing else in the module depends on it. */
void
jg_pam_event_append(const struct jg_pam_args *a, const char *service,
                    const char *user, const char *rhost,
                    const struct jg_pam_result *r)
{
    (void)a;
    (void)service;
    (void)user;
    (void)rhost;
    (void)r;
}
