/*
 * Steps of the lock-down that do not depend on the OS sandbox: resource
 * limits, chroot and the privilege drop.  sandbox_linux.c and
 * sandbox_openbsd.c call them in the same order.
 */
#ifndef MXC_SANDBOX_PRIV_H
#define MXC_SANDBOX_PRIV_H

#include "sandbox.h"

/* Room for the channels plus the socket that tls receives from net. */
#define SB_NOFILE 32
/* ssh(1) opens its config, keys, known_hosts and the agent's socket. */
#define SB_NOFILE_SSH 128

const char *sb_procname(enum proc_id);
void        sb_check_cfg(enum proc_id, const struct sandbox_cfg *);
void        sb_rlimits(enum proc_id);
void        sb_chroot(enum proc_id, const struct sandbox_cfg *);
void        sb_drop_privs(enum proc_id, const struct sandbox_cfg *);
void        sb_ready(const struct sandbox_cfg *);
/* landlock_linux.c */
void sb_landlock(enum proc_id, const struct sandbox_cfg *);

#endif
