/*
 * The pieces of the tls process (tls_main() is in proc.h):
 *
 *   tls.c      the entry point, the job and the message, the calls to
 *              dns, net and the parent, the report
 *   deliver.c  MX hosts and their addresses in order, what each failure
 *              means for the outcome (D7, M8, T5, T7, §8)
 *   smtp.c     one SMTP session: greeting, EHLO, STARTTLS and DANE,
 *              MAIL/RCPT/DATA, the message, QUIT (P*, S*, A10-A12)
 *   conn.c     the connection, plain or TLS; reply.c replies; dane.c
 *              DANE matching; report.c the JSON report
 */
#ifndef MXC_DELIVERY_H
#define MXC_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "dane.h"
#include "frame.h"
#include "log.h"
#include "sts.h"
#include "report.h"
#include "smtp.h"

#define MX_MAX    32
#define ADDRS_MAX 16
#define DNS_WAIT  120 /* seconds for dns to answer one request */
#define ADDRSZ    (256 + 1)
/* A DNS message of 65535 octets holds fewer TLSA records than this. */
#define TLSA_RECORDS_MAX 8192
#define NAMES_MAX        4 /* DANE-TA reference identifiers */

struct job {
	char            sender[ADDRSZ];
	char            rcpt[ADDRSZ];
	char            helo[NAME_MAX_LEN + 1];
	struct msg_job  j;
	struct msg_body body;    /* valid once body_fd is set */
	int             body_fd; /* the spool, read-only; -1 until MSG_BODY */
};

/* What a step of the delivery leaves to the next one. */
enum step {
	STEP_OK,   /* go on with this session */
	STEP_NEXT, /* this address or host failed: try the next one */
	STEP_FINAL /* decided: no other host is tried */
};

struct result {
	enum outcome outcome;
	char         text[1024];
};

/* What MTA-STS asks of one MX host (sts_for_host()). */
enum sts_host {
	STS_HOST_NONE,    /* no policy, or DANE decides */
	STS_HOST_ENFORCE, /* STARTTLS and a WebPKI-valid certificate */
	STS_HOST_TESTING, /* check and report, deliver anyway */
	STS_HOST_SKIP     /* enforce, and the host is not in the policy */
};

/* One MX host as dns described it. */
struct host {
	const struct msg_mx_host *mx;
	struct msg_host_addr      addr[ADDRS_MAX];
	size_t                    naddr;
	struct tlsa              *tlsa; /* every record of the RRset */
	size_t                    ntlsa, tlsa_cap;
	struct msg_host_policy    pol;
	enum dns_status           status;
	enum sts_host             sts; /* what MTA-STS asks of it */
};

/* MTA-STS for this delivery (sts.c, fetch.c). */
struct sts_state {
	struct msg_mx_sts txt;   /* what the MX wave's TXT lookups found */
	struct msg_sts    cache; /* the parent's cached entry, if any */
	int               have_cache;
	char             *cache_text; /* its policy text (malloc'd) */
	size_t            cache_len;
	char             *fetched_text; /* a policy fetched now (malloc'd) */
	struct sts_policy pol;  /* the policy in force, if mode is set */
	enum sts_mode     mode; /* STS_MODE_NONE: no policy applies */
	const char       *text; /* its verbatim text */
	size_t            textlen;
	int64_t           fetched;  /* when the policy in force was fetched */
	const char       *rpt_type; /* a fetch's TLS-RPT failure type */
	char              why[256]; /* which policy, or why none */
	char              fetch_error[512]; /* what went wrong with a fetch */
};

struct delivery {
	struct chan           parent, dns, net;
	struct job            job;
	struct tls_config    *tlscfg;
	struct tls_config    *stscfg; /* HTTPS with the WebPKI store, or NULL */
	const uint8_t        *ca_pem; /* the CA bundle, read before lock-down */
	size_t                ca_len;
	struct x509_store_st *ca_store; /* parsed from it when first needed */
	struct sts_state      sts;
	size_t                probe_hosts; /* --probe: MX hosts looked at */
	size_t         probe_verified; /* ... that reached a verified level */
	int            probe_done;     /* ... this host's probe is done */
	uint32_t       nextid;
	struct result *res;          /* the outcome so far: the last failure */
	int            transient;    /* some host failed transiently */
	int            protocol;     /* some host broke the protocol */
	uint8_t        lfamily;      /* our address as the MX sees it */
	uint8_t        laddr[16];    /* (net's MSG_CONNECT_OK) */
	struct msg_mx_info mxinfo;   /* security of the MX lookup */
	long long          deadline; /* mono_ms() when --deadline ends, or 0 */
	struct report      rep;      /* for --json */
	const char        *domain;   /* of the recipient */
};

/* tls.c */
/* The outcome so far and why (textf() checks the format). */
#define set_result(r, o, ...) \
	((r)->outcome = (o), textf((r)->text, sizeof((r)->text), __VA_ARGS__))
int    tmo(const struct delivery *, enum timeout_stage);
size_t ask_mx(
    struct delivery *, const char *, struct msg_mx_host *, enum dns_status *);
void   ask_host(struct delivery *, struct host *);
void   host_free(struct host *);
int    ask_connect(struct delivery *, const struct msg_host_addr *, uint16_t,
       char *, size_t, uint32_t *);
void   announce_dot(struct delivery *);
void   await_body(struct delivery *);
size_t body_read(struct delivery *, uint64_t, uint8_t *, size_t);

void wait_frame(struct chan *, struct frame *, uint32_t, int);

/* sts.c */
void sts_cached(struct delivery *, const struct frame *);
void sts_choose(struct delivery *);
void sts_recheck(struct delivery *, const struct msg_mx_host *, size_t);
enum sts_host sts_for_host(const struct delivery *, const struct host *);
void          sts_refreshed(struct delivery *);
void          sts_report(struct delivery *);

/* tlsrpt.c */
void tlsrpt_send(struct delivery *, const struct report_attempt *);

/* fetch.c */
void sts_setup(struct delivery *, const char *);
int  sts_fetch(struct delivery *, const char *, char **, size_t *, char *,
     size_t, const char **);

/* smtp.c */
enum step session(struct delivery *, const struct host *, const char *, int);

/* deliver.c */
void deliver(struct delivery *);

#endif
