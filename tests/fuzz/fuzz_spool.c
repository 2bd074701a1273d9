/*
 * libFuzzer twin of the spool parsers (src/queue/spool.c): envelopes
 * (new/ID, written by whoever runs the submitter) and job files.
 * Oracle: an envelope that parses has a sender and recipients that pass
 * addr_check() and a body offset inside the input, right after an empty
 * line; a job that parses survives job_format() and parses back equal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
envelope(const char *s, size_t size)
{
	struct envelope e;
	int             i;

	if (env_parse(s, size, &e) == 0) {
		if (addr_check(e.sender, 1) != NULL || e.nrcpts < 1 ||
		    e.body_off > size || e.body_off < 2 ||
		    s[e.body_off - 1] != '\n' || s[e.body_off - 2] != '\n')
			abort();
		for (i = 0; i < e.nrcpts; i++)
			if (addr_check(e.rcpts[i], 0) != NULL)
				abort();
	}
	env_free(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job j, k;
	char       buf[16384];
	size_t     n;

	envelope((const char *)data, size);
	if (job_parse((const char *)data, size, &j) != 0)
		return 0;
	if ((n = job_format(&j, buf, sizeof(buf))) == 0 ||
	    job_parse(buf, n, &k) != 0 || strcmp(j.rcpt, k.rcpt) != 0 ||
	    strcmp(j.sender, k.sender) != 0 || j.attempts != k.attempts ||
	    j.next != k.next || strcmp(j.body, k.body) != 0)
		abort();
	return 0;
}
