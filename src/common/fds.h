/* Descriptors a process must not inherit. */
#ifndef MXC_FDS_H
#define MXC_FDS_H

#include <stddef.h>

/*
 * Close every descriptor from 3 up, however high, except those in keep.
 * 0 on success, -1 with errno set if some could not be closed (then the
 * caller must stop: it would run with descriptors it must not hold).
 */
int fds_close_except(const int *, size_t);

/* The same for [lo, hi] by walking /proc/self/fd (tests call it too). */
int fds_close_listed(unsigned int, unsigned int);

#endif
