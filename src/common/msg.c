/*
 * The protocol between the processes, one row per message type: who may
 * send it and who may receive it, whether it carries a descriptor, its
 * exact size, a check of the values inside, and where it may come in the
 * stream of one channel (once only, after or never after other types).
 * Receivers call msg_check() (through chan_get()) before they look at a
 * payload, so that handlers can trust sizes, string termination, enum
 * ranges and order; a frame that reaches a process that must never
 * receive it is refused here, not by some switch.  Which function
 * handles a type is each process's own table (msg_dispatch()).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "msg.h"

#define P_PARENT MSG_PROC(PROC_PARENT)
#define P_DNS    MSG_PROC(PROC_DNS)
#define P_NET    MSG_PROC(PROC_NET)
#define P_TLS    MSG_PROC(PROC_TLS)
#define P_SSH    MSG_PROC(PROC_SSH)
#define P_CHILD  (P_DNS | P_NET | P_TLS | P_SSH)
#define T(t)     MSG_BIT(t)

enum tail {
	TAIL_NONE, /* exactly `fixed' bytes */
	TAIL_STR,  /* a string, NUL only as its last byte */
	TAIL_BLOB  /* 0..tailmax arbitrary bytes */
};

/* flags */
#define FD   0x01 /* carries exactly one descriptor (else none) */
#define ONCE 0x02 /* at most once on a channel */
#define LAST 0x04 /* nothing may follow it on the channel */

struct msg_rule {
	const char *name;
	unsigned    from, to; /* MSG_PROC() masks */
	unsigned    flags;
	size_t      fixed;
	enum tail   tail;
	size_t      tailmax; /* including the NUL of a string */
	int (*check)(const struct frame *);
	uint64_t after;     /* types that must have come before */
	uint64_t not_after; /* types that must not have come yet */
	uint32_t below;     /* the payload starts with an enum below this */
};

static int check_job(const struct frame *);
static int check_body(const struct frame *);
static int check_mx_host(const struct frame *);
static int check_host_addr(const struct frame *);
static int check_connect_req(const struct frame *);
static int check_connect_ok(const struct frame *);
static int check_connect_fail(const struct frame *);
static int check_mx_info(const struct frame *);
static int check_mx_sts(const struct frame *);
static int check_sts(const struct frame *);
static int check_host_policy(const struct frame *);

#define NAMESZ (NAME_MAX_LEN + 1)
#define TEXTSZ 4096
#define ADDRSZ (256 + 1) /* RFC 5321 path without <> */
#define JOB    (T(MSG_JOB_SENDER) | T(MSG_JOB_RCPT) | T(MSG_JOB_HELO))

#define FIXED(s) sizeof(struct s), TAIL_NONE, 0
#define STR(max) 0, TAIL_STR, (max)

/* clang-format off */
static const struct msg_rule rules[MSG_TYPE_COUNT] = {
	/* parent -> tls: the job, each part once, then the start */
	[MSG_JOB_SENDER] = { "JOB_SENDER", P_PARENT, P_TLS, ONCE, STR(ADDRSZ),
	    NULL, 0, T(MSG_JOB_START), 0 },
	[MSG_JOB_RCPT] = { "JOB_RCPT", P_PARENT, P_TLS, ONCE, STR(ADDRSZ),
	    NULL, 0, T(MSG_JOB_START), 0 },
	[MSG_JOB_HELO] = { "JOB_HELO", P_PARENT, P_TLS, ONCE, STR(NAMESZ),
	    NULL, 0, T(MSG_JOB_START), 0 },
	[MSG_JOB_START] = { "JOB_START", P_PARENT, P_TLS, ONCE,
	    FIXED(msg_job), check_job, JOB, 0, 0 },
	/* the message once it is read and checked: the spool, read-only */
	[MSG_BODY] = { "BODY", P_PARENT, P_TLS, FD | ONCE, FIXED(msg_body),
	    check_body, T(MSG_JOB_START), 0, 0 },
	/* tls -> dns: the MX hosts once, then one host at a time */
	[MSG_MX_REQ] = { "MX_REQ", P_TLS, P_DNS, ONCE, STR(NAMESZ),
	    NULL, 0, 0, 0 },
	[MSG_HOST_REQ] = { "HOST_REQ", P_TLS, P_DNS, 0, STR(NAMESZ),
	    NULL, T(MSG_MX_REQ), 0, 0 },
	/* dns -> tls: MX_HOST..., MX_INFO, MX_END; then per host HOST_... */
	[MSG_MX_HOST] = { "MX_HOST", P_DNS, P_TLS, 0, FIXED(msg_mx_host),
	    check_mx_host, 0, T(MSG_MX_END), 0 },
	[MSG_MX_INFO] = { "MX_INFO", P_DNS, P_TLS, ONCE, FIXED(msg_mx_info),
	    check_mx_info, 0, T(MSG_MX_END), 0 },
	[MSG_MX_END] = { "MX_END", P_DNS, P_TLS, ONCE, FIXED(msg_dns_end),
	    NULL, T(MSG_MX_INFO), 0, DNS_STATUS_COUNT },
	[MSG_HOST_ADDR] = { "HOST_ADDR", P_DNS, P_TLS, 0, FIXED(msg_host_addr),
	    check_host_addr, T(MSG_MX_END), 0, 0 },
	[MSG_HOST_TLSA] = { "HOST_TLSA", P_DNS, P_TLS, 0,
	    sizeof(struct msg_tlsa), TAIL_BLOB, TLSA_DATA_MAX, NULL,
	    T(MSG_MX_END), 0, 0 },
	[MSG_HOST_POLICY] = { "HOST_POLICY", P_DNS, P_TLS, 0,
	    FIXED(msg_host_policy), check_host_policy, T(MSG_MX_END), 0, 0 },
	[MSG_HOST_END] = { "HOST_END", P_DNS, P_TLS, 0, FIXED(msg_dns_end),
	    NULL, T(MSG_MX_END), 0, DNS_STATUS_COUNT },
	/* tls <-> net: one connection at a time; only OK carries the socket */
	[MSG_CONNECT_REQ] = { "CONNECT_REQ", P_TLS, P_NET, 0,
	    FIXED(msg_connect_req), check_connect_req, 0, 0, 0 },
	[MSG_CONNECT_OK] = { "CONNECT_OK", P_NET, P_TLS, FD,
	    FIXED(msg_connect_res), check_connect_ok, 0, 0, 0 },
	[MSG_CONNECT_FAIL] = { "CONNECT_FAIL", P_NET, P_TLS, 0,
	    sizeof(struct msg_connect_res), TAIL_STR, TEXTSZ,
	    check_connect_fail, 0, 0, 0 },
	/* net <-> ssh, only with --proxy ssh:// */
	[MSG_SSH_REQ] = { "SSH_REQ", P_NET, P_SSH, 0, FIXED(msg_connect_req),
	    check_connect_req, 0, 0, 0 },
	[MSG_SSH_OK] = { "SSH_OK", P_SSH, P_NET, FD, FIXED(msg_connect_res),
	    check_connect_ok, 0, 0, 0 },
	[MSG_SSH_FAIL] = { "SSH_FAIL", P_SSH, P_NET, 0,
	    sizeof(struct msg_connect_res), TAIL_STR, TEXTSZ,
	    check_connect_fail, 0, 0, 0 },
	/* any child -> parent */
	[MSG_LOG] = { "LOG", P_CHILD, P_PARENT, 0, sizeof(struct msg_log),
	    TAIL_STR, TEXTSZ, NULL, 0, 0, LOGL_COUNT },
	[MSG_SANDBOX_DEATH] = { "SANDBOX_DEATH", P_CHILD, P_PARENT, ONCE,
	    FIXED(msg_sandbox_death), NULL, 0, 0, 0 },
	/* tls -> parent: the end of the run, RESULT last of all */
	[MSG_DOT_SENT] = { "DOT_SENT", P_TLS, P_PARENT, ONCE, 0, TAIL_NONE, 0,
	    NULL, 0, T(MSG_RESULT), 0 },
	[MSG_REPORT] = { "REPORT", P_TLS, P_PARENT, ONCE, STR(PAYLOAD_MAX),
	    NULL, 0, T(MSG_RESULT), 0 },
	[MSG_RESULT] = { "RESULT", P_TLS, P_PARENT, ONCE | LAST,
	    sizeof(struct msg_result), TAIL_STR, TEXTSZ, NULL, 0, 0, OUT_COUNT },
	/* MTA-STS: the TXT records ride with the MX answer; the policy */
	/* host's addresses on request; the cache between parent and tls */
	[MSG_MX_STS] = { "MX_STS", P_DNS, P_TLS, ONCE, FIXED(msg_mx_sts),
	    check_mx_sts, 0, T(MSG_MX_END), 0 },
	[MSG_ADDR_REQ] = { "ADDR_REQ", P_TLS, P_DNS, 0, STR(NAMESZ),
	    NULL, T(MSG_MX_REQ), 0, 0 },
	[MSG_STS_CACHED] = { "STS_CACHED", P_PARENT, P_TLS, ONCE,
	    sizeof(struct msg_sts), TAIL_BLOB, STS_TEXT_MAX, check_sts, 0,
	    T(MSG_JOB_START), 0 },
	[MSG_STS_STORE] = { "STS_STORE", P_TLS, P_PARENT, 0,
	    sizeof(struct msg_sts), TAIL_BLOB, STS_TEXT_MAX, check_sts, 0,
	    T(MSG_RESULT), 0 },
	[MSG_TLSRPT] = { "TLSRPT", P_TLS, P_PARENT, 0, STR(PAYLOAD_MAX), NULL,
	    0, T(MSG_RESULT), 0 },
};
/* clang-format on */

static const char *const proc_names[PROC_COUNT] = { "parent", "dns", "net",
	"tls", "ssh" };

static const char *const outcome_names[OUT_COUNT] = { "delivered",
	"temporary failure", "no such host", "no such user", "unavailable",
	"protocol error", "data error", "configuration error", "internal error",
	"unknown" };

static const char *const dns_status_names[DNS_STATUS_COUNT] = { "ok",
	"NXDOMAIN", "NODATA", "null MX", "temporary failure", "bad answer" };

static const char *const policy_names[POLICY_COUNT] = { "DANE required",
	"TLS required, no authentication", "opportunistic TLS", "unreachable" };

const char *
policy_name(uint32_t p)
{
	return p < POLICY_COUNT ? policy_names[p] : "unknown";
}

const char *
msg_type_name(uint32_t type)
{
	if (type < MSG_TYPE_COUNT && rules[type].name != NULL)
		return rules[type].name;
	return "unknown";
}

const char *
proc_name(uint32_t p)
{
	return p < PROC_COUNT ? proc_names[p] : "unknown";
}

const char *
outcome_name(uint32_t o)
{
	return o < OUT_COUNT ? outcome_names[o] : "unknown";
}

const char *
dns_status_name(uint32_t s)
{
	return s < DNS_STATUS_COUNT ? dns_status_names[s] : "unknown";
}

/* The enum a payload starts with (its fixed part is there: checked). */
static uint32_t
first_enum(const struct frame *f)
{
	uint32_t v;

	memcpy(&v, f->data, sizeof(v));
	return v;
}

static int
check_tail(const struct msg_rule *r, const struct frame *f)
{
	size_t         n = f->len - r->fixed;
	const uint8_t *t = f->data + r->fixed;

	switch (r->tail) {
	case TAIL_NONE:
		return n == 0 ? 0 : -1;
	case TAIL_BLOB:
		return n <= r->tailmax ? 0 : -1;
	case TAIL_STR:
		if (n == 0 || n > r->tailmax || t[n - 1] != '\0')
			return -1;
		return memchr(t, '\0', n) == t + n - 1 ? 0 : -1;
	}
	return -1;
}

/* Where the frame stands in its channel's stream: once, order, last. */
static const char *
check_order(const struct msg_rule *r, uint32_t type, uint64_t seen)
{
	if (seen & MSG_SEEN_LAST)
		return "message after the last one";
	if ((r->flags & ONCE) && (seen & T(type)))
		return "message type sent twice";
	if ((r->after & seen) != r->after || (r->not_after & seen))
		return "message out of order";
	return NULL;
}

/*
 * 0 when f obeys the rules of its type, came from `sender' to
 * `receiver', and may come after the types in `seen' (MSG_BIT()s of what
 * the channel delivered so far).
 */
int
msg_check(const struct frame *f, uint32_t sender, uint32_t receiver,
    uint64_t seen, const char **why)
{
	const struct msg_rule *r;

	if (f->type == MSG_NONE || f->type >= MSG_TYPE_COUNT ||
	    rules[f->type].name == NULL)
		return *why = "unknown message type", -1;
	r = &rules[f->type];
	if (sender >= PROC_COUNT || !(r->from & MSG_PROC(sender)))
		return *why = "message type not allowed from this sender", -1;
	if (receiver >= PROC_COUNT || !(r->to & MSG_PROC(receiver)))
		return *why = "message type this process never receives", -1;
	if (((r->flags & FD) != 0) != ((f->flags & FRAME_F_FD) != 0))
		return *why = "descriptor where none belongs, or missing", -1;
	if (f->len < r->fixed || check_tail(r, f) == -1)
		return *why = "wrong payload length", -1;
	if ((r->below != 0 && first_enum(f) >= r->below) ||
	    (r->check != NULL && r->check(f) == -1))
		return *why = "invalid payload contents", -1;
	if ((*why = check_order(r, f->type, seen)) != NULL)
		return -1;
	return 0;
}

/* What the channel has seen after f, for the next msg_check(). */
uint64_t
msg_seen(uint64_t seen, uint32_t type)
{
	seen |= T(type);
	if (type < MSG_TYPE_COUNT && (rules[type].flags & LAST))
		seen |= MSG_SEEN_LAST;
	return seen;
}

/*
 * A server's loop: each frame on c to its handler, until the peer closes
 * the channel (the process is done: exit 0).  Anything else ends the
 * process as the internal fault it is.
 */
void
msg_serve(struct chan *c, const struct msg_handler *h, size_t n, void *ctx)
{
	struct frame f;

	for (;;) {
		if (chan_wait(c, &f, -1) == -1) {
			if (c->eof)
				exit(0);
			fatalx("%s: %s", c->name, c->err);
		}
		if (msg_dispatch(h, n, ctx, &f) == -1)
			fatalx("%s: no handler for %s", c->name,
			    msg_type_name(f.type));
	}
}

/* Call the handler of f's type; -1 if this process has none for it. */
int
msg_dispatch(
    const struct msg_handler *h, size_t n, void *ctx, const struct frame *f)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (h[i].type == f->type) {
			h[i].fn(ctx, f);
			return 0;
		}
	return -1;
}

/* A string field ends inside its array. */
static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int
check_mx_sts(const struct frame *f)
{
	struct msg_mx_sts m;
	size_t            i;

	memcpy(&m, f->data, sizeof(m));
	if (m.sts >= TXT_COUNT || m.rpt >= TXT_COUNT ||
	    !terminated(m.id, sizeof(m.id)) ||
	    !terminated(m.rpt_txt, sizeof(m.rpt_txt)) ||
	    !terminated(m.why, sizeof(m.why)))
		return -1;
	/* an id comes only with a record found, and is 1-32 alnums */
	if ((m.sts == TXT_FOUND) != (m.id[0] != '\0'))
		return -1;
	for (i = 0; m.id[i] != '\0'; i++)
		if (!isalnum((unsigned char)m.id[i]))
			return -1;
	return 0;
}

static int
check_sts(const struct frame *f)
{
	struct msg_sts m;

	memcpy(&m, f->data, sizeof(m));
	if (!terminated(m.id, sizeof(m.id)) ||
	    !terminated(m.domain, sizeof(m.domain)) || m.domain[0] == '\0')
		return -1;
	if (m.fetched < 0 || m.failed < 0 || m.expires < m.fetched ||
	    (m.fetched == 0 && m.failed == 0))
		return -1;
	/* a policy has its text and its id; a failure record neither */
	return (f->len > sizeof(m)) == (m.fetched != 0) &&
	        (m.id[0] != '\0') == (m.fetched != 0)
	    ? 0
	    : -1;
}

static int
check_job(const struct frame *f)
{
	struct msg_job j;
	size_t         i;

	memcpy(&j, f->data, sizeof(j));
	for (i = 0; i < TO_COUNT; i++)
		if (j.timeout[i] == 0)
			return -1;
	if (j.sts_timeout == 0 || j.sts_timeout > 3600)
		return -1;
	return (j.flags &
	           ~(JOB_VERBOSE | JOB_QUIET | JOB_DANE_ONLY | JOB_JSON |
	               JOB_REQUIRE_AUTH | JOB_PROBE | JOB_STS_REFRESH |
	               JOB_TLSRPT))
	    ? -1
	    : 0;
}

static int
check_body(const struct frame *f)
{
	struct msg_body b;

	memcpy(&b, f->data, sizeof(b));
	/* the data ends in ".\r\n" (wire_size counts it) */
	if (b.size > b.wire_size || b.wire_size < 3)
		return -1;
	return (b.flags & ~JOB_8BIT) ? -1 : 0;
}

static int
check_mx_host(const struct frame *f)
{
	struct msg_mx_host h;
	size_t             n;

	memcpy(&h, f->data, sizeof(h));
	n = strnlen(h.name, sizeof(h.name));
	if (n == 0 || n == sizeof(h.name))
		return -1;
	return (h.flags & ~(MX_SECURE | MX_IMPLICIT)) ? -1 : 0;
}

static int
check_family(uint8_t family)
{
	return family == 4 || family == 6 ? 0 : -1;
}

static int
check_host_addr(const struct frame *f)
{
	struct msg_host_addr a;

	memcpy(&a, f->data, sizeof(a));
	if (check_family(a.family) == -1)
		return -1;
	return (a.flags & ~ADDR_SECURE) ? -1 : 0;
}

static int
check_connect_req(const struct frame *f)
{
	struct msg_connect_req r;

	memcpy(&r, f->data, sizeof(r));
	/* only SMTP, and HTTPS for an MTA-STS policy (net says when) */
	if (check_family(r.family) == -1 ||
	    (r.port != PORT_SMTP && r.port != PORT_HTTPS) || r.timeout == 0)
		return -1;
	/* the command line allows at most 3600 s per stage */
	if (r.timeout > 3600 || r.greeting > 3600)
		return -1;
	return 0;
}

static int
check_connect_ok(const struct frame *f)
{
	struct msg_connect_res r;

	memcpy(&r, f->data, sizeof(r));
	if (r.family != 0 && check_family(r.family) == -1)
		return -1;
	return r.error == 0 && r.flags == 0 ? 0 : -1;
}

/* A failure says why: an errno value, a reason, or both. */
static int
check_connect_fail(const struct frame *f)
{
	struct msg_connect_res r;

	memcpy(&r, f->data, sizeof(r));
	if (r.error < 0 || (r.flags & ~CONN_PROXY_DOWN))
		return -1;
	return r.error != 0 || f->len > sizeof(r) + 1 ? 0 : -1;
}

/* A NUL-terminated string filling at most its array. */
static int
check_cstr(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL ? 0 : -1;
}

static int
check_mx_info(const struct frame *f)
{
	struct msg_mx_info m;

	memcpy(&m, f->data, sizeof(m));
	if (check_cstr(m.expanded, sizeof(m.expanded)) == -1)
		return -1;
	return (m.flags & ~(MXI_SECURE | MXI_VALIDATING)) ? -1 : 0;
}

static int
check_host_policy(const struct frame *f)
{
	struct msg_host_policy p;

	memcpy(&p, f->data, sizeof(p));
	if (p.policy >= POLICY_COUNT ||
	    (p.flags & ~(HP_ADDR_SECURE | HP_CNAME)))
		return -1;
	if (check_cstr(p.base, sizeof(p.base)) == -1 ||
	    check_cstr(p.expanded, sizeof(p.expanded)) == -1 ||
	    check_cstr(p.reason, sizeof(p.reason)) == -1)
		return -1;
	/*
	 * DANE and TLS-only name the base domain their records came from;
	 * DANE means some usable record (carried or not: tls then fails
	 * closed), TLS-only means none; the others carry no records.
	 */
	if (p.policy <= POLICY_TLS && p.base[0] == '\0')
		return -1;
	if (p.policy == POLICY_DANE)
		return p.nusable > 0 ? 0 : -1;
	if (p.policy == POLICY_TLS)
		return p.nusable == 0 ? 0 : -1;
	return p.ntlsa == 0 && p.nusable == 0 ? 0 : -1;
}
