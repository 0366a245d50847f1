#define _GNU_SOURCE
#include "CRunitSystem.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

// One thread that writes a log batch while the supervisor reads and composes the next one: the
// copy into the page cache, most of a heavy writer's cost, then runs beside the copy out of the
// pipe, on the other core. The supervisor waits for a batch before it touches the file again, so
// the two never use the descriptor at once.
struct crunit_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int fd;
    const unsigned char *bytes;
    size_t count;
    int posted;   // a batch waits to be written, or is being written
    int failure;  // the errno of the last batch's failed write, 0 when it was written whole
    int closing;
};

static int write_all(int fd, const unsigned char *bytes, size_t count) {
    while (count > 0) {
        ssize_t wrote = write(fd, bytes, count);
        if (wrote < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (wrote == 0) return EIO;
        bytes += wrote;
        count -= (size_t)wrote;
    }
    return 0;
}

static void *writer_main(void *argument) {
    struct crunit_writer *writer = argument;
    pthread_mutex_lock(&writer->lock);
    for (;;) {
        while (!writer->posted && !writer->closing) pthread_cond_wait(&writer->changed, &writer->lock);
        if (!writer->posted) break;
        int fd = writer->fd;
        const unsigned char *bytes = writer->bytes;
        size_t count = writer->count;
        pthread_mutex_unlock(&writer->lock);
        int failure = write_all(fd, bytes, count);
        pthread_mutex_lock(&writer->lock);
        writer->failure = failure;
        writer->posted = 0;
        pthread_cond_broadcast(&writer->changed);
    }
    pthread_mutex_unlock(&writer->lock);
    return NULL;
}

struct crunit_writer *crunit_writer_new(void) {
    struct crunit_writer *writer = calloc(1, sizeof *writer);
    if (writer == NULL) return NULL;
    pthread_mutex_init(&writer->lock, NULL);
    pthread_cond_init(&writer->changed, NULL);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    // write_all needs little stack; a small one keeps the thread's memory small.
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    // Every signal blocked in the thread: the supervisor reads its signals from a signalfd on
    // its own thread, and a SIGXFSZ becomes EFBIG from write, as on the supervisor's thread.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    int failed = pthread_create(&writer->thread, &attributes, writer_main, writer);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    pthread_attr_destroy(&attributes);
    if (failed) {
        pthread_cond_destroy(&writer->changed);
        pthread_mutex_destroy(&writer->lock);
        free(writer);
        return NULL;
    }
    return writer;
}

void crunit_writer_post(struct crunit_writer *writer, int fd, const void *bytes, unsigned long count) {
    pthread_mutex_lock(&writer->lock);
    while (writer->posted) pthread_cond_wait(&writer->changed, &writer->lock);
    writer->fd = fd;
    writer->bytes = bytes;
    writer->count = count;
    writer->failure = 0;
    writer->posted = 1;
    pthread_cond_broadcast(&writer->changed);
    pthread_mutex_unlock(&writer->lock);
}

int crunit_writer_wait(struct crunit_writer *writer) {
    pthread_mutex_lock(&writer->lock);
    while (writer->posted) pthread_cond_wait(&writer->changed, &writer->lock);
    int failure = writer->failure;
    pthread_mutex_unlock(&writer->lock);
    return failure;
}

void crunit_writer_free(struct crunit_writer *writer) {
    if (writer == NULL) return;
    pthread_mutex_lock(&writer->lock);
    writer->closing = 1;
    pthread_cond_broadcast(&writer->changed);
    pthread_mutex_unlock(&writer->lock);
    pthread_join(writer->thread, NULL);
    pthread_cond_destroy(&writer->changed);
    pthread_mutex_destroy(&writer->lock);
    free(writer);
}
