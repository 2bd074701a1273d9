/*
 * Not a test of mxclient: a program that goes wrong on purpose, for
 * tests/run.sh --selftest, which checks that the runner flags each way
 * of going wrong.  Nothing else runs it, and its lines never count in
 * make check's totals.
 *
 *	test_runner MODE
 *
 *	ok       two checks pass, the count follows, exit 0 (not flagged)
 *	fail     one check passes, one fails, the count, exit 1 (not
 *	         flagged: the FAIL line already says it)
 *	abort    two checks pass, then abort()
 *	segv     two checks pass, then SIGSEGV
 *	exit1    two checks pass, then exit 1 without a FAIL line or count
 *	exit0    two checks pass, then exit 0 without the count
 *	short    two checks pass, the count says three
 *	overflow two checks pass, then a heap read out of bounds (run the
 *	         -asan build: AddressSanitizer stops it)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_PROG "test_runner"
#include "check.h"

static int
overflow(size_t n)
{
	char *p;
	int   c;

	if ((p = malloc(n)) == NULL)
		return -1;
	memset(p, 'x', n);
	c = p[n]; /* one past the end: AddressSanitizer reports it */
	free(p);
	return c;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	CHECK(1, "first check", "-");
	if (strcmp(mode, "fail") == 0) {
		CHECK(0, "second check", "fails on purpose");
		return check_exit();
	}
	CHECK(1, "second check", "-");
	if (strcmp(mode, "ok") == 0)
		return check_exit();
	if (strcmp(mode, "abort") == 0)
		abort();
	if (strcmp(mode, "segv") == 0)
		raise(SIGSEGV);
	if (strcmp(mode, "exit1") == 0)
		exit(1);
	if (strcmp(mode, "exit0") == 0)
		exit(0);
	if (strcmp(mode, "short") == 0) {
		check_passes++; /* a check that printed nothing */
		return check_exit();
	}
	if (strcmp(mode, "overflow") == 0)
		printf("read %d\n", overflow(strlen(mode)));
	fprintf(stderr, "test_runner: unknown mode '%s'\n", mode);
	return 2;
}
