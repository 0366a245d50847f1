#define _GNU_SOURCE
#include "CRunitSystem.h"

#include <signal.h>

void crunit_sigset_add_reserved(sigset_t *set) {
#ifdef __linux__
    // sigaddset refuses the signals glibc keeps for its threads (32 and 33, below SIGRTMIN), and
    // posix_spawn sets them to SIG_IGN in the child unless its default set holds them: set the bits.
    unsigned long *words = (unsigned long *)set;
    const int bits = 8 * (int)sizeof(unsigned long);
    for (int sig = 32; sig < SIGRTMIN; sig++) words[(sig - 1) / bits] |= 1UL << ((sig - 1) % bits);
#else
    (void)set;
#endif
}
