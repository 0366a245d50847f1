// Reading a process tree's /proc entries with as few system calls as the kernel allows:
// `runit list` does this for every process it shows.
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "CRunitSystem.h"

#ifdef __linux__

// A seq_file read (such as a children file) comes back short only at its end, or when the
// kernel's buffer, a page at least, is full; a read this far short of 4096 bytes is the end.
enum { SEQ_SLACK = 64 };

long crunit_proc_children(pid_t pid, pid_t thread, pid_t *out, long capacity) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)thread);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    char buffer[4096];
    long found = 0;
    long value = -1;
    for (;;) {
        ssize_t count = read(fd, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) break;
        for (ssize_t i = 0; i < count; i++) {
            char c = buffer[i];
            if (c >= '0' && c <= '9') {
                value = (value < 0 ? 0 : value) * 10 + (c - '0');
            } else if (value >= 0) {
                if (found < capacity) out[found] = (pid_t)value;
                found++;
                value = -1;
            }
        }
        if (count < (ssize_t)sizeof buffer - SEQ_SLACK) break;
    }
    if (value >= 0) {
        if (found < capacity) out[found] = (pid_t)value;
        found++;
    }
    close(fd);
    return found;
}

long crunit_proc_threads(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    struct stat info;
    if (stat(path, &info) != 0) return -1;
    // The task folder links to itself, its parent and one folder per thread.
    return info.st_nlink > 2 ? (long)info.st_nlink - 2 : -1;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

long crunit_proc_sockets(pid_t pid, uint64_t *inodes, int *fds, long capacity) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return -1;
    // Aligned for the records the kernel writes into it.
    uint64_t storage[2048];
    char *entries = (char *)storage;
    long found = 0;
    for (;;) {
        long count = getdents64(dir, entries, sizeof storage);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) break;
        for (long offset = 0; offset < count;) {
            struct linux_dirent64 *entry = (struct linux_dirent64 *)(entries + offset);
            offset += entry->d_reclen;
            if (entry->d_name[0] == '.') continue;
            char link[64];
            ssize_t length = readlinkat(dir, entry->d_name, link, sizeof link - 1);
            if (length <= 8 || memcmp(link, "socket:[", 8) != 0) continue;
            uint64_t inode = 0;
            for (ssize_t i = 8; i < length && link[i] >= '0' && link[i] <= '9'; i++) {
                inode = inode * 10 + (uint64_t)(link[i] - '0');
            }
            if (found < capacity) {
                inodes[found] = inode;
                if (fds) fds[found] = atoi(entry->d_name);
            }
            found++;
        }
        // procfs fills the buffer while entries remain: room left for a long name means the end.
        if ((size_t)count < sizeof storage - 512) break;
    }
    close(dir);
    return found;
}

int crunit_proc_holds_socket(pid_t pid, int fd, uint64_t inode) {
    char path[64];
    char expected[40];
    char link[40];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
    int length = snprintf(expected, sizeof expected, "socket:[%llu]", (unsigned long long)inode);
    ssize_t got = readlink(path, link, sizeof link);
    return got == length && memcmp(link, expected, (size_t)length) == 0;
}

int crunit_usable_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int count = CPU_COUNT(&set);
    return count > 0 ? count : 1;
}

struct thread_start {
    void *(*body)(void *);
    void *context;
    cpu_set_t allowed;
};

// Runs on the new thread: back to every CPU the process may use (it was started on one only,
// so that it ran at once; held there, it could wait behind other work), then the body.
static void *thread_trampoline(void *argument) {
    struct thread_start start = *(struct thread_start *)argument;
    free(argument);
    pthread_setaffinity_np(pthread_self(), sizeof start.allowed, &start.allowed);
    return start.body(start.context);
}

int crunit_thread_start(pthread_t *thread, void *(*body)(void *), void *context) {
    // A new thread may wait on the creator's CPU for milliseconds before the kernel moves one
    // of them to an idle CPU (seen on a 2-CPU VM), longer than the work it was made for; so it
    // starts on another CPU the process may use, when there is one.
    struct thread_start *start = malloc(sizeof *start);
    int current = sched_getcpu();
    if (start && current >= 0 && sched_getaffinity(0, sizeof start->allowed, &start->allowed) == 0) {
        start->body = body;
        start->context = context;
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
            if (cpu == current || !CPU_ISSET(cpu, &start->allowed)) continue;
            pthread_attr_t attributes;
            if (pthread_attr_init(&attributes) != 0) break;
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            int result = pthread_attr_setaffinity_np(&attributes, sizeof one, &one) == 0
                ? pthread_create(thread, &attributes, thread_trampoline, start) : -1;
            pthread_attr_destroy(&attributes);
            if (result == 0) return 0;
            break;
        }
    }
    free(start);
    return pthread_create(thread, NULL, body, context);
}

#else

int crunit_usable_cpus(void) {
    return 1;
}

int crunit_thread_start(pthread_t *thread, void *(*body)(void *), void *context) {
    return pthread_create(thread, NULL, body, context);
}

long crunit_proc_children(pid_t pid, pid_t thread, pid_t *out, long capacity) {
    (void)pid; (void)thread; (void)out; (void)capacity;
    errno = ENOSYS;
    return -1;
}

long crunit_proc_threads(pid_t pid) {
    (void)pid;
    return -1;
}

long crunit_proc_sockets(pid_t pid, uint64_t *inodes, int *fds, long capacity) {
    (void)pid; (void)inodes; (void)fds; (void)capacity;
    errno = ENOSYS;
    return -1;
}

int crunit_proc_holds_socket(pid_t pid, int fd, uint64_t inode) {
    (void)pid; (void)fd; (void)inode;
    return 0;
}

#endif
