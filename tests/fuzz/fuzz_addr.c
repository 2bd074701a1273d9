/*
 * libFuzzer twin of the envelope address check (src/common/addr.c).  An
 * address that addr_check() accepts is checked here against the RFC 5321
 * limits with an independent reading: ASCII only, no octet below 0x21,
 * '<' or '>' outside the quoted local part, at most 254 octets, exactly
 * one '@' outside the quoted part, labels of 1..63 octets, and
 * addr_domain() must point at that domain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Index just past the quoted local part, or 0 if there is none. */
static size_t
quoted_end(const char *a)
{
	size_t i = 1;

	if (a[0] != '"')
		return 0;
	while (a[i] != '\0' && a[i] != '"')
		i += (a[i] == '\\' && a[i + 1] != '\0') ? 2 : 1;
	if (a[i] != '"')
		abort(); /* accepted with an unterminated quote */
	return i + 1;
}

static void
check_domain(const char *d)
{
	size_t label = 0;

	if (*d == '\0' || strlen(d) > 255)
		abort();
	for (; *d != '\0'; d++) {
		if (*d == '.') {
			if (label == 0)
				abort();
			label = 0;
		} else if (++label > 63)
			abort();
	}
	if (label == 0)
		abort();
}

static void
check_accepted(const char *a)
{
	size_t i, q, at = 0, nat = 0, len = strlen(a);

	if (len == 0)
		return; /* the null sender */
	if (len > 254)
		abort();
	q = quoted_end(a);
	for (i = 0; i < len; i++) {
		unsigned char c = a[i];

		if (c >= 0x7f || c < 0x20)
			abort(); /* never, quoted or not */
		if (i < q)
			continue;
		if (c < 0x21 || c == '<' || c == '>' || c == '"' || c == '\\')
			abort();
		if (c == '@') {
			nat++;
			at = i;
		}
	}
	if (nat != 1 || at == 0 || at > 64)
		abort();
	check_domain(a + at + 1);
	if (addr_domain(a) != a + at + 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *e0, *e1;
	char       *a;

	if ((a = malloc(size + 1)) == NULL)
		abort();
	memcpy(a, data, size);
	a[size] = '\0';
	e0 = addr_check(a, 0);
	e1 = addr_check(a, 1);
	/* nullok changes the verdict on "" only */
	if (a[0] != '\0' && (e0 == NULL) != (e1 == NULL))
		abort();
	if (a[0] == '\0' && (e0 == NULL || e1 != NULL))
		abort();
	if (e0 == NULL)
		check_accepted(a);
	free(a);
	return 0;
}
