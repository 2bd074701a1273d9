/*
 * The smallest test harness that does the job.  Every check prints one
 * line that tests/run.sh counts:
 *
 *	PASS: <program>: <name>
 *	FAIL: <program>: <name>: <detail>
 *
 * and check_exit(), the last thing main() does, prints the count
 *
 *	# <program>: N passed, M failed
 *
 * and returns 1 if any check failed.  tests/run.sh compares that count
 * with the PASS:/FAIL: lines it saw, and fails a program whose count is
 * missing (it stopped early) or does not match, as well as one that
 * exits with a status other than 0, or 1 after a FAIL line, or dies by
 * a signal.  A test file defines CHECK_PROG before including this header.
 */
#ifndef MXC_CHECK_H
#define MXC_CHECK_H

#include <stdarg.h>
#include <stdio.h>

#ifndef CHECK_PROG
#error "define CHECK_PROG before including check.h"
#endif

/* Set by sanitizer builds (make check runs both) to tell the lines apart. */
#ifndef CHECK_VARIANT
#define CHECK_VARIANT ""
#endif

static int check_passes, check_failures;

/* Report one check; returns ok so a caller can stop a dependent step. */
static inline int __attribute__((format(printf, 3, 4)))
check_report(int ok, const char *name, const char *fmt, ...)
{
	char    detail[512];
	va_list ap;
	size_t  i;

	if (ok) {
		check_passes++;
		printf("PASS: %s%s: %s\n", CHECK_PROG, CHECK_VARIANT, name);
	} else {
		check_failures++;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
		/* one line per check: no control or 8-bit octets in details */
		for (i = 0; detail[i] != '\0'; i++)
			if ((unsigned char)detail[i] < 0x20 ||
			    (unsigned char)detail[i] >= 0x7f)
				detail[i] = '?';
		printf("FAIL: %s%s: %s: %s\n", CHECK_PROG, CHECK_VARIANT, name,
		    detail);
	}
	fflush(stdout);
	return ok;
}

/* CHECK(condition, name, detail format, ...): detail is shown on failure. */
#define CHECK(cond, name, ...) check_report((cond) ? 1 : 0, (name), __VA_ARGS__)

/* The count for tests/run.sh; main() returns what this returns. */
static inline int
check_exit(void)
{
	printf("# %s%s: %d passed, %d failed\n", CHECK_PROG, CHECK_VARIANT,
	    check_passes, check_failures);
	fflush(stdout);
	return check_failures > 0 ? 1 : 0;
}

#endif
