/*
 * The test hooks of mxclient itself: none.  (tests/hooks/hooks.c takes
 * this file's place in test builds.)
 */
#include "hooks.h"

void
hook_sandbox_cfg(enum proc_id proc, struct sandbox_cfg *cfg)
{
	(void)proc;
	(void)cfg;
}

int
hook_sandbox_off(const struct sandbox_cfg *cfg)
{
	(void)cfg;
	return 0;
}

int
hook_landlock_abi(int abi)
{
	return abi;
}

void
hook_sandbox_locked(enum proc_id proc, const struct sandbox_cfg *cfg)
{
	(void)proc;
	(void)cfg;
}

void
hook_tls_locked(int fd)
{
	(void)fd;
}
