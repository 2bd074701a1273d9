/*
 * Seams for the test build.  In mxclient every hook is a no-op
 * (src/common/hooks.c); mxclient-sbtest and the sandbox unit test link
 * tests/hooks/hooks.c instead, where the environment of a test can make
 * a process try a forbidden system call after locking down, run without
 * its sandbox (valgrind), play an older kernel, or send a broken frame.
 * No production file holds test code: only these calls.
 */
#ifndef MXC_HOOKS_H
#define MXC_HOOKS_H

#include "msg.h"

struct sandbox_cfg;

/* Parent, for each process before it starts: what its test is. */
void hook_sandbox_cfg(enum proc_id, struct sandbox_cfg *);
/* sandbox_lock(): 1 to skip the whole lock-down. */
int hook_sandbox_off(const struct sandbox_cfg *);
/* The Landlock ABI to use, given the kernel's. */
int hook_landlock_abi(int);
/* Right after the lock-down: the forbidden call of the test. */
void hook_sandbox_locked(enum proc_id, const struct sandbox_cfg *);
/* tls, locked down, with its channel to the parent. */
void hook_tls_locked(int);

#endif
