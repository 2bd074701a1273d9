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
	char security[48]; /* the level the session reached, or "" */
	int  rpt_policy; /* TLS-RPT policy type: RPT_TLSA, RPT_STS, RPT_NONE */
	char rpt_domain[256]; /* its policy-domain */
	char rpt_result[40];  /* its result type, "" for a success */
	char sending[64];     /* our address as the MX saw it, if known */
	char tlsa[2048];      /* tlsa: the TLSA records, "\n" between them */
	int  tlsa_cut;        /* ... and more than fit */
};

/* RFC 8460 policy types, as libtlsrpt numbers them. */
#define RPT_TLSA 1
#define RPT_STS  2
#define RPT_NONE 9

#include "jsonw.h"

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
	const char           *rpt_record; /* the TLS-RPT TXT record, or NULL */
	const char           *sts_text;   /* the MTA-STS policy in force */
	size_t                sts_len;
	const char           *sts_domain;
	char                  sts_failure[40]; /* a fetch's result type */
	char                  sts_reason[512];
};

struct report_attempt *report_attempt(
    struct report *, const char *, const char *, const char *, const char *);
void   put_lines(struct out *, const char *, size_t);
void   tlsrpt_type(const char *, char *, size_t);
size_t report_json(
    const struct report *, const char *, const char *, char *, size_t);

#endif
