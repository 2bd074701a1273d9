/*
 * The entry points of the three children.  Each one initialises its
 * libraries, locks itself down with sandbox_lock() and then runs its
 * loop; none of them returns.
 */
#ifndef MXC_PROC_H
#define MXC_PROC_H

#include <signal.h>
#include <stdint.h>

#include "sandbox.h"

#define RESOLVER_MAX 64

/* What a child inherits from the parent besides its descriptors. */
struct child_cfg {
	struct sandbox_cfg sb;
	char               resolver[RESOLVER_MAX]; /* "" = resolv.conf */
	uint16_t           resolver_port;
	uint32_t           dns_timeout; /* seconds per query try */
	char               dnssec_probe[NAME_MAX_LEN + 1]; /* D6, "" = none */
	int                verbose;
	sigset_t           sigmask; /* to restore after fork */
};

void dns_main(int, int, const struct child_cfg *) __attribute__((noreturn));
void net_main(int, int, const struct child_cfg *) __attribute__((noreturn));
void tls_main(int, int, int, const struct child_cfg *)
    __attribute__((noreturn));

#endif
