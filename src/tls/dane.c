/*
 * DANE authentication of the server's certificate chain, by hand with
 * libcrypto: libtls has no DANE API (PROTOCOL.md A12).
 *
 * OpenSSL's own DANE code in X509_STORE_CTX is not used.  It is driven by
 * an SSL_DANE that only an SSL object can fill (SSL_dane_enable,
 * SSL_dane_tlsa_add), so it would need a throw-away SSL_CTX and SSL in
 * the sandbox, and X509_STORE_CTX_set0_dane() is libssl's hook.  Here
 * every rule is a few visible lines: DANE-EE is a byte comparison, and
 * DANE-TA is X509_verify_cert() with the matched certificate as the only
 * trust anchor, then X509_check_host().
 *
 * Runs after lock-down: no files (an empty X509_STORE, no default paths,
 * no configuration), no threads, only memory.  Every call leaves
 * OpenSSL's error queue empty, so nothing leaks into libtls's errors.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "dane.h"

/* How far one record got; a higher value is the better reason to give. */
enum outcome {
	NO_MATCH,  /* no certificate or key matched the record */
	LEAF_TA,   /* a DANE-TA record matched only the leaf */
	BAD_CHAIN, /* a trust anchor matched, the chain to it fails */
	BAD_NAME,  /* the chain verifies, no reference identifier matches */
	AUTHENTICATED
};

struct verdict {
	enum outcome outcome;
	int          verr;  /* X509_V_ERR_* for BAD_CHAIN */
	int          depth; /* of the trust anchor */
};

struct peer {
	STACK_OF(X509) * chain; /* leaf first, 1..DANE_CHAIN_MAX */
	const char *const *names;
	size_t             nnames;
};

/* Digest agility (A3): the strongest digest per (usage, selector). */
struct strongest {
	int rank[2][2];
};

typedef int keep_fn(const struct tlsa *, const struct strongest *);

/* A1, A2: the rule dns decided the policy with (tlsa.c). */
static int
record_usable(const struct tlsa *r)
{
	return tlsa_usable(r->usage, r->selector, r->mtype, r->data, r->len);
}

/* SHA2-512 outranks SHA2-256; Full(0) is no digest and always stays. */
static int
digest_rank(uint8_t mtype)
{
	if (mtype == TLSA_MTYPE_SHA512)
		return 2;
	if (mtype == TLSA_MTYPE_SHA256)
		return 1;
	return 0;
}

static int
keep_usable(const struct tlsa *r, const struct strongest *s)
{
	(void)s;
	return record_usable(r);
}

/* Called on usable records only, so the indexes are in range. */
static int
keep_strongest(const struct tlsa *r, const struct strongest *s)
{
	return r->mtype == TLSA_MTYPE_FULL ||
	    digest_rank(r->mtype) ==
	    s->rank[r->usage - TLSA_USAGE_DANE_TA][r->selector];
}

/* Move what keep() accepts to the front; kept records stay in order. */
static size_t
partition(struct tlsa *v, size_t n, keep_fn *keep, const struct strongest *s)
{
	struct tlsa tmp;
	size_t      i, k = 0;

	for (i = 0; i < n; i++) {
		if (!keep(&v[i], s))
			continue;
		tmp = v[k];
		v[k++] = v[i];
		v[i] = tmp;
	}
	return k;
}

size_t
tlsa_select(struct tlsa *v, size_t n)
{
	struct strongest s;
	size_t           i;
	int             *rank;

	memset(&s, 0, sizeof(s));
	/* unusable records first, so a malformed SHA2-512 suppresses nothing */
	n = partition(v, n, keep_usable, &s);
	for (i = 0; i < n; i++) {
		rank = &s.rank[v[i].usage - TLSA_USAGE_DANE_TA][v[i].selector];
		if (digest_rank(v[i].mtype) > *rank)
			*rank = digest_rank(v[i].mtype);
	}
	n = partition(v, n, keep_strongest, &s);
	ERR_clear_error();
	return n;
}

void
tlsa_format(const struct tlsa *r, char *buf, size_t size)
{
	size_t i;
	int    off;

	if (size == 0)
		return;
	off = snprintf(buf, size, "%u %u %u", r->usage, r->selector, r->mtype);
	for (i = 0; r->data != NULL && i < r->len && i < 8; i++) {
		if (off < 0 || (size_t)off >= size)
			return;
		off += snprintf(
		    buf + off, size - off, "%s%02x", i ? "" : " ", r->data[i]);
	}
	if (r->len > 8 && off >= 0 && (size_t)off < size)
		snprintf(buf + off, size - off, "...");
}

/* The certificate is never encrypted; refuse instead of prompting. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * PEM_read_bio_X509, not the _AUX variant: trust settings must never
 * come from the peer.  The loop ends with PEM_R_NO_START_LINE at the end
 * of the text; any other error is a malformed certificate.  want: the
 * certificates needed, 0 for all; DANE-EE(3) needs the leaf only, and
 * whatever follows it is never looked at (RFC 7672 §3.1.1), which also
 * spares decoding each of them (a tenth of a delivery's instructions).
 */
int
read_chain(const char *pem, size_t pemlen, size_t want, STACK_OF(X509) * chain,
    const char **why)
{
	BIO          *bio;
	X509         *x;
	unsigned long e;
	int           rv = -1;

	*why = "empty or oversized peer chain";
	if (pem == NULL || pemlen == 0 || pemlen > INT_MAX)
		return -1;
	*why = "out of memory";
	if ((bio = BIO_new_mem_buf(pem, (int)pemlen)) == NULL)
		return -1;
	while ((x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
		*why = "peer chain has too many certificates";
		if (sk_X509_num(chain) == DANE_CHAIN_MAX ||
		    !sk_X509_push(chain, x)) {
			X509_free(x);
			goto out;
		}
		if ((size_t)sk_X509_num(chain) == want) {
			rv = 0;
			goto out;
		}
	}
	e = ERR_peek_last_error();
	*why = "malformed certificate in the peer chain";
	if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
		goto out;
	*why = "peer chain has no certificate";
	if (sk_X509_num(chain) > 0)
		rv = 0;
out:
	BIO_free(bio);
	return rv;
}

/* DER of what the selector names: the certificate or its SPKI. */
static int
selected_der(X509 *x, uint8_t selector, unsigned char **der)
{
	*der = NULL;
	if (selector == TLSA_SEL_CERT)
		return i2d_X509(x, der);
	return i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), der);
}

static int
data_matches(const struct tlsa *r, const unsigned char *der, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int  mdlen;
	const EVP_MD *type;

	switch (r->mtype) {
	case TLSA_MTYPE_FULL:
		return len == r->len && memcmp(der, r->data, len) == 0;
	case TLSA_MTYPE_SHA256:
		type = EVP_sha256();
		break;
	case TLSA_MTYPE_SHA512:
		type = EVP_sha512();
		break;
	default:
		return 0;
	}
	if (!EVP_Digest(der, len, md, &mdlen, type, NULL))
		return 0;
	return mdlen == r->len && memcmp(md, r->data, mdlen) == 0;
}

static int
cert_matches(X509 *x, const struct tlsa *r)
{
	unsigned char *der;
	int            len, ok;

	if ((len = selected_der(x, r->selector, &der)) <= 0)
		return 0;
	ok = data_matches(r, der, (size_t)len);
	OPENSSL_free(der);
	return ok;
}

static struct verdict
verdict(enum outcome outcome, int verr, int depth)
{
	struct verdict v = { outcome, verr, depth };

	return v;
}

static void
keep_best(struct verdict *best, struct verdict v)
{
	if (v.outcome > best->outcome)
		*best = v;
}

/*
 * RFC 5280 §6.1 takes a trust anchor as a name and a key: the dates that
 * count are those of the certificates it issued (A5).  OpenSSL also
 * checks the anchor certificate's own dates; forgive exactly that.
 */
static int
anchor_dates_cb(int ok, X509_STORE_CTX *ctx)
{
	X509 *ta = X509_STORE_CTX_get_app_data(ctx);
	STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	int   err = X509_STORE_CTX_get_error(ctx);

	if (ok || ta == NULL || cur == NULL || built == NULL)
		return ok;
	if (err != X509_V_ERR_CERT_HAS_EXPIRED &&
	    err != X509_V_ERR_CERT_NOT_YET_VALID)
		return 0;
	return X509_STORE_CTX_get_error_depth(ctx) == sk_X509_num(built) - 1 &&
	    X509_cmp(cur, ta) == 0;
}

/*
 * A verification context for chain (leaf first) as a TLS server's: the
 * leaf is the target, the rest untrusted helpers (*untrusted, for the
 * caller to free after the context).  NULL if out of memory.  DANE-TA
 * and MTA-STS's WebPKI check (pkix.c) differ only in store and flags.
 */
X509_STORE_CTX *
server_chain_ctx(
    X509_STORE *store, STACK_OF(X509) * chain, STACK_OF(X509) * *untrusted)
{
	X509_STORE_CTX *ctx;

	if ((*untrusted = sk_X509_dup(chain)) == NULL)
		return NULL;
	(void)sk_X509_shift(*untrusted); /* the leaf is the target */
	if ((ctx = X509_STORE_CTX_new()) == NULL)
		return NULL;
	if (!X509_STORE_CTX_init(
	        ctx, store, sk_X509_value(chain, 0), *untrusted) ||
	    !X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER)) {
		X509_STORE_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * X509_verify_cert() with ta as the one trust anchor: a fresh store that
 * holds only ta (no default paths, no system CAs), PARTIAL_CHAIN so an
 * intermediate can anchor.  It checks signatures, dates, CA flags and
 * path lengths (the anchor's too) and the TLS server purpose, as
 * OpenSSL's own DANE-TA does.  dateless: the anchor whose own dates are
 * forgiven, or NULL.  *top: the anchor's depth in the verified chain.
 */
static int
verify_to(STACK_OF(X509) * chain, X509 *ta, X509 *dateless, int *top, int *verr)
{
	X509_STORE     *store;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	int ok = 0;

	*verr = X509_V_ERR_OUT_OF_MEM;
	if ((store = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(store, ta) ||
	    (ctx = server_chain_ctx(store, chain, &untrusted)) == NULL)
		goto out;
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_verify_cb(ctx, anchor_dates_cb);
	X509_STORE_CTX_set_app_data(ctx, dateless);
	ok = X509_verify_cert(ctx) == 1;
	*verr = ok ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	*top = sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) - 1;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return ok;
}

/*
 * A6: SAN dNSNames when there are any, else the CN (OpenSSL's default);
 * a wildcard only as a whole left-most label matching one label.
 */
static struct verdict
check_names(const struct peer *p, int depth)
{
	X509       *leaf = sk_X509_value(p->chain, 0);
	const char *name;
	size_t      i, len;

	for (i = 0; i < p->nnames; i++) {
		if ((name = p->names[i]) == NULL)
			continue;
		len = strlen(name);
		/* certificates never carry the root's trailing dot */
		if (len > 1 && name[len - 1] == '.')
			len--;
		if (len > 0 &&
		    X509_check_host(leaf, name, len,
		        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1)
			return verdict(AUTHENTICATED, 0, depth);
	}
	return verdict(BAD_NAME, 0, depth);
}

/*
 * The chain up to the certificate ta.  A chain that never reaches a
 * certificate known only from DNS simply does not match it.
 */
static struct verdict
anchor_cert(const struct peer *p, X509 *ta, int from_dns)
{
	int top = -1, verr;

	if (!verify_to(p->chain, ta, ta, &top, &verr)) {
		if (from_dns &&
		    (verr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		        verr == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
		        verr == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN))
			return verdict(NO_MATCH, 0, 0);
		return verdict(BAD_CHAIN, verr, 0);
	}
	/* the anchor must issue the leaf; the leaf alone is no anchor */
	if (top < 1)
		return verdict(LEAF_TA, 0, 0);
	return check_names(p, top);
}

/* 2 0 0: the anchor may appear only in DNS (A5, RFC 7671 §5.2.2). */
static struct verdict
dns_cert(const struct peer *p, const struct tlsa *r)
{
	const unsigned char *d = r->data;
	X509                *ta;
	struct verdict       v;

	if ((ta = d2i_X509(NULL, &d, (long)r->len)) == NULL)
		return verdict(NO_MATCH, 0, 0);
	v = anchor_cert(p, ta, 1);
	X509_free(ta);
	return v;
}

/*
 * 2 1 0 with the key only in DNS: check that the topmost certificate sent
 * is signed by it (A5, RFC 7671 §5.2.3).  That certificate then anchors
 * the rest; being issued by the key, its own dates count.  The key sits
 * one level above it.
 */
static struct verdict
dns_key(const struct peer *p, const struct tlsa *r)
{
	const unsigned char *d = r->data;
	X509     *top = sk_X509_value(p->chain, sk_X509_num(p->chain) - 1);
	EVP_PKEY *key;
	int       signed_by, depth = -1, verr;

	if ((key = d2i_PUBKEY(NULL, &d, (long)r->len)) == NULL)
		return verdict(NO_MATCH, 0, 0);
	signed_by = X509_verify(top, key) == 1;
	EVP_PKEY_free(key);
	if (!signed_by)
		return verdict(NO_MATCH, 0, 0);
	if (!verify_to(p->chain, top, NULL, &depth, &verr))
		return verdict(BAD_CHAIN, verr, 0);
	return check_names(p, depth + 1);
}

/* A4: the leaf only; no names, no dates, the rest of the chain ignored. */
static struct verdict
try_ee(const struct peer *p, const struct tlsa *r)
{
	if (cert_matches(sk_X509_value(p->chain, 0), r))
		return verdict(AUTHENTICATED, 0, 0);
	return verdict(NO_MATCH, 0, 0);
}

/*
 * A5: a DANE-TA record names an issuer of the server's certificate, so
 * it is matched above the leaf (as OpenSSL does), then for Full(0) data
 * as a certificate or key that DNS alone carries.
 */
static struct verdict
try_ta(const struct peer *p, const struct tlsa *r)
{
	struct verdict best = verdict(NO_MATCH, 0, 0);
	int            i;

	if (cert_matches(sk_X509_value(p->chain, 0), r))
		best.outcome = LEAF_TA;
	for (i = 1; i < sk_X509_num(p->chain); i++) {
		if (best.outcome == AUTHENTICATED)
			return best;
		if (cert_matches(sk_X509_value(p->chain, i), r))
			keep_best(&best,
			    anchor_cert(p, sk_X509_value(p->chain, i), 0));
	}
	if (best.outcome != AUTHENTICATED && r->mtype == TLSA_MTYPE_FULL)
		keep_best(&best,
		    r->selector == TLSA_SEL_CERT ? dns_cert(p, r)
		                                 : dns_key(p, r));
	return best;
}

static const char *
explain(const struct verdict *v, size_t usable, const struct peer *p)
{
	static char buf[512];

	switch (v->outcome) {
	case AUTHENTICATED:
		return "authenticated by a TLSA record";
	case NO_MATCH:
		return usable == 0
		    ? "no usable TLSA records"
		    : "no TLSA record matches the server's certificate";
	case LEAF_TA:
		return "a DANE-TA record matches only the server's own certificate, not an issuer";
	case BAD_CHAIN:
		snprintf(buf, sizeof(buf), "DANE-TA chain does not verify: %s",
		    X509_verify_cert_error_string(v->verr));
		return buf;
	case BAD_NAME:
	default:
		if (p->nnames == 0 || p->names[0] == NULL)
			return "no reference identifier for the name check";
		snprintf(buf, sizeof(buf),
		    "certificate name does not match %.253s%s", p->names[0],
		    p->nnames > 1 ? " nor the other reference identifiers"
		                  : "");
		return buf;
	}
}

/* 1 when every usable record is DANE-EE: the leaf decides alone. */
static size_t
chain_wanted(const struct tlsa *r, size_t n)
{
	size_t i;

	for (i = 0; r != NULL && i < n; i++)
		if (r[i].usage == TLSA_USAGE_DANE_TA && record_usable(&r[i]))
			return 0;
	return 1;
}

int
dane_verify(const char *pem, size_t pemlen, const struct tlsa *r, size_t n,
    const char *const *names, size_t nnames, int *match, int *depth,
    const char **why)
{
	struct peer    p = { NULL, names, nnames };
	struct verdict best = verdict(NO_MATCH, 0, 0), v;
	size_t         i, usable = 0;
	int            rv;

	*match = -1;
	*depth = -1;
	ERR_clear_error();
	*why = "out of memory";
	if ((p.chain = sk_X509_new_null()) == NULL)
		return -1;
	if ((rv = read_chain(pem, pemlen, chain_wanted(r, n), p.chain, why)) ==
	    0) {
		/* A7: any usable record will do; never a PKIX fallback (A12) */
		for (i = 0; r != NULL && i < n && best.outcome != AUTHENTICATED;
		     i++) {
			if (!record_usable(&r[i]))
				continue;
			usable++;
			v = r[i].usage == TLSA_USAGE_DANE_EE
			    ? try_ee(&p, &r[i])
			    : try_ta(&p, &r[i]);
			if (v.outcome > best.outcome) {
				best = v;
				*match = (int)i;
			}
		}
		rv = best.outcome == AUTHENTICATED;
		*depth = rv ? best.depth : -1;
		*why = explain(&best, usable, &p);
	}
	sk_X509_pop_free(p.chain, X509_free);
	ERR_clear_error();
	return rv;
}
