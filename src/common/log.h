/*
 * Progress and error output.  The parent prints; a child sends MSG_LOG
 * frames to the parent, which keeps stdout in one order.  fatal() and
 * fatalx() are for internal faults only: they name the process and the
 * call that failed, write to stderr and exit(1), which the parent maps
 * to EX_TEMPFAIL.
 */
#ifndef MXC_LOG_H
#define MXC_LOG_H

#include <stdarg.h>

#include "msg.h"

struct chan;

extern const char *log_procname;

void log_init(enum proc_id, struct chan *, int);
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_print(uint32_t, const char *);
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
