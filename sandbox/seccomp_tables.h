/*
 * The seccomp allow-lists, one per process kind, kept as data in
 * seccomp_tables.c.  A system call in `calls' is allowed with any
 * arguments; a row in `rules' allows one only when all of its argument
 * comparisons hold (several rows for one call: any of them).  Everything
 * else traps (SIGSYS) and the process dies.  The ssh process, which
 * execs ssh(1), has a deny-list instead (struct sb_policy).
 */
#ifndef MXC_SECCOMP_TABLES_H
#define MXC_SECCOMP_TABLES_H

#include <stddef.h>

#include <seccomp.h>

#include "msg.h"

#define SB_MAX_CMP 3

/*
 * In a comparison, stands for the caller's own pid, filled in when the
 * filter is built.  No pid can take this value.
 */
#define SB_SELF ((scmp_datum_t)-2)
/*
 * Stands for each pid in cfg->peers: the row becomes one rule per pid
 * (none when there are none).  No pid can take this value either.
 */
#define SB_PEER ((scmp_datum_t)-3)

/*
 * The directory the parent may write in (cfg->write_dirfd, the MTA-STS
 * cache); a row that names it is left out when there is none.
 */
#define SB_DIRFD ((scmp_datum_t)-4)

struct sb_call {
	const char *name; /* as libseccomp spells it */
	const char *why;  /* the code path that needs it */
};

struct sb_rule {
	const char         *name;
	struct scmp_arg_cmp cmp[SB_MAX_CMP]; /* unused: op 0 */
	const char         *why;
};

/*
 * deny = 1 turns the table around: `calls' and `rules' are refused with
 * EPERM, `enosys' with ENOSYS, and everything else is allowed.  Only the ssh process has such a list,
 * because a filter outlives execve() and ssh(1) needs what it needs.
 */
struct sb_policy {
	const struct sb_call *calls;
	size_t                ncalls;
	const struct sb_rule *rules;
	size_t                nrules;
	int                   deny;
	const struct sb_call *enosys; /* deny-lists: fail with ENOSYS */
	size_t                nenosys;
};

extern const struct sb_policy sb_policies[PROC_COUNT];

#endif
