// Wrappers for the platform calls that Swift's Glibc module does not export.
// The implementations live in shim.c, compiled with _GNU_SOURCE; this header
// stays free of it so that its types match those of Swift's Glibc module.
#ifndef CRUNIT_SYSTEM_H
#define CRUNIT_SYSTEM_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <spawn.h>
#include <sys/types.h>

/// POSIX_SPAWN_SETSID where the platform has it, else 0.
short crunit_spawn_setsid_flag(void);
/// Makes the caller a child subreaper (Linux); -1 with ENOSYS elsewhere.
int crunit_set_child_subreaper(void);
/// pidfd_open(2); -1 with ENOSYS where it does not exist.
int crunit_pidfd_open(pid_t pid);
/// A non-blocking, close-on-exec signalfd for the given signals (Linux).
int crunit_signalfd(const sigset_t *mask);
/// Reads one signal number from a signalfd; 0 when none is pending.
int crunit_signalfd_read(int fd);
/// posix_spawn_file_actions_addchdir_np where available.
int crunit_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// posix_spawn_file_actions_addclosefrom_np where available.
int crunit_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int low);
/// Decoders of a wait status, which Swift does not import.
int crunit_wifexited(int status);
int crunit_wexitstatus(int status);
int crunit_wifsignaled(int status);
int crunit_wtermsig(int status);
/// errno.
int crunit_errno(void);
/// The pid holding a POSIX write lock on the whole file: 0 if none, -1 on error.
pid_t crunit_lock_holder(int fd);
/// Takes a POSIX write lock on the whole file without waiting: 0 on success, -1 if held.
int crunit_lock_try(int fd);
/// open(2) with O_CLOEXEC and O_NOFOLLOW added: runit never follows a link at the end of a path.
int crunit_open(const char *path, int flags, mode_t mode);
/// fork(2); used only by the supervisor as it starts, before it has any thread of its own.
pid_t crunit_fork(void);
/// A pipe with both ends close-on-exec.
int crunit_pipe_cloexec(int fds[2]);
/// Grows a pipe's buffer (Linux); ignored elsewhere.
void crunit_pipe_grow(int fd, int size);
/// A thread that writes one batch of bytes at a time to a descriptor, beside the caller.
typedef struct crunit_writer crunit_writer;
/// Starts the thread, with every signal blocked in it; NULL if it cannot be started.
crunit_writer *crunit_writer_new(void);
/// Hands `count` bytes at `bytes` to the thread to write, all of them, to `fd`; waits first for
/// the batch before. The caller keeps the bytes, and `fd` open, until `crunit_writer_wait`.
void crunit_writer_post(crunit_writer *writer, int fd, const void *bytes, unsigned long count);
/// Waits until the batch posted last is written; 0, or the errno of the write that failed.
int crunit_writer_wait(crunit_writer *writer);
/// Ends the thread after the batch it is writing; NULL is ignored.
void crunit_writer_free(crunit_writer *writer);
/// Adds to `set` the signals glibc keeps for itself (32 and 33 on Linux), which `sigaddset`
/// refuses: a spawn's default set with them leaves none of them ignored in the program run.
void crunit_sigset_add_reserved(sigset_t *set);
/// Asks for SIGIO whenever an entry of the directory open at `fd` is renamed, deleted or moved
/// out of it and, with `creations`, created or moved into it (Linux's dnotify, which takes none
/// of the user's inotify instances); -1 where the kernel has no dnotify.
int crunit_directory_notify(int fd, int creations);
/// Sets O_NONBLOCK.
int crunit_set_nonblocking(int fd);
/// Sets FD_CLOEXEC.
int crunit_set_cloexec(int fd);
/// Binds a Unix socket to `name` in Linux's abstract namespace, a name no file operation can
/// delete and the kernel frees when its holder dies: the socket's descriptor, or -1 with errno
/// (EADDRINUSE when another process holds the name; ENOSYS off Linux).
int crunit_abstract_bind(const char *name);
/// Connects to the listener of an abstract socket name and reads who holds it (SO_PEERCRED):
/// 0 with `pid` and `uid` set, or -1 with errno (ECONNREFUSED when no one listens there).
int crunit_abstract_peer(const char *name, pid_t *pid, uid_t *uid);
/// Accepts and closes every pending connection of a non-blocking listening socket.
void crunit_accept_all(int fd);
/// Moves up to `length` bytes from one pipe to another inside the kernel, without blocking
/// (Linux splice(2)); -1 with EAGAIN when the source is empty or the destination full.
long crunit_splice(int from, int to, unsigned long length);
/// Opens a pseudo-terminal of `columns` x `rows` whose output keeps "\n" line ends (no ONLCR):
/// the master's descriptor (non-blocking, close-on-exec) with the terminal's path written to
/// `path` and the terminal's own side, held open (close-on-exec, no controlling terminal made),
/// in `terminal`; or -1 with errno.
int crunit_pty_open(char *path, unsigned long size, int columns, int rows, int *terminal);

/// Whether `text` is an IPv4 literal (4), an IPv6 literal (6, without brackets), or neither (0).
int crunit_ip_literal_family(const char *text);
/// Starts a non-blocking TCP connect to an IPv4 or IPv6 literal: the close-on-exec socket (the
/// connect done or in progress), or -1 with errno (ECONNREFUSED, EINVAL for a bad literal, ...).
int crunit_tcp_connect(const char *address, int port);
/// The pending error of a socket (SO_ERROR): 0 when its connect succeeded, else the errno.
int crunit_socket_error(int fd);
/// send(2) that never raises SIGPIPE; -1 with errno (EAGAIN when the socket is full).
long crunit_send(int fd, const void *bytes, unsigned long length);
/// A non-blocking, close-on-exec Unix datagram socket bound to `name` in Linux's abstract
/// namespace, with SO_PASSCRED set so each datagram carries its sender's credentials:
/// the descriptor, or -1 with errno (EADDRINUSE; ENOSYS off Linux).
int crunit_abstract_bind_datagram(const char *name);
/// Receives one datagram without blocking into `buffer`; its full length (larger than `length`
/// when it was cut), or -1 with errno (EAGAIN when none waits). `pid` and `uid` get the sender's
/// credentials (0 and (uid_t)-1 when the kernel attached none); descriptors passed along with it
/// (SCM_RIGHTS) are closed at once.
long crunit_recv_datagram(int fd, void *buffer, unsigned long length, pid_t *pid, uid_t *uid);

/// The offset of the first `needle` in `haystack`, or -1 (memmem, a GNU extension, so not in
/// Swift's Glibc).
long crunit_find(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// Gives back memory that an idle process no longer uses: the heap's free pages (malloc_trim)
/// and the stack's pages more than a page below the caller's frame (dead until the stack grows
/// there again, when they come back as zero pages). Linux only; elsewhere it does nothing.
void crunit_release_idle_memory(void);

/// The TCP sockets of `family` (AF_INET or AF_INET6) in the LISTEN state in this network
/// namespace, asked of the kernel over netlink (sock_diag, as `ss -lt` does): up to `capacity`
/// of them written to `inodes` and `ports`, and the number there are (more than `capacity`
/// when they did not fit), or -1 with errno when netlink cannot answer (no sock_diag; off
/// Linux, ENOSYS). The kernel walks only its listening hash, where reading /proc/net/tcp walks
/// every bucket of the established one.
long crunit_listening_tcp(int family, unsigned long long *inodes, unsigned short *ports, long capacity);

/// Removes `path` and everything under it, links removed, never followed (nftw with
/// FTW_PHYS, depth first); 0, or -1 with errno.
int crunit_remove_tree(const char *path);
/// The children that thread `thread` of `pid` started, from /proc (Linux): how many there are
/// (more than `capacity` means call again with more room), or -1 when they cannot be read.
long crunit_proc_children(pid_t pid, pid_t thread, pid_t *out, long capacity);
/// How many threads `pid` has, from its /proc task folder's link count; -1 when unknown.
long crunit_proc_threads(pid_t pid);
/// The sockets `pid` has open, from its /proc fd folder: their inodes, and their descriptor
/// numbers in `fds` unless it is NULL; how many there are (more than `capacity` means call
/// again with more room), or -1 when they cannot be read.
long crunit_proc_sockets(pid_t pid, uint64_t *inodes, int *fds, long capacity);
/// Whether descriptor `fd` of `pid` is the socket with `inode` (1) or not, or no longer (0).
int crunit_proc_holds_socket(pid_t pid, int fd, uint64_t inode);
/// How many CPUs this process may run on (its affinity mask); 1 where that is unknown.
int crunit_usable_cpus(void);
/// pthread_create(3), the thread started on another CPU than the caller's where the process
/// may use one (Linux), so that both run at once from the start.
int crunit_thread_start(pthread_t *thread, void *(*body)(void *), void *context);

#endif
