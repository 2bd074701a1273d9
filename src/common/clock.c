/*
 * Deadlines are kept in milliseconds of the monotonic clock: the wall
 * clock may jump, and a timeout must not.
 */
#include <time.h>

#include "clock.h"

long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
