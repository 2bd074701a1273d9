/*
 * The pieces of the dns process (dns_main() is in proc.h):
 *
 *   query.c   queries and waves: sockets, UDP then TCP (D3, D5)
 *   answer.c  what an answer says: secure, insecure, absent or an error,
 *             CNAME chains, MX records (D2, D4, M2-M9)
 *   policy.c  what RFC 7672 makes of one host's answers (T1-T7, B1-B3)
 *   tell.c    the frames that carry answers and decisions to tls
 *   wire.c    the message walked before ldns parses it (D5)
 *   txt.c     the MTA-STS and TLS-RPT TXT records of the MX wave (Y16)
 *   dns.c     the entry point: initialise, lock down, serve requests
 */
#ifndef MXC_DNS_H
#define MXC_DNS_H

#include <sys/types.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "proc.h"

#define MX_HOSTS_MAX 32   /* more than any real domain publishes */
#define EDNS_BUFSIZE 1232 /* DNS flag day 2020 */
#define QUERY_TRIES  2    /* per query, over the resolvers in turn */
#define NS_MAX       RESOLVERS_MAX
#define CNAME_MAX    8 /* links followed in one answer */
#define WAVE_MAX     4 /* queries in one wave */

struct answer {
	enum dns_status status; /* OK, NODATA, NXDOMAIN or a lookup error */
	int             secure; /* AD: the whole answer validated */
	int             cname;  /* the name is a CNAME (chain followed) */
	char            final[NAME_MAX_LEN + 2]; /* end of the chain */
	const char     *why;                     /* for lookup errors */
	ldns_pkt       *pkt;
};

struct query {
	char name[NAME_MAX_LEN + 2]; /* absolute: search lists never apply */
	ldns_rr_type  type;
	int           fd;
	int           tcp; /* 0 UDP, 1 connecting, 2 reading */
	uint16_t      id;
	int           tries;
	long long     deadline;
	uint8_t      *wire;
	size_t        wirelen;
	uint8_t       lenbuf[2];
	uint8_t      *tcpbuf;
	size_t        tcpneed, tcpgot;
	int           done;
	int           abandoned; /* given up by run_wave(): no answer */
	struct answer ans;
};

struct resolver {
	struct sockaddr_storage addr[NS_MAX];
	socklen_t               len[NS_MAX];
	int                     n;
	int                     timeout; /* seconds per try */
};

struct dns {
	struct chan     parent, tls;
	struct resolver res;
	const char     *probe;  /* DNSSEC probe name (D6), NULL: none */
	int             probed; /* the probe has run */
	int             validating;
	int             mx_secure; /* of the last MX answer (M6, T1) */
	int             waves;     /* resolver round trips so far */
};

/* The queries of one host's wave. */
enum { Q_AAAA, Q_A, Q_TLSA };

/* run_wave(): 1 once the answers still missing no longer matter. */
typedef int (*wave_enough)(struct query *, size_t);

/* query.c */
void query_start(struct dns *, struct query *, const char *, ldns_rr_type);
void query_free(struct query *);
int  reply_matches(const struct query *, const ldns_pkt *);
void run_wave(struct dns *, struct query *, size_t, wave_enough);

/* txt.c */
void txt_start(struct dns *, struct query *, const char *);
void txt_tell(struct dns *, uint32_t, const struct query *);

/* wire.c */
ldns_pkt *wire_parse(const uint8_t *, size_t);

/* answer.c */
void                classify(struct query *, ldns_pkt *);
int                 dname_text(const ldns_rdf *, char *, size_t);
void                copy_name(char *, size_t, const char *);
int                 valid_target(const char *);
size_t              order_mx(struct msg_mx_host *, size_t);
struct msg_mx_host *mx_slot(struct msg_mx_host **, size_t);
enum dns_status     collect_mx(
        const struct answer *, struct msg_mx_host **, size_t *);
int lookup_error(const struct answer *);

/* policy.c */
void            note_probe(struct dns *, const struct query *);
int             enough_host(struct query *, size_t);
enum dns_status addr_status(
    const char *, const struct query *, struct msg_host_policy *);
void decide_tls(struct dns *, uint32_t, const char *, struct query *, size_t,
    struct msg_host_policy *);

/* tell.c */
void   send_frame(struct dns *, uint32_t, uint32_t, const void *, size_t);
void   send_end(struct dns *, uint32_t, uint32_t, enum dns_status, uint32_t);
size_t send_addrs(struct dns *, uint32_t, const struct answer *, ldns_rr_type);
size_t send_tlsa(
    struct dns *, uint32_t, const struct answer *, struct msg_host_policy *);

#endif
