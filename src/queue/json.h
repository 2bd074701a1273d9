/* json.c: the members of mxclient's --status-fd report that a job keeps. */
#ifndef MXQ_JSON_H
#define MXQ_JSON_H

#include <stddef.h>

#include "queue.h"

struct qreport {
	int  exit;
	int  have_exit;
	char text[AT_COUNT][512]; /* enum attempt_text */
};

int report_parse(const char *, size_t, struct qreport *);

#endif
