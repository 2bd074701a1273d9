/*
 * The machine-readable report of one run (--json, --status-fd): the
 * outcome and every MX host and address tried, as JSON members that the
 * parent wraps with the exit status.
 */
#ifndef MXC_REPORT_H
#define MXC_REPORT_H

#include <stddef.h>

#define REPORT_ATTEMPTS 20

struct report_attempt {
	char mx[256];
	char address[64];
	char policy[48];
	char result[320];
};

struct report {
	char                  proxy[600]; /* --proxy URL, no password, or "" */
	char                  mx[256];
	char                  address[64];
	char                  tls_version[32];
	char                  cipher[64];
	char                  security[48];
	char                  tlsa[128];
	char                  reply[512];
	char                  enhanced[16];
	struct report_attempt attempt[REPORT_ATTEMPTS];
	size_t                nattempt;
};

void report_attempt(
    struct report *, const char *, const char *, const char *, const char *);
size_t report_json(
    const struct report *, const char *, const char *, char *, size_t);

#endif
