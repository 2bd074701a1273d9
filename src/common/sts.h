/*
 * MTA-STS (RFC 8461) parsers: the _mta-sts TXT record (§3.1), the policy
 * body (§3.2), MX host matching (§4.1) and the policy cache record that
 * one process writes and another reads back.  sts.c and sts_cache.c; no
 * I/O, no state: safe in any sandbox.  Rules Y1-Y9.
 */
#ifndef MXC_STS_H
#define MXC_STS_H

#include <stddef.h>
#include <stdint.h>

#define STS_ID_MAX   32
#define STS_BODY_MAX 65536 /* RFC 8461 §3.3: policy body limit */
/*
 * As many mx patterns as a policy of STS_BODY_MAX octets can hold
 * ("mx:a.b" and a line end, 7 octets, is the shortest line): no valid
 * policy is ever refused or cut short for its number of patterns (Y5).
 */
#define STS_MX_MAX      (STS_BODY_MAX / 7 + 1)
#define STS_NAME_MAX    255
#define STS_MAX_AGE_MAX 31557600
#define STS_LINE_MAX    1000 /* octets of a policy line, line end excluded */

enum sts_mode { STS_MODE_NONE = 0, STS_MODE_TESTING, STS_MODE_ENFORCE };

enum sts_txt {
	STS_TXT_OK,      /* a valid v=STSv1 record; id filled in */
	STS_TXT_NOT_STS, /* does not start with v=STSv1: to be ignored */
	STS_TXT_BAD      /* starts with v=STSv1 but is malformed */
};
/*
 * RFC 8461 §3.1: one TXT record, its character-strings concatenated.
 * id is "" unless STS_TXT_OK.  Of a domain's records, every one that is
 * not STS_TXT_NOT_STS counts: unless exactly one counts and it is
 * STS_TXT_OK, the domain has no usable policy.
 */
enum sts_txt sts_txt_parse(
    const uint8_t *txt, size_t len, char id[STS_ID_MAX + 1]);

struct sts_policy {
	enum sts_mode mode;
	uint32_t      max_age;
	size_t        nmx;
	size_t        mxlen;             /* octets of mxtext in use */
	uint32_t      mxoff[STS_MX_MAX]; /* where pattern i starts in mxtext */
	/* the patterns, lower-case, each with its NUL, in policy order:
	 * never more octets than the policy text had, plus one */
	char mxtext[STS_BODY_MAX + 2];
};
/* Pattern i (< nmx) of a policy. */
const char *sts_mx(const struct sts_policy *, size_t i);
/* Append a pattern of len octets, lower-cased: 0, or -1 if full. */
int sts_mx_add(struct sts_policy *, const char *, size_t len);
enum sts_perr {
	STS_P_OK = 0,
	STS_P_SYNTAX,
	STS_P_VERSION,
	STS_P_MODE,
	STS_P_MAX_AGE,
	STS_P_NO_MX,
	STS_P_MX,
	STS_P_TOO_LARGE,
	STS_P_TOO_MANY,
	STS_P_DUPLICATE
};
/*
 * RFC 8461 §3.2, strict: the whole body text (CRLF or LF line ends).
 * On an error the policy is all zeroes.
 */
enum sts_perr sts_policy_parse(const char *, size_t, struct sts_policy *);
/* Plain words for users, e.g. "policy has no mx line". */
const char *sts_perr_text(enum sts_perr);
/*
 * RFC 8461 §4.1: 1 if MX host name mx (any case, one trailing dot or
 * none) matches one of the patterns, else 0.  "*.example.com" matches
 * exactly one more label: a.example.com, not a.b.example.com, not
 * example.com.
 */
int sts_mx_match(const struct sts_policy *, const char *mx);

/* The cache record of one policy domain (sts_cache.c). */
struct sts_cache {
	int64_t fetched; /* when the policy was fetched, 0 = never */
	int64_t expires; /* fetched + max_age */
	int64_t failed;  /* the last failed fetch, 0 = none */
	int64_t used;    /* when the policy was last used */
	char    id[STS_ID_MAX + 1];
	char    text[STS_BODY_MAX + 1]; /* the verbatim policy, "" if none */
	size_t  textlen;
	struct sts_policy pol; /* parsed from text, never read from a file */
};
/*
 * Octets written, or 0 if the record does not fit in outlen or could
 * never be read back (an id that is neither "" nor 1-32 letters and
 * digits, textlen over STS_BODY_MAX, a time below 0 or of more than 18
 * digits).  Nothing else is checked: the reader does that.
 */
size_t sts_cache_format(const struct sts_cache *, char *out, size_t outlen);
/*
 * 0, or -1 (and the record all zeroes) for anything malformed or
 * inconsistent: a missing or extra field, trailing octets, a bad id,
 * text that does not parse, expires != fetched + max_age.
 */
int sts_cache_parse(const uint8_t *in, size_t len, struct sts_cache *);
/*
 * The cache file's name for a policy domain: the lower-cased LDH name
 * (labels of 1-63 letters, digits and inner hyphens, at least two of
 * them, at most 253 octets, no trailing dot).  0, or -1 if domain is not
 * such a name or out (outlen octets) cannot hold it.
 */
int sts_cache_name(const char *domain, char *out, size_t outlen);

/* sts.c, for sts_cache.c: 1 if s is 1-32 letters and digits. */
int sts_id_valid(const char *s, size_t len);

#endif
