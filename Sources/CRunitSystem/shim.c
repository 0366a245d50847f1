#ifdef __linux__
#define _GNU_SOURCE
#endif

#include "CRunitSystem.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stddef.h>
#include <string.h>

#ifdef __linux__
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/mman.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#endif

short crunit_spawn_setsid_flag(void) {
#ifdef POSIX_SPAWN_SETSID
    return POSIX_SPAWN_SETSID;
#else
    return 0;
#endif
}

int crunit_set_child_subreaper(void) {
#ifdef __linux__
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int crunit_pidfd_open(pid_t pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int crunit_signalfd(const sigset_t *mask) {
#ifdef __linux__
    return signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
#else
    (void)mask;
    errno = ENOSYS;
    return -1;
#endif
}

int crunit_signalfd_read(int fd) {
#ifdef __linux__
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof info);
    if (n != (ssize_t)sizeof info) return 0;
    return (int)info.ssi_signo;
#else
    (void)fd;
    return 0;
#endif
}

int crunit_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
    return posix_spawn_file_actions_addchdir_np(actions, path);
#elif defined(__APPLE__)
    return posix_spawn_file_actions_addchdir_np(actions, path);
#else
    (void)actions;
    (void)path;
    return ENOSYS;
#endif
}

int crunit_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int low) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, low);
#else
    (void)actions;
    (void)low;
    return ENOSYS;
#endif
}

int crunit_wifexited(int status) { return WIFEXITED(status); }
int crunit_wexitstatus(int status) { return WEXITSTATUS(status); }
int crunit_wifsignaled(int status) { return WIFSIGNALED(status); }
int crunit_wtermsig(int status) { return WTERMSIG(status); }
int crunit_errno(void) { return errno; }

pid_t crunit_lock_holder(int fd) {
    struct flock lk = {0};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &lk) == -1) return -1;
    if (lk.l_type == F_UNLCK) return 0;
    return lk.l_pid;
}

int crunit_lock_try(int fd) {
    struct flock lk = {0};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    return fcntl(fd, F_SETLK, &lk);
}

int crunit_open(const char *path, int flags, mode_t mode) { return open(path, flags | O_CLOEXEC | O_NOFOLLOW, mode); }

pid_t crunit_fork(void) { return fork(); }

int crunit_pipe_cloexec(int fds[2]) {
#ifdef __linux__
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

void crunit_pipe_grow(int fd, int size) {
#ifdef F_SETPIPE_SZ
    (void)fcntl(fd, F_SETPIPE_SZ, size);
#else
    (void)fd;
    (void)size;
#endif
}

int crunit_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int crunit_set_cloexec(int fd) { return fcntl(fd, F_SETFD, FD_CLOEXEC); }

#ifdef __linux__
#include <sys/socket.h>
#include <sys/un.h>
#endif

#ifdef __linux__
/// The address of `name` in the abstract namespace (a NUL, then the name, cut to fit); its size.
static socklen_t abstract_address(const char *name, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    size_t length = strlen(name);
    if (length > sizeof address->sun_path - 1) length = sizeof address->sun_path - 1;
    memcpy(address->sun_path + 1, name, length);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + length);
}
#endif

int crunit_abstract_bind(const char *name) {
#ifdef __linux__
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_un address;
    socklen_t size = abstract_address(name, &address);
    if (bind(fd, (struct sockaddr *)&address, size) != 0 || listen(fd, 16) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
#else
    (void)name;
    errno = ENOSYS;
    return -1;
#endif
}

long crunit_splice(int from, int to, unsigned long length) {
#ifdef __linux__
    return (long)splice(from, NULL, to, NULL, length, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
#else
    (void)from;
    (void)to;
    (void)length;
    errno = ENOSYS;
    return -1;
#endif
}

int crunit_abstract_peer(const char *name, pid_t *pid, uid_t *uid) {
#ifdef __linux__
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_un address;
    socklen_t size = abstract_address(name, &address);
    if (connect(fd, (struct sockaddr *)&address, size) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    struct ucred credentials;
    socklen_t credentialsSize = sizeof credentials;
    int result = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &credentialsSize);
    int saved = errno;
    close(fd);
    errno = saved;
    if (result != 0) return -1;
    *pid = credentials.pid;
    *uid = credentials.uid;
    return 0;
#else
    (void)name;
    (void)pid;
    (void)uid;
    errno = ENOSYS;
    return -1;
#endif
}

void crunit_accept_all(int fd) {
    for (;;) {
        int client = accept(fd, NULL, NULL);
        if (client < 0) return;
        close(client);
    }
}

int crunit_ip_literal_family(const char *text) {
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, &v4) == 1) return 4;
    if (inet_pton(AF_INET6, text, &v6) == 1) return 6;
    return 0;
}

int crunit_tcp_connect(const char *address, int port) {
    struct sockaddr_storage storage;
    memset(&storage, 0, sizeof storage);
    socklen_t size;
    int family;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        family = AF_INET;
        v4->sin_family = AF_INET;
        v4->sin_port = htons((unsigned short)port);
        size = sizeof *v4;
    } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        family = AF_INET6;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((unsigned short)port);
        size = sizeof *v6;
    } else {
        errno = EINVAL;
        return -1;
    }
#ifdef __linux__
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
#else
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
    if (connect(fd, (struct sockaddr *)&storage, size) != 0 && errno != EINPROGRESS && errno != EINTR) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int crunit_socket_error(int fd) {
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
    return error;
}

long crunit_send(int fd, const void *bytes, unsigned long length) {
#ifdef MSG_NOSIGNAL
    return (long)send(fd, bytes, length, MSG_NOSIGNAL);
#else
    return (long)send(fd, bytes, length, 0);
#endif
}

int crunit_abstract_bind_datagram(const char *name) {
#ifdef __linux__
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    int on = 1;
    struct sockaddr_un address;
    socklen_t size = abstract_address(name, &address);
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0
        || bind(fd, (struct sockaddr *)&address, size) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
#else
    (void)name;
    errno = ENOSYS;
    return -1;
#endif
}

long crunit_recv_datagram(int fd, void *buffer, unsigned long length, pid_t *pid, uid_t *uid) {
    *pid = 0;
    *uid = (uid_t)-1;
#ifdef __linux__
    struct iovec vector = {.iov_base = buffer, .iov_len = length};
    // Room for the credentials and a few passed descriptors; the kernel discards (closes)
    // descriptors that do not fit.
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
    } control;
    struct msghdr message = {0};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof control.bytes;
    ssize_t count = recvmsg(fd, &message, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
    if (count < 0) return -1;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET) continue;
        if (header->cmsg_type == SCM_CREDENTIALS && header->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred credentials;
            memcpy(&credentials, CMSG_DATA(header), sizeof credentials);
            *pid = credentials.pid;
            *uid = credentials.uid;
        } else if (header->cmsg_type == SCM_RIGHTS) {
            size_t count_fds = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t index = 0; index < count_fds; index++) {
                int passed;
                memcpy(&passed, CMSG_DATA(header) + index * sizeof(int), sizeof passed);
                close(passed);
            }
        }
    }
    if ((message.msg_flags & MSG_TRUNC) && (unsigned long)count <= length) return (long)length + 1;
    return (long)count;
#else
    (void)fd;
    (void)buffer;
    (void)length;
    errno = ENOSYS;
    return -1;
#endif
}

long crunit_find(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    const char *found = memmem(haystack, haystack_length, needle, needle_length);
    return found == NULL ? -1 : (long)(found - (const char *)haystack);
}

#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>

int crunit_pty_open(char *path, unsigned long size, int columns, int rows, int *terminal) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, path, size) != 0) {
        int saved = errno;
        close(master);
        errno = saved;
        return -1;
    }
    fcntl(master, F_SETFD, FD_CLOEXEC);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    struct winsize window = {0};
    window.ws_col = (unsigned short)columns;
    window.ws_row = (unsigned short)rows;
    ioctl(master, TIOCSWINSZ, &window);
    *terminal = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*terminal < 0) {
        int saved = errno;
        close(master);
        errno = saved;
        return -1;
    }
    struct termios modes;
    if (tcgetattr(*terminal, &modes) == 0) {
        modes.c_oflag &= ~(tcflag_t)ONLCR;
        tcsetattr(*terminal, TCSANOW, &modes);
    }
    return master;
}

long crunit_listening_tcp(int family, unsigned long long *inodes, unsigned short *ports, long capacity) {
#ifdef __linux__
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.request.sdiag_family = (unsigned char)family;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = 1 << 10; // TCP_LISTEN
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    long found = 0;
    static __thread long buffer[8192 / sizeof(long)];
    for (;;) {
        ssize_t length = recv(fd, buffer, sizeof buffer, 0);
        if (length < 0 && errno == EINTR) continue;
        if (length <= 0) break;
        for (struct nlmsghdr *header = (struct nlmsghdr *)buffer; NLMSG_OK(header, (size_t)length);
             header = NLMSG_NEXT(header, length)) {
            if (header->nlmsg_type == NLMSG_DONE) {
                close(fd);
                return found;
            }
            if (header->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *failure = NLMSG_DATA(header);
                close(fd);
                errno = failure->error ? -failure->error : EIO;
                return -1;
            }
            if (header->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
            struct inet_diag_msg *socket = NLMSG_DATA(header);
            if (socket->idiag_inode == 0) continue;
            if (found < capacity) {
                inodes[found] = socket->idiag_inode;
                ports[found] = ntohs(socket->id.idiag_sport);
            }
            found += 1;
        }
    }
    close(fd);
    errno = EIO;
    return -1;
#else
    (void)family; (void)inodes; (void)ports; (void)capacity;
    errno = ENOSYS;
    return -1;
#endif
}

__attribute__((noinline)) void crunit_release_idle_memory(void) {
#ifdef __linux__
    malloc_trim(0);
    volatile char here = 0;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    // From a page below this frame, rounded down (nothing live is there: madvise's own frame is
    // a few bytes deep), 96 KiB down: inside the stack's mapping, which the kernel sets up at
    // 128 KiB or more below the stack's top, so no other mapping can be touched.
    uintptr_t top = (((uintptr_t)&here) - page) & ~(page - 1);
    uintptr_t span = 96 << 10;
    uintptr_t low = top > span ? top - span : page;
    (void)madvise((void *)low, top - low, MADV_DONTNEED);
    (void)here;
#endif
}
