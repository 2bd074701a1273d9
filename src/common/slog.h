/* slog.c: syslog lines over a socket opened before lock-down. */
#ifndef MXC_SLOG_H
#define MXC_SLOG_H

#include <syslog.h> /* LOG_INFO and the other levels */

#define SLOG_PATH "/dev/log"

int  dgram_connect(const char *);
int  slog_open(const char *, const char *);
void slog(int, const char *, ...) __attribute__((format(printf, 2, 3)));
int  slog_fd(void);

#endif
