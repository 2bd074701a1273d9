/*
 * Every message that crosses a process boundary in mxclient.
 *
 * Topology (doc/design.md):
 *
 *   parent -> tls     MSG_JOB_SENDER, _RCPT, _HELO, _START (once each,
 *                     as soon as the children run), then MSG_BODY once
 *                     the whole message is read and checked (carries a
 *                     read-only descriptor of the spool)
 *   tls -> parent     MSG_DOT_SENT, MSG_REPORT, MSG_RESULT (the last
 *                     frame), MSG_LOG
 *   parent -> tls     MSG_STS_CACHED (once, before MSG_JOB_START): the
 *                     domain's cached MTA-STS policy, if any
 *   tls -> parent     MSG_STS_STORE: a policy fetched (or a failed
 *                     fetch) for the parent to cache; MSG_TLSRPT: a
 *                     datagram for the TLS-RPT collector
 *   tls -> dns        MSG_MX_REQ (once), MSG_HOST_REQ, MSG_ADDR_REQ
 *   dns -> tls        MSG_MX_HOST..., MSG_MX_INFO, MSG_MX_STS, MSG_MX_END;
 *                     per host
 *                     MSG_HOST_ADDR..., MSG_HOST_TLSA..., MSG_HOST_POLICY,
 *                     MSG_HOST_END
 *   tls -> net        MSG_CONNECT_REQ
 *   net -> tls        MSG_CONNECT_OK (carries the socket), MSG_CONNECT_FAIL
 *   net -> ssh        MSG_SSH_REQ               (only with --proxy ssh://)
 *   ssh -> net        MSG_SSH_OK (carries the socket), MSG_SSH_FAIL
 *   dns, net, ssh, tls -> parent   MSG_LOG; MSG_SANDBOX_DEATH on a
 *                     channel of its own (the SIGSYS handler's)
 *
 * Only MSG_BODY, MSG_CONNECT_OK and MSG_SSH_OK carry a descriptor.  msg.c's table
 * is the protocol: for each type its sender, receiver, size, descriptor,
 * value checks and order; every receiver checks each frame against it
 * before looking at the payload.
 */
#ifndef MXC_MSG_H
#define MXC_MSG_H

#include <stddef.h>
#include <stdint.h>

/* Who sent a frame; checked against the channel's expected peer. */
enum proc_id {
	PROC_PARENT = 0,
	PROC_DNS,
	PROC_NET,
	PROC_TLS,
	PROC_SSH, /* only with an ssh:// proxy */
	PROC_COUNT
};

enum msg_type {
	MSG_NONE = 0,
	/* parent -> tls: the delivery job */
	MSG_JOB_SENDER, /* string: envelope sender, may be "" */
	MSG_JOB_RCPT,   /* string: envelope recipient */
	MSG_JOB_HELO,   /* string: EHLO name, "" = derive one */
	MSG_JOB_START,  /* struct msg_job: starts the delivery */
	MSG_BODY, /* parent -> tls: struct msg_body + the spool, read-only */
	/* tls -> dns */
	MSG_MX_REQ,   /* string: recipient domain */
	MSG_HOST_REQ, /* string: MX host name */
	/* dns -> tls */
	MSG_MX_HOST,     /* struct msg_mx_host */
	MSG_MX_END,      /* struct msg_dns_end */
	MSG_HOST_ADDR,   /* struct msg_host_addr */
	MSG_HOST_END,    /* struct msg_dns_end */
	MSG_MX_INFO,     /* struct msg_mx_info, before MSG_MX_END */
	MSG_HOST_TLSA,   /* struct msg_tlsa + record data */
	MSG_HOST_POLICY, /* struct msg_host_policy, before MSG_HOST_END */
	/* tls <-> net */
	MSG_CONNECT_REQ,  /* struct msg_connect_req */
	MSG_CONNECT_OK,   /* struct msg_connect_res + descriptor */
	MSG_CONNECT_FAIL, /* struct msg_connect_res + string reason */

	MSG_SSH_REQ,  /* net -> ssh: struct msg_connect_req */
	MSG_SSH_OK,   /* ssh -> net: struct msg_connect_res + descriptor */
	MSG_SSH_FAIL, /* ssh -> net: struct msg_connect_res + string reason */
	/* any child -> parent */
	MSG_LOG,           /* struct msg_log + string */
	MSG_SANDBOX_DEATH, /* struct msg_sandbox_death */
	/* tls -> parent */
	MSG_DOT_SENT, /* empty: the final "." is about to be written */
	MSG_RESULT,   /* struct msg_result + string summary */
	MSG_REPORT,   /* string: JSON members (--json, --status-fd) */
	/* MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) */
	MSG_MX_STS,     /* dns -> tls: struct msg_mx_sts, before MSG_MX_END */
	MSG_ADDR_REQ,   /* tls -> dns: string: a host's addresses alone */
	MSG_STS_CACHED, /* parent -> tls: struct msg_sts + the policy text */
	MSG_STS_STORE,  /* tls -> parent: struct msg_sts + the policy text */
	MSG_TLSRPT,     /* tls -> parent: string: a TLS-RPT datagram */
	MSG_TYPE_COUNT
};

/* Limits of the framing layer. */
#define FRAME_HDR_SIZE 16
/*
 * A payload holds any one TLSA record that a DNS message can carry (at
 * most 65535 octets over TCP), so that dns never has to drop one, and a
 * whole MTA-STS policy (64 KiB, RFC 8461 §3.3) with its struct msg_sts.
 */
#define PAYLOAD_MAX  (65536 + 512)
#define STS_TEXT_MAX 65536
#define FRAME_MAX    (FRAME_HDR_SIZE + PAYLOAD_MAX)
#define NAME_MAX_LEN 255 /* RFC 1035 domain name, text form */

/* Outcomes of a delivery, mapped to sysexits codes in one place (parent). */
enum outcome {
	OUT_DELIVERED = 0,
	OUT_TEMPFAIL,    /* try again later */
	OUT_NOHOST,      /* NXDOMAIN, null MX, no address */
	OUT_NOUSER,      /* 5xx to RCPT */
	OUT_UNAVAILABLE, /* other permanent 5xx; no usable MX */
	OUT_PROTOCOL,    /* server broke the protocol */
	OUT_DATAERR,     /* message cannot be sent as it is */
	OUT_CONFIG,      /* configuration error */
	OUT_INTERNAL,    /* internal fault during delivery */
	OUT_UNKNOWN, /* the final "." went out, no reply: may be delivered */
	OUT_COUNT
};

/* DNS lookup status, per RFC 7672 §2.1.1. */
enum dns_status {
	DNS_OK = 0,    /* records follow (secure or insecure) */
	DNS_NXDOMAIN,  /* the name does not exist */
	DNS_NODATA,    /* the name exists without records of that type */
	DNS_NULLMX,    /* RFC 7505 null MX */
	DNS_TEMPFAIL,  /* SERVFAIL, timeout, bogus: retry later */
	DNS_BADANSWER, /* malformed or unusable answer */
	DNS_STATUS_COUNT
};

enum log_level {
	LOGL_INFO = 0, /* progress, stdout, hidden by -q */
	LOGL_DEBUG,    /* only with -v */
	LOGL_ERROR,    /* stderr */
	LOGL_WARN,     /* stderr, "warning: ", never hidden by -q */
	LOGL_COUNT
};

#define JOB_VERBOSE      0x01
#define JOB_QUIET        0x02
#define JOB_8BIT         0x04  /* the message has octets >= 0x80 */
#define JOB_DANE_ONLY    0x08  /* --dane-only: mandatory DANE (T7) */
#define JOB_JSON         0x10  /* send MSG_REPORT */
#define JOB_REQUIRE_AUTH 0x20  /* --require-auth: verified levels only */
#define JOB_PROBE        0x40  /* --probe: up to authentication, no MAIL */
#define JOB_STS_REFRESH  0x80  /* --sts-refresh: fetch the policy, no MX */
#define JOB_TLSRPT       0x100 /* --tlsrpt-socket: send MSG_TLSRPT */

/* The stages with a timeout of their own (RFC 5321 §4.5.3.2, P11). */
enum timeout_stage {
	TO_CONNECT = 0, /* TCP connect */
	TO_GREETING,    /* initial 220 */
	TO_EHLO,        /* EHLO or HELO reply */
	TO_STARTTLS,    /* STARTTLS reply and the handshake */
	TO_MAIL,        /* MAIL FROM reply */
	TO_RCPT,        /* RCPT TO reply */
	TO_DATA_INIT,   /* DATA -> 354 */
	TO_DATA_XFER,   /* each block of the message */
	TO_DATA_DONE,   /* reply after the final "." */
	TO_QUIT,        /* QUIT reply */
	TO_COUNT
};

struct msg_job {
	uint32_t flags;             /* JOB_* but JOB_8BIT */
	uint32_t timeout[TO_COUNT]; /* seconds per stage (RFC 5321 §4.5.3.2) */
	uint32_t deadline;          /* seconds for the whole run, 0 = none */
	uint32_t sts_timeout;       /* seconds for an MTA-STS policy fetch */
};

/* The checked message: the descriptor holds exactly wire_size octets. */
struct msg_body {
	uint64_t size;      /* octets for SIZE= (CRLF, unstuffed) */
	uint64_t wire_size; /* octets sent after DATA, incl ".\r\n" */
	uint32_t flags;     /* JOB_8BIT or 0 */
};

#define MX_SECURE   0x01 /* the MX RRset validated (AD) */
#define MX_IMPLICIT 0x02 /* no MX: the domain itself, RFC 5321 §5.1 */

struct msg_mx_host {
	uint16_t pref;
	uint16_t flags;                  /* MX_* */
	char     name[NAME_MAX_LEN + 1]; /* NUL-terminated */
};

#define ADDR_SECURE 0x01 /* the address RRset validated (AD) */

struct msg_host_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t flags;  /* ADDR_* */
	uint8_t addr[16];
};

struct msg_dns_end {
	uint32_t status; /* enum dns_status */
	uint32_t count;  /* records sent before this one */
};

#define MXI_SECURE     0x01 /* the MX RRset (or its absence) validated */
#define MXI_VALIDATING 0x02 /* the DNSSEC probe validated */

struct msg_mx_info {
	uint32_t flags;                      /* MXI_* */
	uint32_t waves;                      /* resolver round trips so far */
	char     expanded[NAME_MAX_LEN + 1]; /* CNAME-expanded domain or "" */
};

/* What RFC 7672 §2.2 makes of one MX host. */
enum tls_policy {
	POLICY_DANE = 0,      /* usable TLSA: TLS and authentication */
	POLICY_TLS,           /* TLSA, all unusable: TLS, no authentication */
	POLICY_OPPORTUNISTIC, /* no secure TLSA: STARTTLS if offered */
	POLICY_UNREACHABLE,   /* lookup error: must not connect */
	POLICY_COUNT
};

/* More than any record a DNS message (65535 octets) can hold. */
#define TLSA_DATA_MAX 65535

struct msg_tlsa {
	uint8_t usage, selector, mtype, pad;
};

#define HP_ADDR_SECURE 0x01 /* the address RRsets validated */
#define HP_CNAME       0x02 /* the host name is a CNAME */
#define REASON_MAX     256

struct msg_host_policy {
	uint32_t policy;  /* enum tls_policy */
	uint32_t flags;   /* HP_* */
	uint32_t ntlsa;   /* MSG_HOST_TLSA records sent before this one */
	uint32_t nusable; /* usable records of the whole RRset (A1) */
	uint32_t waves;   /* resolver round trips so far */
	char     base[NAME_MAX_LEN + 1];     /* TLSA base domain or "" */
	char     expanded[NAME_MAX_LEN + 1]; /* CNAME-expanded name or "" */
	char     reason[REASON_MAX];         /* why this policy */
};

struct msg_connect_req {
	uint8_t  family; /* 4 or 6 */
	uint8_t  pad;
	uint16_t port;
	uint8_t  addr[16];
	uint32_t timeout;  /* seconds for the connection */
	uint32_t greeting; /* ssh: seconds more for the first byte */
};

#define CONN_PROXY_DOWN 0x01 /* the proxy failed, not the destination */

/* The two ports net ever connects to: SMTP, and HTTPS for MTA-STS. */
#define PORT_SMTP  25
#define PORT_HTTPS 443

struct msg_connect_res {
	int32_t  error;  /* errno value, 0 with MSG_CONNECT_OK */
	uint32_t flags;  /* CONN_* */
	uint8_t  family; /* OK: our address as the MX sees it, 0: unknown */
	uint8_t  pad[3];
	uint8_t  addr[16];
};

struct msg_log {
	uint32_t level; /* enum log_level */
};

struct msg_sandbox_death {
	int32_t  syscall_nr;
	uint32_t arch; /* AUDIT_ARCH_* from siginfo */
};

struct msg_result {
	uint32_t outcome; /* enum outcome */
};

/* What a TXT lookup of the MX wave found (RFC 8461 §3.1, RFC 8460 §3). */
enum txt_found {
	TXT_NONE = 0, /* no record of that version (or no such name) */
	TXT_FOUND,    /* exactly one valid record */
	TXT_INVALID,  /* several, or a malformed one: as if none */
	TXT_ERROR,    /* the lookup failed */
	TXT_COUNT
};

#define STS_FETCH_TIMEOUT 20 /* seconds for a policy fetch (--sts-timeout) */
#define STS_ID_LEN        32 /* an MTA-STS policy id: 1-32 letters and digits */
#define RPT_TXT_MAX       1024 /* the TLS-RPT record, for the report only */

struct msg_mx_sts {
	uint32_t sts; /* enum txt_found: _mta-sts.<domain> */
	uint32_t rpt; /* enum txt_found: _smtp._tls.<domain> */
	char     id[STS_ID_LEN + 1];
	char     rpt_txt[RPT_TXT_MAX]; /* the TLS-RPT record, if found */
	char     why[REASON_MAX];      /* a lookup error of _mta-sts */
};

/*
 * A policy between parent and tls: the cache's view of it, followed by
 * the verbatim policy text (up to 64 KiB, RFC 8461 §3.3); a failed fetch
 * is sent with `failed' set and no text.
 */
struct msg_sts {
	int64_t fetched; /* when it was fetched, 0: never */
	int64_t expires; /* fetched + max_age */
	int64_t failed;  /* the last failed fetch, 0: none */
	char    id[STS_ID_LEN + 1];
	char    domain[NAME_MAX_LEN + 1];
	uint8_t pad[6];
};

/* Masks over processes and over message types (msg.c's table). */
#define MSG_PROC(p)   (1U << (p))
#define MSG_BIT(t)    ((uint64_t)1 << (t))
#define MSG_SEEN_LAST MSG_BIT(63) /* a LAST type has come: nothing may */

_Static_assert(MSG_TYPE_COUNT < 63, "message types fit a uint64_t mask");

/* One row of a process's table: the function that serves a type. */
struct frame;
struct msg_handler {
	uint32_t type;
	void (*fn)(void *, const struct frame *);
};

const char *msg_type_name(uint32_t);
const char *proc_name(uint32_t);
const char *outcome_name(uint32_t);
const char *dns_status_name(uint32_t);
const char *policy_name(uint32_t);
int         msg_check(
            const struct frame *, uint32_t, uint32_t, uint64_t, const char **);
uint64_t msg_seen(uint64_t, uint32_t);
int      msg_dispatch(
         const struct msg_handler *, size_t, void *, const struct frame *);
struct chan;
void msg_serve(struct chan *, const struct msg_handler *, size_t, void *)
    __attribute__((noreturn));

#endif
