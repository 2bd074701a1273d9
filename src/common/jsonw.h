#ifndef MXC_JSONW_H
#define MXC_JSONW_H

#include <stddef.h>

/* A JSON writer: put() raw text, put_str() an escaped string. */
struct out {
	char  *buf;
	size_t len, used;
};

void put(struct out *, const char *);
void put_str(struct out *, const char *);
/* "name":"value" (null for NULL or ""), a comma before all but the first */
void member(struct out *, const char *, const char *, int *);

#endif
