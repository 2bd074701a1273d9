/*
 * DANE authentication (dane.c): record selection (A1-A3), DANE-EE (A4),
 * DANE-TA chains and trust anchors (A5), name checks (A6), any record
 * matching (A7), no PKIX fallback (A12), and hostile input.  Keys and
 * certificates are made in memory (EC P-256); chains are PEM, leaf
 * first, as tls_peer_cert_chain_pem() gives them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CHECK_PROG "test_dane"
#include "check.h"
#include "dane.h"

#define CHAIN(...) ((X509 *const[]){ __VA_ARGS__, NULL })
#define RECS(...) \
	(struct tlsa[]){ __VA_ARGS__ }, \
	    sizeof((struct tlsa[]){ __VA_ARGS__ }) / sizeof(struct tlsa)
#define NAMES(...) \
	(const char *const[]){ __VA_ARGS__ }, \
	    sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *)
#define NONAMES NULL, 0

#define POOL_MAX 512

/* Everything made here, freed at the end so LeakSanitizer sees no leak. */
static void     *pool[POOL_MAX]; /* OPENSSL_malloc'd octets */
static X509     *certs[POOL_MAX];
static EVP_PKEY *keys[POOL_MAX];
static size_t    npool, ncerts, nkeys;

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "test_dane: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

static void *
keep(void *p)
{
	if (p == NULL || npool == POOL_MAX)
		die("keep");
	pool[npool++] = p;
	return p;
}

static EVP_PKEY *
newkey(void)
{
	EVP_PKEY *k;

	if (nkeys == POOL_MAX || (k = EVP_EC_gen("P-256")) == NULL)
		die("EVP_EC_gen");
	return keys[nkeys++] = k;
}

static void
free_all(void)
{
	while (npool > 0)
		OPENSSL_free(pool[--npool]);
	while (ncerts > 0)
		X509_free(certs[--ncerts]);
	while (nkeys > 0)
		EVP_PKEY_free(keys[--nkeys]);
}

struct spec {
	const char *cn;      /* subject CN, or NULL */
	const char *san;     /* subjectAltName value, or NULL */
	int         ca;      /* CA:TRUE */
	const char *pathlen; /* ",pathlen:0" or NULL */
	long        from;    /* notBefore, days from now */
	long        to;      /* notAfter, days from now */
	const char *eku; /* extendedKeyUsage of a leaf; serverAuth if NULL */
};

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX      v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL ||
	    !X509_add_ext(x, ext, -1))
		die("X509V3_EXT_conf_nid");
	X509_EXTENSION_free(ext);
}

static void
add_exts(X509 *x, X509 *issuer, const struct spec *s)
{
	char bc[64];

	snprintf(bc, sizeof(bc), "critical,CA:%s%s", s->ca ? "TRUE" : "FALSE",
	    s->pathlen ? s->pathlen : "");
	add_ext(x, issuer, NID_basic_constraints, bc);
	add_ext(x, issuer, NID_key_usage,
	    s->ca ? "critical,keyCertSign,cRLSign"
	          : "critical,digitalSignature");
	if (!s->ca)
		add_ext(x, issuer, NID_ext_key_usage,
		    s->eku ? s->eku : "serverAuth");
	if (s->san != NULL)
		add_ext(x, issuer, NID_subject_alt_name, s->san);
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer != x)
		add_ext(
		    x, issuer, NID_authority_key_identifier, "keyid:always");
}

/*
 * A certificate for key, issued by issuer (NULL: self-signed) and signed
 * with signer (NULL: the issuer's key, which the caller passes).
 */
static X509 *
mkcert(const struct spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer)
{
	static long serial = 1;
	X509       *x;
	X509_NAME  *name;

	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL)
		die("X509_new");
	if (s->cn != NULL &&
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	        (const unsigned char *)s->cn, -1, -1, 0))
		die("X509_NAME_add_entry_by_txt");
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(
	        x, issuer ? X509_get_subject_name(issuer) : name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), s->from * 86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), s->to * 86400) ||
	    !X509_set_pubkey(x, key))
		die("X509_set_*");
	X509_NAME_free(name);
	add_exts(x, issuer ? issuer : x, s);
	if (!X509_sign(x, signer ? signer : key, EVP_sha256()))
		die("X509_sign");
	if (ncerts == POOL_MAX)
		die("mkcert");
	return certs[ncerts++] = x;
}

/* The DER a selector names, in the pool. */
static size_t
der_of(X509 *x, int selector, const unsigned char **out)
{
	unsigned char *der = NULL;
	int            len;

	len = selector == TLSA_SEL_CERT
	    ? i2d_X509(x, &der)
	    : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len <= 0)
		die("i2d");
	*out = keep(der);
	return (size_t)len;
}

static struct tlsa
raw(int usage, int selector, int mtype, const void *data, size_t len)
{
	struct tlsa r;

	r.usage = (uint8_t)usage;
	r.selector = (uint8_t)selector;
	r.mtype = (uint8_t)mtype;
	r.data = data;
	r.len = len;
	return r;
}

/* The record "usage selector mtype" that x's data matches. */
static struct tlsa
rec(int usage, int selector, int mtype, X509 *x)
{
	const unsigned char *der;
	unsigned char       *md;
	unsigned int         mdlen;
	size_t               len = der_of(x, selector, &der);

	if (mtype == TLSA_MTYPE_FULL)
		return raw(usage, selector, mtype, der, len);
	md = keep(OPENSSL_malloc(EVP_MAX_MD_SIZE));
	if (!EVP_Digest(der, len, md, &mdlen,
	        mtype == TLSA_MTYPE_SHA512 ? EVP_sha512() : EVP_sha256(), NULL))
		die("EVP_Digest");
	return raw(usage, selector, mtype, md, mdlen);
}

/* Concatenated PEM, leaf first, like tls_peer_cert_chain_pem(). */
static char *
pem_of(X509 *const *chain, size_t *len)
{
	BIO  *bio;
	char *data, *copy;
	long  n;

	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		die("BIO_new");
	for (; *chain != NULL; chain++)
		if (!PEM_write_bio_X509(bio, *chain))
			die("PEM_write_bio_X509");
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || (copy = malloc((size_t)n)) == NULL)
		die("BIO_get_mem_data");
	memcpy(copy, data, (size_t)n);
	BIO_free(bio);
	*len = (size_t)n;
	return copy;
}

struct result {
	int         rv, match, depth;
	const char *why;
};

static struct result
verify_pem(const char *pem, size_t len, const struct tlsa *r, size_t n,
    const char *const *names, size_t nnames)
{
	struct result res;

	res.rv = dane_verify(
	    pem, len, r, n, names, nnames, &res.match, &res.depth, &res.why);
	return res;
}

static struct result
verify(X509 *const *chain, const struct tlsa *r, size_t n,
    const char *const *names, size_t nnames)
{
	struct result res;
	size_t        len;
	char         *pem = pem_of(chain, &len);

	res = verify_pem(pem, len, r, n, names, nnames);
	free(pem);
	return res;
}

/* Authenticated by record *match at trust anchor depth *depth. */
static void
pass(const char *name, int match, int depth, X509 *const *chain,
    const struct tlsa *r, size_t n, const char *const *names, size_t nnames)
{
	struct result res = verify(chain, r, n, names, nnames);

	CHECK(res.rv == 1 && res.match == match && res.depth == depth, name,
	    "rv %d match %d depth %d (want 1 %d %d): %s", res.rv, res.match,
	    res.depth, match, depth, res.why ? res.why : "(null)");
}

/* Not authenticated, and *why contains reason. */
static void
fail(const char *name, const char *reason, X509 *const *chain,
    const struct tlsa *r, size_t n, const char *const *names, size_t nnames)
{
	struct result res = verify(chain, r, n, names, nnames);

	CHECK(res.rv == 0 && res.why != NULL && strstr(res.why, reason) != NULL,
	    name, "rv %d why \"%s\" (want 0 and \"%s\")", res.rv,
	    res.why ? res.why : "(null)", reason);
}

/* The test's certificates. */
static EVP_PKEY *k_self, *k_ca, *k_int, *k_leaf, *k_other;
static X509 *self, *self_expired, *ca, *inter, *leaf, *leaf_wild, *leaf_partial,
    *leaf_cn, *leaf_san_cn, *leaf_expired, *inter_expired, *leaf_under_expired,
    *leaf_broken, *leaf_direct, *leaf_client, *leaf_by_leaf, *ca0, *inter0,
    *leaf0, *ca_expired, *leaf_old_ca, *other_ca, *other_leaf, *self_a, *self_b,
    *self_c;

static void
make_pki(void)
{
	const struct spec s_ca = { "Test Root CA", NULL, 1, NULL, -10, 3650,
		0 };
	const struct spec s_int = { "Test Intermediate", NULL, 1, NULL, -10,
		365, 0 };
	const struct spec s_org = { "mx.example.org", "DNS:mx.example.org", 0,
		NULL, -1, 90, 0 };
	const struct spec s_old = { "mx.example.org", "DNS:mx.example.org", 0,
		NULL, -30, -1, 0 };

	k_self = newkey();
	k_ca = newkey();
	k_int = newkey();
	k_leaf = newkey();
	k_other = newkey();
	self = mkcert(&s_org, k_self, NULL, NULL);
	self_expired = mkcert(&s_old, k_self, NULL, NULL);
	ca = mkcert(&s_ca, k_ca, NULL, NULL);
	inter = mkcert(&s_int, k_int, ca, k_ca);
	leaf = mkcert(&s_org, k_leaf, inter, k_int);
	leaf_expired = mkcert(&s_old, k_leaf, inter, k_int);
	/* issuer name and key identifier of inter, signed by another key */
	leaf_broken = mkcert(&s_org, k_leaf, inter, k_other);
	leaf_direct = mkcert(&s_org, k_leaf, ca, k_ca);
	self_a = mkcert(&s_org, newkey(), NULL, NULL);
	self_b = mkcert(&s_org, newkey(), NULL, NULL);
	self_c = mkcert(&s_org, newkey(), NULL, NULL);
	other_ca = mkcert(&s_ca, k_other, NULL, NULL);
	other_leaf = mkcert(&s_org, k_leaf, other_ca, k_other);
}

static void
make_names_and_limits(void)
{
	const struct spec s_wild = { NULL, "DNS:*.example.net", 0, NULL, -1, 90,
		0 };
	const struct spec s_part = { NULL, "DNS:m*.example.org", 0, NULL, -1,
		90, 0 };
	const struct spec s_cn = { "cn.example.org", NULL, 0, NULL, -1, 90, 0 };
	const struct spec s_sancn = { "mx.example.org", "DNS:other.example.org",
		0, NULL, -1, 90, 0 };
	const struct spec s_int_old = { "Old Intermediate", NULL, 1, NULL, -30,
		-1, 0 };
	const struct spec s_org = { "mx.example.org", "DNS:mx.example.org", 0,
		NULL, -1, 90, 0 };
	const struct spec s_client = { "mx.example.org", "DNS:mx.example.org",
		0, NULL, -1, 90, "clientAuth" };
	const struct spec s_ca0 = { "Pathlen 0 CA", NULL, 1, ",pathlen:0", -10,
		3650, 0 };
	const struct spec s_int0 = { "Under Pathlen 0", NULL, 1, NULL, -10, 365,
		0 };
	const struct spec s_ca_old = { "Expired Root CA", NULL, 1, NULL, -3650,
		-1, 0 };
	EVP_PKEY         *k;

	leaf_wild = mkcert(&s_wild, k_leaf, inter, k_int);
	leaf_partial = mkcert(&s_part, k_leaf, inter, k_int);
	leaf_cn = mkcert(&s_cn, k_leaf, inter, k_int);
	leaf_san_cn = mkcert(&s_sancn, k_leaf, inter, k_int);
	leaf_client = mkcert(&s_client, k_leaf, inter, k_int);
	/* a leaf (CA:FALSE) used as an issuer */
	leaf_by_leaf = mkcert(&s_org, newkey(), leaf, k_leaf);
	k = newkey();
	inter_expired = mkcert(&s_int_old, k, ca, k_ca);
	leaf_under_expired = mkcert(&s_org, k_leaf, inter_expired, k);
	k = newkey();
	ca0 = mkcert(&s_ca0, k, NULL, NULL);
	inter0 = mkcert(&s_int0, k_int, ca0, k);
	leaf0 = mkcert(&s_org, k_leaf, inter0, k_int);
	k = newkey();
	ca_expired = mkcert(&s_ca_old, k, NULL, NULL);
	leaf_old_ca = mkcert(&s_org, k_leaf, ca_expired, k);
}

static int
same(const struct tlsa *a, const struct tlsa *b)
{
	return a->usage == b->usage && a->selector == b->selector &&
	    a->mtype == b->mtype && a->len == b->len && a->data == b->data;
}

/* tlsa_select() of one record keeps it (1) or drops it (0). */
/*
 * tls keeps what dns counts as usable: the one function tlsa_usable()
 * decides both (A1), so a record can never be "DANE required" in dns and
 * "no usable record" in tls.
 */
static void
select_one(const char *name, int want, struct tlsa r)
{
	int    dns = tlsa_usable(r.usage, r.selector, r.mtype, r.data, r.len);
	size_t n = tlsa_select(&r, 1);

	CHECK(n == (size_t)want && dns == want, name,
	    "kept %zu, dns says %d, want %d", n, dns, want);
}

static void
test_select_usable(void)
{
	static const unsigned char junk[64] = { 0x30, 0x03, 0x02, 0x01 };
	const unsigned char       *der;
	size_t                     len = der_of(leaf, TLSA_SEL_CERT, &der);
	unsigned char             *trail;
	char                       name[80];
	int                        u, s, m;

	for (u = 2; u <= 3; u++)
		for (s = 0; s <= 1; s++)
			for (m = 0; m <= 2; m++) {
				snprintf(name, sizeof(name),
				    "A1 usable record %d %d %d is kept", u, s,
				    m);
				select_one(name, 1, rec(u, s, m, leaf));
			}
	select_one("A2 PKIX-TA(0) record is unusable", 0, rec(0, 0, 1, ca));
	select_one("A2 PKIX-EE(1) record is unusable", 0, rec(1, 1, 1, leaf));
	select_one(
	    "A1 PrivCert usage 255 is unusable", 0, rec(255, 1, 1, leaf));
	select_one("A1 unknown usage 4 is unusable", 0, rec(4, 1, 1, leaf));
	select_one(
	    "A1 PrivSel selector 255 is unusable", 0, raw(3, 255, 1, junk, 32));
	select_one(
	    "A1 unknown selector 2 is unusable", 0, raw(3, 2, 1, junk, 32));
	select_one("A1 PrivMatch matching type 255 is unusable", 0,
	    raw(3, 1, 255, junk, 32));
	select_one("A1 unknown matching type 3 is unusable", 0,
	    raw(3, 1, 3, junk, 48));
	select_one("A1 SHA2-256 data of 31 octets is unusable", 0,
	    raw(3, 1, 1, junk, 31));
	select_one("A1 SHA2-256 data of 64 octets is unusable", 0,
	    raw(3, 1, 1, junk, 64));
	select_one("A1 SHA2-512 data of 32 octets is unusable", 0,
	    raw(3, 1, 2, junk, 32));
	select_one("A1 digest record without data is unusable", 0,
	    raw(3, 1, 1, NULL, 32));
	select_one("A1 Full(0) certificate that does not parse is unusable", 0,
	    raw(3, 0, 0, junk, sizeof(junk)));
	select_one("A1 Full(0) SPKI that does not parse is unusable", 0,
	    raw(2, 1, 0, junk, sizeof(junk)));
	select_one(
	    "A1 Full(0) empty data is unusable", 0, raw(3, 0, 0, junk, 0));
	select_one("A1 Full(0) 3003020100 (a SEQUENCE and a trailing INTEGER) "
	           "is unusable",
	    0, raw(3, 0, 0, (const unsigned char *)"\x30\x03\x02\x01\x00", 5));
	trail = keep(OPENSSL_malloc(len + 1));
	memcpy(trail, der, len);
	trail[len] = 0;
	select_one("A1 Full(0) certificate with a trailing octet is unusable",
	    0, raw(3, 0, 0, trail, len + 1));
	select_one("A1 Full(0) SPKI given for selector Cert(0) is unusable", 0,
	    raw(3, 0, 0, rec(3, 1, 0, leaf).data, rec(3, 1, 0, leaf).len));
	CHECK(tlsa_select(NULL, 0) == 0,
	    "A1 selecting from no records keeps none", "kept some");
	CHECK(ERR_peek_error() == 0,
	    "tlsa_select leaves the OpenSSL error queue empty", "error %lx",
	    ERR_peek_error());
}

static void
test_select_agility(void)
{
	static const unsigned char junk[10];
	struct tlsa                v[6], want[6];
	size_t                     n;

	v[0] = want[0] = rec(3, 0, 1, leaf);
	v[1] = rec(0, 0, 1, ca);
	v[2] = want[1] = rec(3, 1, 0, leaf);
	v[3] = rec(3, 1, 255, leaf);
	n = tlsa_select(v, 4);
	CHECK(n == 2 && same(&v[0], &want[0]) && same(&v[1], &want[1]),
	    "A1 kept records come first in their original order", "kept %zu",
	    n);

	v[0] = rec(3, 1, 1, self_a);
	v[1] = want[0] = rec(3, 1, 2, self_b);
	v[2] = want[1] = rec(3, 1, 0, self_c);
	n = tlsa_select(v, 3);
	CHECK(n == 2 && same(&v[0], &want[0]) && same(&v[1], &want[1]),
	    "A3 SHA2-256 dropped when SHA2-512 exists for the same usage and "
	    "selector; Full(0) kept",
	    "kept %zu", n);

	v[0] = want[0] = rec(3, 1, 2, leaf);
	v[1] = want[1] = rec(3, 0, 1, leaf);
	v[2] = want[2] = rec(2, 1, 1, ca);
	v[3] = rec(2, 0, 1, ca);
	v[4] = want[3] = rec(2, 0, 2, ca);
	n = tlsa_select(v, 5);
	CHECK(n == 4 && same(&v[0], &want[0]) && same(&v[1], &want[1]) &&
	        same(&v[2], &want[2]) && same(&v[3], &want[3]),
	    "A3 digest agility applies per (usage, selector) pair", "kept %zu",
	    n);

	v[0] = want[0] = rec(3, 1, 1, leaf);
	v[1] = raw(3, 1, 2, junk, sizeof(junk));
	n = tlsa_select(v, 2);
	CHECK(n == 1 && same(&v[0], &want[0]),
	    "A3 a malformed SHA2-512 record does not suppress SHA2-256",
	    "kept %zu", n);
}

/* A3 end to end: select, then authenticate keys a, b, c. */
static void
test_agility_verify(void)
{
	struct tlsa v[3];
	size_t      n;

	v[0] = rec(3, 1, 1, self_a);
	v[1] = rec(3, 1, 2, self_b);
	v[2] = rec(3, 1, 0, self_c);
	n = tlsa_select(v, 3);
	fail("A3 key matching only the 3 1 1 record is refused when 3 1 2 "
	     "exists",
	    "no TLSA record matches", CHAIN(self_a), v, n, NONAMES);
	pass("A3 key matching the strongest digest 3 1 2 is accepted", 0, 0,
	    CHAIN(self_b), v, n, NONAMES);
	pass("A3 key matching a Full(0) record kept beside digests is accepted",
	    1, 0, CHAIN(self_c), v, n, NONAMES);
}

static void
test_ee(void)
{
	static const char *what[2][3] = {
		{ "A4 DANE-EE 3 0 0 matches the leaf certificate",
		    "A4 DANE-EE 3 0 1 matches the leaf certificate",
		    "A4 DANE-EE 3 0 2 matches the leaf certificate" },
		{ "A4 DANE-EE 3 1 0 matches the leaf public key",
		    "A4 DANE-EE 3 1 1 matches the leaf public key",
		    "A4 DANE-EE 3 1 2 matches the leaf public key" },
	};
	int s, m;

	for (s = 0; s <= 1; s++)
		for (m = 0; m <= 2; m++)
			pass(what[s][m], 0, 0, CHAIN(leaf, inter, ca),
			    RECS(rec(3, s, m, leaf)), NAMES("mx.example.org"));
	pass("A4 DANE-EE 3 1 1 matches a self-signed leaf", 0, 0, CHAIN(self),
	    RECS(rec(3, 1, 1, self)), NAMES("mx.example.org"));
	fail("A4 DANE-EE 3 1 1 for another key does not match",
	    "no TLSA record matches", CHAIN(self), RECS(rec(3, 1, 1, leaf)),
	    NAMES("mx.example.org"));
	fail("A4 DANE-EE 3 0 1 for another certificate with the same key does "
	     "not match",
	    "no TLSA record matches", CHAIN(self_expired),
	    RECS(rec(3, 0, 1, self)), NAMES("mx.example.org"));
	fail("A4 DANE-EE matches the leaf only, never an issuer",
	    "no TLSA record matches", CHAIN(leaf, inter, ca),
	    RECS(rec(3, 1, 1, inter), rec(3, 0, 1, ca)),
	    NAMES("mx.example.org"));
	pass("A4 DANE-EE ignores expiry of a self-signed leaf", 0, 0,
	    CHAIN(self_expired), RECS(rec(3, 0, 1, self_expired)),
	    NAMES("mx.example.org"));
	pass("A4 DANE-EE ignores expiry of a CA-issued leaf", 0, 0,
	    CHAIN(leaf_expired, inter, ca), RECS(rec(3, 1, 1, leaf_expired)),
	    NAMES("mx.example.org"));
	pass("A4 DANE-EE ignores a name mismatch", 0, 0, CHAIN(leaf, inter),
	    RECS(rec(3, 1, 1, leaf)), NAMES("nomatch.example.com"));
	pass("A4 DANE-EE needs no reference identifier", 0, 0, CHAIN(leaf),
	    RECS(rec(3, 1, 1, leaf)), NONAMES);
	pass("A4 DANE-EE ignores a broken chain signature", 0, 0,
	    CHAIN(leaf_broken, inter, ca), RECS(rec(3, 1, 1, leaf_broken)),
	    NAMES("mx.example.org"));
	pass("A4 DANE-EE ignores unrelated certificates in the chain", 0, 0,
	    CHAIN(self, ca0, leaf_cn), RECS(rec(3, 0, 2, self)),
	    NAMES("mx.example.org"));
}

static void
test_ta_in_chain(void)
{
	pass("A5 2 0 1 on the CA in the chain authenticates at depth 2", 0, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 0 2 on the CA in the chain authenticates", 0, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 0, 2, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 0 0 on the CA in the chain authenticates", 0, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 0, 0, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 1 1 on the CA public key authenticates", 0, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 1, 1, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 1 2 on the CA public key authenticates", 0, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 1, 2, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 1 0 on the CA public key in the chain authenticates", 0, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 1, 0, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 1 1 on the intermediate anchors at depth 1", 0, 1,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 1, 1, inter)),
	    NAMES("mx.example.org"));
	pass("A5 2 0 1 on the intermediate works without the root sent", 0, 1,
	    CHAIN(leaf, inter), RECS(rec(2, 0, 1, inter)),
	    NAMES("mx.example.org"));
	pass("A5 chain sent out of order still verifies", 0, 2,
	    CHAIN(leaf, ca, inter), RECS(rec(2, 0, 1, ca)),
	    NAMES("mx.example.org"));
	fail("A5 DANE-TA record matching only the leaf does not authenticate",
	    "matches only the server's own certificate", CHAIN(self),
	    RECS(rec(2, 0, 1, self)), NAMES("mx.example.org"));
	fail("A5 DANE-TA 2 0 0 equal to the server's own certificate does not "
	     "authenticate",
	    "matches only the server's own certificate", CHAIN(self),
	    RECS(rec(2, 0, 0, self)), NAMES("mx.example.org"));
	fail("A5 DANE-TA 2 1 1 of a self-signed leaf's key does not "
	     "authenticate",
	    "matches only the server's own certificate", CHAIN(self),
	    RECS(rec(2, 1, 1, self)), NAMES("mx.example.org"));
	pass("A5 2 1 0 bare key that self-signed the leaf authenticates "
	     "(OpenSSL's bare-key rule)",
	    0, 1, CHAIN(self), RECS(rec(2, 1, 0, self)),
	    NAMES("mx.example.org"));
	fail("A5 2 1 0 bare key that self-signed the leaf still needs the name",
	    "certificate name does not match", CHAIN(self),
	    RECS(rec(2, 1, 0, self)), NAMES("mx.example.com"));
	fail("A5 2 1 0 bare key that self-signed an expired leaf fails",
	    "expired", CHAIN(self_expired), RECS(rec(2, 1, 0, self_expired)),
	    NAMES("mx.example.org"));
	fail("A5 DANE-TA of a CA that did not issue the chain does not match",
	    "no TLSA record matches", CHAIN(leaf, inter, ca),
	    RECS(rec(2, 0, 1, other_ca)), NAMES("mx.example.org"));
}

static void
test_ta_in_dns(void)
{
	pass("A5 2 0 0 with the CA only in DNS authenticates", 0, 2,
	    CHAIN(leaf, inter), RECS(rec(2, 0, 0, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 0 0 with the CA only in DNS, leaf issued by it directly", 0,
	    1, CHAIN(leaf_direct), RECS(rec(2, 0, 0, ca)),
	    NAMES("mx.example.org"));
	fail("A5 2 0 0 of an unrelated CA only in DNS does not match",
	    "no TLSA record matches", CHAIN(leaf, inter),
	    RECS(rec(2, 0, 0, other_ca)), NAMES("mx.example.org"));
	fail("A5 2 0 0 with the CA only in DNS still checks the chain's dates",
	    "DANE-TA chain does not verify",
	    CHAIN(leaf_under_expired, inter_expired), RECS(rec(2, 0, 0, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 1 0 key only in DNS signs the topmost certificate", 0, 2,
	    CHAIN(leaf, inter), RECS(rec(2, 1, 0, ca)),
	    NAMES("mx.example.org"));
	pass("A5 2 1 0 key only in DNS signs the leaf directly", 0, 1,
	    CHAIN(leaf_direct), RECS(rec(2, 1, 0, ca)),
	    NAMES("mx.example.org"));
	fail("A5 2 1 0 with a key that signed nothing does not match",
	    "no TLSA record matches", CHAIN(leaf, inter),
	    RECS(rec(2, 1, 0, other_ca)), NAMES("mx.example.org"));
	fail("A5 2 1 0 key only in DNS: the certificate it issued must be "
	     "within its dates",
	    "DANE-TA chain does not verify",
	    CHAIN(leaf_under_expired, inter_expired), RECS(rec(2, 1, 0, ca)),
	    NAMES("mx.example.org"));
	fail("A5 2 1 0 key only in DNS: the names are still checked",
	    "certificate name does not match", CHAIN(leaf, inter),
	    RECS(rec(2, 1, 0, ca)), NAMES("mx.example.com"));
}

static void
test_ta_chain_checks(void)
{
	fail("A5 DANE-TA with an expired intermediate fails", "expired",
	    CHAIN(leaf_under_expired, inter_expired, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("mx.example.org"));
	fail("A5 DANE-TA with an expired leaf fails", "expired",
	    CHAIN(leaf_expired, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("mx.example.org"));
	fail("A5 DANE-TA with a broken leaf signature fails",
	    "signature failure", CHAIN(leaf_broken, inter, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("mx.example.org"));
	fail("A5 DANE-TA with a broken signature fails at the intermediate "
	     "anchor",
	    "signature failure", CHAIN(leaf_broken, inter),
	    RECS(rec(2, 1, 1, inter)), NAMES("mx.example.org"));
	fail("A5 DANE-TA enforces the trust anchor's path length",
	    "path length", CHAIN(leaf0, inter0, ca0), RECS(rec(2, 0, 1, ca0)),
	    NAMES("mx.example.org"));
	pass("A5 anchoring below a path-length-limited CA is fine", 0, 1,
	    CHAIN(leaf0, inter0, ca0), RECS(rec(2, 0, 1, inter0)),
	    NAMES("mx.example.org"));
	fail("A5 DANE-TA refuses an issuer that is not a CA",
	    "invalid CA certificate", CHAIN(leaf_by_leaf, leaf, inter, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("mx.example.org"));
	fail("A5 DANE-TA leaf must allow TLS server use (EKU clientAuth only)",
	    "unsuitable certificate purpose", CHAIN(leaf_client, inter, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("mx.example.org"));
	pass("A5 the trust anchor certificate's own expiry is not checked (RFC "
	     "5280 6.1)",
	    0, 1, CHAIN(leaf_old_ca, ca_expired),
	    RECS(rec(2, 0, 1, ca_expired)), NAMES("mx.example.org"));
	fail("A5 DANE-TA of one CA does not match a chain to another root",
	    "no TLSA record matches", CHAIN(other_leaf, other_ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("mx.example.org"));
}

static void
test_names(void)
{
	fail("A6 DANE-TA with the CA in the chain fails for a wrong name",
	    "certificate name does not match mx.example.com",
	    CHAIN(leaf, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("mx.example.com"));
	pass("A6 any reference identifier may match", 0, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("example.org", "mx.example.org"));
	pass("A6 a reference identifier with the root's trailing dot matches",
	    0, 2, CHAIN(leaf, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("mx.example.org."));
	pass("A6 names compare case-insensitively", 0, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("MX.Example.ORG"));
	fail("A6 DANE-TA without reference identifiers fails",
	    "no reference identifier", CHAIN(leaf, inter, ca),
	    RECS(rec(2, 0, 1, ca)), NONAMES);
	fail("A6 partial wildcard m*.example.org is refused",
	    "certificate name does not match", CHAIN(leaf_partial, inter, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("mx.example.org"));
	pass("A6 *.example.net matches mx.example.net", 0, 2,
	    CHAIN(leaf_wild, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("mx.example.net"));
	fail("A6 *.example.net does not match a.b.example.net",
	    "certificate name does not match", CHAIN(leaf_wild, inter, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("a.b.example.net"));
	fail("A6 *.example.net does not match example.net",
	    "certificate name does not match", CHAIN(leaf_wild, inter, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("example.net"));
	pass("A6 the CN is used when there is no SAN dNSName", 0, 2,
	    CHAIN(leaf_cn, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("cn.example.org"));
	fail("A6 the CN is ignored when a SAN dNSName is present",
	    "certificate name does not match", CHAIN(leaf_san_cn, inter, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("mx.example.org"));
	pass("A6 the SAN dNSName matches when CN differs", 0, 2,
	    CHAIN(leaf_san_cn, inter, ca), RECS(rec(2, 0, 1, ca)),
	    NAMES("other.example.org"));
}

static void
test_any_record(void)
{
	pass("A7 a DANE-TA record matches after a DANE-EE record fails", 1, 2,
	    CHAIN(leaf, inter, ca), RECS(rec(3, 1, 1, self), rec(2, 0, 1, ca)),
	    NAMES("mx.example.org"));
	pass("A7 the second of two DANE-EE records matches", 1, 0, CHAIN(leaf),
	    RECS(rec(3, 1, 1, self), rec(3, 1, 1, leaf)),
	    NAMES("mx.example.org"));
	pass(
	    "A7 a DANE-TA name failure does not mask a matching DANE-EE record",
	    1, 0, CHAIN(leaf, inter, ca),
	    RECS(rec(2, 0, 1, ca), rec(3, 1, 1, leaf)),
	    NAMES("wrong.example.com"));
	fail("A7 when no record matches the best reason is reported",
	    "certificate name does not match", CHAIN(leaf, inter, ca),
	    RECS(rec(3, 1, 1, self), rec(2, 0, 1, ca), rec(2, 0, 1, other_ca)),
	    NAMES("wrong.example.com"));
}

static void
test_no_fallback(void)
{
	static const unsigned char junk[64];

	fail("A12 an empty record list never authenticates",
	    "no usable TLSA records", CHAIN(leaf, inter, ca), NULL, 0,
	    NAMES("mx.example.org"));
	fail("A12 PKIX-TA/PKIX-EE records given to dane_verify are not used",
	    "no usable TLSA records", CHAIN(leaf, inter, ca),
	    RECS(rec(0, 0, 1, ca), rec(1, 1, 1, leaf)),
	    NAMES("mx.example.org"));
	fail("A1 a 3 1 1 record of 31 octets given to dane_verify is not used",
	    "no usable TLSA records", CHAIN(self),
	    RECS(raw(3, 1, 1, rec(3, 1, 1, self).data, 31)),
	    NAMES("mx.example.org"));
	fail("A1 a record without data given to dane_verify is not used",
	    "no usable TLSA records", CHAIN(self),
	    RECS(raw(3, 1, 1, NULL, 32), raw(3, 0, 0, NULL, 0)),
	    NAMES("mx.example.org"));
	fail("A1 a 2 0 0 record of junk given to dane_verify is not used",
	    "no usable TLSA records", CHAIN(self),
	    RECS(raw(2, 0, 0, junk, sizeof(junk)), raw(2, 1, 0, junk, 3)),
	    NAMES("mx.example.org"));
}

/* dane_verify on text that is not a good chain: -1 or 0, never 1. */
static void
hostile(const char *name, int want, const char *pem, size_t len)
{
	struct tlsa   r[2];
	struct result res;

	r[0] = rec(3, 1, 1, self);
	r[1] = rec(2, 0, 0, ca);
	res = verify_pem(pem, len, r, 2, NAMES("mx.example.org"));
	CHECK(res.rv == want && res.why != NULL && ERR_peek_error() == 0, name,
	    "rv %d (want %d) why %s, error queue %lx", res.rv, want,
	    res.why ? res.why : "(null)", ERR_peek_error());
}

/* The same with a DANE-EE record alone: only the leaf is parsed. */
static void
hostile_ee(const char *name, int want, const char *pem, size_t len)
{
	struct tlsa   r[1];
	struct result res;

	r[0] = rec(3, 1, 1, self);
	res = verify_pem(pem, len, r, 1, NAMES("mx.example.org"));
	CHECK(res.rv == want && res.why != NULL && ERR_peek_error() == 0, name,
	    "rv %d (want %d) why %s, error queue %lx", res.rv, want,
	    res.why ? res.why : "(null)", ERR_peek_error());
}

static void
test_hostile(void)
{
	static const char bad64[] = "-----BEGIN CERTIFICATE-----\n@@@@\n"
	                            "-----END CERTIFICATE-----\n";
	static const char notder[] =
	    "-----BEGIN CERTIFICATE-----\n"
	    "aGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
	static const char nul[] = "-----BEGIN CERTIFICATE-----\0\0\0\n";
	X509             *many[DANE_CHAIN_MAX + 2];
	char             *pem, *mixed;
	size_t            len, i;

	hostile("robust: NULL chain is malformed", -1, NULL, 10);
	hostile("robust: empty chain is malformed", -1, "", 0);
	hostile(
	    "robust: text without certificates is malformed", -1, "hello\n", 6);
	hostile("robust: bad base64 in a PEM block is malformed", -1, bad64,
	    sizeof(bad64) - 1);
	hostile("robust: base64 that is not DER is malformed", -1, notder,
	    sizeof(notder) - 1);
	hostile("robust: NUL octets are malformed", -1, nul, sizeof(nul) - 1);
	hostile("robust: a length beyond INT_MAX is refused unread", -1, "x",
	    (size_t)1 << 32);
	pem = pem_of(CHAIN(self), &len);
	hostile("robust: a truncated PEM certificate is malformed", -1, pem,
	    len / 2);
	hostile("robust: a PEM chain missing its END line is malformed", -1,
	    pem, len - 30);
	mixed = malloc(len * 2);
	memcpy(mixed, pem, len);
	memcpy(mixed + len, pem, len);
	mixed[len + 100] = '!'; /* not base64, inside the second certificate */
	hostile(
	    "robust: a corrupted second certificate makes the chain malformed",
	    -1, mixed, len * 2);
	hostile_ee("A7 DANE-EE only: a corrupted second certificate is never "
	           "read (RFC 7672 §3.1.1)",
	    1, mixed, len * 2);
	free(mixed);
	free(pem);
	for (i = 0; i < DANE_CHAIN_MAX + 1; i++)
		many[i] = self;
	many[DANE_CHAIN_MAX + 1] = NULL;
	pem = pem_of(many, &len);
	hostile("robust: a chain of 17 certificates is refused", -1, pem, len);
	hostile_ee("A7 DANE-EE only: the leaf of 17 certificates authenticates",
	    1, pem, len);
	free(pem);
	many[DANE_CHAIN_MAX] = NULL;
	pem = pem_of(many, &len);
	hostile("robust: a chain of 16 certificates is accepted", 1, pem, len);
	free(pem);
}

static void
test_errors_cleared(void)
{
	struct result res;

	res = verify(CHAIN(leaf_under_expired, inter_expired, ca),
	    RECS(rec(2, 0, 1, ca)), NAMES("mx.example.org"));
	CHECK(res.rv == 0 && ERR_peek_error() == 0,
	    "OpenSSL error queue is empty after a failed DANE-TA verification",
	    "rv %d error %lx", res.rv, ERR_peek_error());
	res = verify(
	    CHAIN(self), RECS(rec(2, 1, 0, ca)), NAMES("mx.example.org"));
	CHECK(res.rv == 0 && ERR_peek_error() == 0,
	    "OpenSSL error queue is empty after a failed 2 1 0 signature check",
	    "rv %d error %lx", res.rv, ERR_peek_error());
}

static void
test_format(void)
{
	static const unsigned char d[10] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
		0x06, 0x07, 0xab, 0xcd };
	char                       buf[TLSA_FMT_MAX], small[8];
	struct tlsa                r = raw(3, 1, 1, d, sizeof(d));

	tlsa_format(&r, buf, sizeof(buf));
	CHECK(strcmp(buf, "3 1 1 0001020304050607...") == 0,
	    "tlsa_format shows the fields and the first 8 octets", "got \"%s\"",
	    buf);
	r = raw(2, 0, 0, d + 8, 2);
	tlsa_format(&r, buf, sizeof(buf));
	CHECK(strcmp(buf, "2 0 0 abcd") == 0,
	    "tlsa_format shows short data whole", "got \"%s\"", buf);
	r = raw(255, 255, 255, NULL, 0);
	tlsa_format(&r, buf, sizeof(buf));
	CHECK(strcmp(buf, "255 255 255") == 0,
	    "tlsa_format of a record without data", "got \"%s\"", buf);
	r = raw(3, 1, 1, d, sizeof(d));
	tlsa_format(&r, small, sizeof(small));
	CHECK(strcmp(small, "3 1 1 0") == 0,
	    "tlsa_format truncates to the buffer", "got \"%s\"", small);
}

int
main(void)
{
	make_pki();
	make_names_and_limits();
	test_select_usable();
	test_select_agility();
	test_agility_verify();
	test_ee();
	test_ta_in_chain();
	test_ta_in_dns();
	test_ta_chain_checks();
	test_names();
	test_any_record();
	test_no_fallback();
	test_hostile();
	test_errors_cleared();
	test_format();
	free_all();
	return check_exit();
}
