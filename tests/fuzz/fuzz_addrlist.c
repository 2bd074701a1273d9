/*
 * libFuzzer twin of the address-list reader behind -t
 * (src/queue/addrlist.c) and the header splitter (header.c).
 * Oracle: every address handed over is non-empty, shorter than
 * ADDR_MAX, and outside quoted strings holds no space, '<', '>', ',',
 * '(' or ')'; the header fields found lie inside the message, in order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
each(void *arg, const char *a)
{
	size_t i, n = strlen(a);
	int    q = 0;

	(void)arg;
	if (n == 0 || n >= ADDR_MAX)
		abort();
	for (i = 0; i < n; i++) {
		if (a[i] == '"')
			q = !q;
		else if (q && a[i] == '\\')
			i++;
		else if (!q && strchr(" \t<>,()", a[i]) != NULL)
			abort();
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct message m;
	size_t                i, end = 0;

	addrlist_parse((const char *)data, size, each, NULL);
	if (size == 0 || data[size - 1] != '\n')
		return 0;
	m.buf = (char *)data;
	m.len = size;
	if (hdr_split(&m) != HDR_OK)
		return 0;
	for (i = 0; i < m.nf; i++) {
		if (m.f[i].off != end || m.f[i].off + m.f[i].len > size)
			abort();
		end = m.f[i].off + m.f[i].len;
	}
	if (m.body < end || m.body > size)
		abort();
	return 0;
}
