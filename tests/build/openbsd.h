/*
 * What OpenBSD's libc declares and glibc does not: enough to compile the
 * OpenBSD branches of the tree against glibc's headers
 * (tests/build/openbsd_syntax.sh).  Never used in a real build.
 */
int  pledge(const char *, const char *);
int  unveil(const char *, const char *);
void setproctitle(const char *, ...) __attribute__((format(printf, 1, 2)));
