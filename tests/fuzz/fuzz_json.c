/*
 * libFuzzer twin of the --status-fd report reader (src/queue/json.c).
 * Oracle: a report that parses has an exit of 0..255 and only printable
 * ASCII in the members it keeps; and an accepted input stays accepted
 * with an unknown member added in front (unknown members are skipped).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < ' ' || *s > '~')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qreport r, r2;
	const char    *s = (const char *)data;
	char          *buf;
	size_t         i = 0;

	if (report_parse(s, size, &r) != 0)
		return 0;
	if (r.exit < 0 || r.exit > 255)
		abort();
	for (i = 0; i < AT_COUNT; i++)
		printable(r.text[i]);
	i = 0;
	while (i < size && s[i] != '{')
		i++;
	if ((buf = malloc(size + 32)) == NULL)
		return 0;
	memcpy(buf, s, i + 1);
	memcpy(buf + i + 1, "\"zz\":[1,{\"a\":null}],", 20);
	memcpy(buf + i + 21, s + i + 1, size - i - 1);
	if (report_parse(buf, size + 20, &r2) != 0 || r2.exit != r.exit)
		abort();
	free(buf);
	return 0;
}
