/*
 * Two calls lock a process down; the parts behind them differ per OS
 * (sandbox_linux.c: rlimits, chroot, setres[ug]id, no_new_privs,
 * Landlock, seccomp; sandbox_openbsd.c: pledge and unveil).
 */
#ifndef MXC_SANDBOX_H
#define MXC_SANDBOX_H

#include <sys/types.h>
#include <stdint.h>

#include "msg.h"

#define SANDBOX_MAX_PORTS 3 /* the resolvers' ports (RESOLVERS_MAX) */

struct sandbox_cfg {
	int         drop; /* started as root: chroot and setuid */
	uid_t       uid;  /* unprivileged user (default nobody) */
	gid_t       gid;
	const char *chroot_dir; /* NULL: a fresh empty directory */
	int         death_fd;   /* SIGSYS report goes here, -1 none */
	int         ready_fd;   /* > 2: closed once locked down (the parent
	                           waits for every child's before its own) */
	uint16_t    ports[SANDBOX_MAX_PORTS]; /* TCP connect() allowed */
	int         nports;
	const char *exec_path; /* ssh process: the one program it runs */
	pid_t       peers[PROC_COUNT]; /* parent: the children it may kill */
	int         npeers;
	int         write_dir;    /* parent: it may write files in ... */
	int         write_dirfd;  /* ... this directory (the MTA-STS cache) */
	const char *test_syscall; /* SANDBOX_TEST builds only */
};

/*
 * The first step of the parent, before anything else: on OpenBSD the
 * wide pledge of the set-up, which every child inherits; elsewhere
 * nothing (Linux has no such first stage).
 */
void sandbox_start(void);

/* In the parent, just before it forks: what every process can share. */
void sandbox_prepare(const struct sandbox_cfg *);

/*
 * Lock down the calling process as process kind `proc'.  Libraries must
 * have been initialised before (they read files that vanish after it).
 * On failure the process exits with an error: it never runs unconfined.
 */
void sandbox_lock(enum proc_id, const struct sandbox_cfg *);

/*
 * net, once its first SMTP connection is made: TCP connect to this one
 * port only from now on (MTA-STS's port 443 closed).  Linux with
 * Landlock ABI 4+; elsewhere net's own check is all there is.
 */
void sandbox_narrow_port(enum proc_id, uint16_t);

/* Name of a system call number of this architecture, or NULL. */
const char *sandbox_syscall_name(int);

/*
 * One line on what the kernel enforces beyond the system call filters
 * (Landlock's ABI decides whether TCP ports are restricted), for -v.
 */
const char *sandbox_describe(void);

#endif
