/* SPDX-License-Identifier: Apache-2.0 */
/* policy/actions.c - names of the actions a rule can allow. */
#include <string.h>

#include "policy/policy.h"

static const char *const action_names[] = {"shell", "exec", "sftp", "forward", "jump"};

unsigned
jg_policy_action_parse(const char *s)
{
    unsigned i;

    for (i = 0; s != NULL && i < 5; i++) {
        if (strcmp(s, action_names[i]) == 0)
            return 1u << i;
    }
    return 0;
}

const char *
jg_policy_action_name(unsigned action)
{
    unsigned i;

    for (i = 0; i < 5; i++) {
        if (action == 1u << i)
            return action_names[i];
    }
    return "?";
}

void
jg_policy_actions_format(unsigned mask, char *buf, size_t n)
{
    size_t used = 0;
    unsigned i;

    if (n == 0)
        return;
    buf[0] = '\0';
    for (i = 0; i < 5; i++) {
        if (mask & (1u << i)) {
            int w = snprintf(buf + used, n - used, "%s%s", used ? "," : "",
                             action_names[i]);
            if (w < 0 || (size_t)w >= n - used)
                return;
            used += (size_t)w;
        }
    }
}
