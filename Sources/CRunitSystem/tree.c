#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *walk) {
    (void)info; (void)flag; (void)walk;
    return remove(path);
}

int crunit_remove_tree(const char *path) {
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#include <errno.h>
#include <fcntl.h>
#include <signal.h>

int crunit_directory_notify(int fd, int creations) {
#if defined(F_NOTIFY) && defined(DN_MULTISHOT)
    // dnotify: SIGIO (the default signal) on each entry renamed within the directory
    // (DN_RENAME), deleted or moved out of it (DN_DELETE) and, with `creations`, created or
    // moved into it (DN_CREATE); until the descriptor is closed.
    return fcntl(fd, F_NOTIFY, DN_RENAME | DN_DELETE | DN_MULTISHOT | (creations ? DN_CREATE : 0));
#else
    (void)fd;
    (void)creations;
    errno = ENOSYS;
    return -1;
#endif
}
