/* The one clock of every deadline. */
#ifndef MXC_CLOCK_H
#define MXC_CLOCK_H

long long mono_ms(void);

#endif
