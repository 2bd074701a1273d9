/*
 * One SMTP session, shared by the files that run it: smtp.c (replies,
 * the greeting, EHLO, the session as a whole), starttls.c (STARTTLS and
 * DANE) and mail.c (MAIL, RCPT, DATA and the message).
 */
#ifndef MXC_SESSION_H
#define MXC_SESSION_H

#include "delivery.h"

/* How reading a reply went. */
enum rd {
	RD_OK,    /* a whole, well-formed reply */
	RD_LOST,  /* the connection failed or timed out */
	RD_BROKEN /* the server broke the protocol (malformed reply) */
};

/*
 * What a reply to the greeting, EHLO, HELO or STARTTLS means: only the
 * one code the command expects lets the session go on (RFC 5321
 * §4.1.1.1 and §4.2.5: 250, not any 2xx; RFC 3207 §4: 220); 221 and 421
 * say the server is closing the channel (§3.8, §4.2.2); another 4xx or
 * 5xx is a refusal; anything else (another 2xx, a 3xx such as 354 to
 * STARTTLS) breaks the protocol (S3, P3).
 */
enum reply_class { RC_OK, RC_REFUSED, RC_CLOSING, RC_BROKEN };

struct session {
	struct delivery   *d;
	struct conn        conn;
	const char        *host;
	const struct host *h;
	char               where[NAME_MAX_LEN + 64]; /* host [addr] */
	char               helo[NAME_MAX_LEN + 64];
	struct ehlo        ehlo;
	struct reply       reply;
	int                tls;           /* STARTTLS done */
	int                authenticated; /* DANE matched */
	int                sts_verified;  /* MTA-STS: WebPKI-valid for the MX */
	char               match[120];    /* the TLSA record that matched */
	char               rpt_type[40];  /* TLS-RPT result of a failure */
	int                data_sent;     /* the final "." went out */
	int                dot_announced; /* the parent knows it may */
	int                dot_maybe;     /* a failed write may have sent it */
	int                quit_sent;     /* QUIT went out behind it */
	char               decisive[512]; /* the reply that decided */
	char               esc[16];       /* its enhanced status code */
};

/* smtp.c */
int         send_line(struct session *, const char *, enum timeout_stage);
enum rd     read_reply(struct session *, int, const char **);
const char *reply_first(const struct session *);
void        keep_decisive(struct session *);
void        quit(struct session *);
int         tls_required(const struct session *);
const char *tls_required_by(const struct session *);
enum step   io_failure(struct session *, enum rd, const char *, const char *);
enum step   failed(struct session *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
enum reply_class reply_class(int, int);
enum step        unexpected(struct session *, const char *, enum reply_class);
enum step        command(
           struct session *, const char *, enum timeout_stage, const char *);
enum step   ehlo(struct session *);
const char *security_level(const struct session *);

/* starttls.c */
enum step starttls(struct session *);

/* mail.c */
enum step transaction(struct session *);

#endif
