/* json.c: the members of mxclient's --status-fd report that a job keeps. */
#ifndef MXQ_JSON_H
#define MXQ_JSON_H

#include <stddef.h>

struct qreport {
	int  exit;
	int  have_exit;
	char recipient[256];
	char outcome[32];
	char mx[256];
	char address[64];
	char security[64];
	char reply[512];
	char status[16];
	char reason[512];
};

int report_parse(const char *, size_t, struct qreport *);

#endif
