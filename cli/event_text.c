/* SPDX-License-Identifier: Apache-2.0 */
/* cli/event_text.c - text for a terminal from what the audit commands
 * read: strings with control characters made safe, and an event-log
 * line's members as " key=value". */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

void
jg_cli_clean_print(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "-");

    for (; *p != '\0'; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

void
jg_cli_print_members(FILE *f, json_t *ev, const char *const skip[])
{
    const char *k;
    json_t *v;
    size_t i;
    char *txt;

    json_object_foreach(ev, k, v) {
        for (i = 0; skip[i] != NULL && strcmp(skip[i], k) != 0; i++)
            ;
        if (skip[i] != NULL || json_is_null(v))
            continue;
        /* Reals as the log holds them (15 significant digits): 0.288,
         * not 0.28799999999999998. */
        txt = json_is_string(v) ? jg_xstrdup(json_string_value(v))
                                : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
                                                    JSON_REAL_PRECISION(15));
        fprintf(f, " %s=", k);
        jg_cli_clean_print(f, txt != NULL ? txt : "?");
        free(txt);
    }
}
