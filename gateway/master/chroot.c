/* SPDX-License-Identifier: Apache-2.0 */
/* gateway/master/chroot.c - the empty, root-owned folder the workers are
 * chrooted to, made and checked at start. */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "gateway/master/master.h"

int
jg_gw_prepare_chroot(void)
{
    struct stat st;
    DIR *dir;
    struct dirent *e;
    int n = 0;

    if (mkdir("/run/jumpgated", 0755) != 0 && errno != EEXIST)
        return JG_ERR_IO;
    if (mkdir(JG_GW_CHROOT, 0755) != 0 && errno != EEXIST)
        return JG_ERR_IO;
    if (lstat(JG_GW_CHROOT, &st) != 0)
        return JG_ERR_IO;
    if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0) {
        jg_error("%s must be a directory owned by root, not writable by "
                 "others", JG_GW_CHROOT);
        return JG_ERR_INVALID;
    }
    if ((dir = opendir(JG_GW_CHROOT)) == NULL)
        return JG_ERR_IO;
    while ((e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(dir);
    if (n != 0) {
        jg_error("%s must be empty", JG_GW_CHROOT);
        return JG_ERR_INVALID;
    }
    return 0;
}

