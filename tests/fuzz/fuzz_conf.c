/*
 * libFuzzer twin of the configuration parser (src/common/conf.c): any
 * input either parses, or fails with a message that names the file and
 * a line that exists; a parse leaves every string NUL-terminated and
 * every number inside its key's range, and conf_free() frees it all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned long
lines(const uint8_t *d, size_t n)
{
	unsigned long l = 1;
	size_t        i;

	for (i = 0; i < n; i++)
		l += d[i] == '\n';
	return l;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf   c;
	char          err[512];
	enum conf_err e;
	size_t        i;

	conf_init(&c);
	err[0] = '\0';
	e = conf_parse("f", (const char *)data, size, &c, err, sizeof(err));
	if (e != CONF_OK &&
	    (strncmp(err, "f:", 2) != 0 || strtoul(err + 2, NULL, 10) == 0 ||
	        strtoul(err + 2, NULL, 10) > lines(data, size)))
		abort();
	if (memchr(c.helo, '\0', sizeof(c.helo)) == NULL ||
	    memchr(c.spool, '\0', sizeof(c.spool)) == NULL ||
	    c.parallelism < 1 || c.parallelism > 64 || c.retry_first < 1 ||
	    c.lifetime < 60)
		abort();
	for (i = 0; i < c.naliases; i++)
		if (c.aliases[i].ntargets == 0 && e == CONF_OK)
			abort();
	conf_free(&c);
	return 0;
}
