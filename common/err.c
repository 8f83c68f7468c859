/* SPDX-License-Identifier: Apache-2.0 */
/* common/err.c - text for the JG_ERR_* codes. */
#include "common/common.h"

const char *
jg_strerror(int r)
{
    switch (r) {
    case JG_OK: return "success";
    case JG_ERR_INTERNAL: return "internal error";
    case JG_ERR_NOMEM: return "out of memory";
    case JG_ERR_INVALID: return "invalid input";
    case JG_ERR_IO: return "input/output error";
    case JG_ERR_NOTFOUND: return "not found";
    case JG_ERR_EXISTS: return "already exists";
    case JG_ERR_TOOBIG: return "too big";
    case JG_ERR_DENIED: return "denied";
    default: return "unknown error";
    }
}
