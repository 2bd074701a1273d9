/* Mailbox syntax (RFC 5321 §4.1.2) and lengths (§4.5.3.1): addr.c. */
#ifndef MXC_ADDR_H
#define MXC_ADDR_H

/* NULL if a is a valid mailbox ("" too when nullok), else why not. */
const char *addr_check(const char *, int);
/* The domain of an address addr_check() accepted. */
const char *addr_domain(const char *);

#endif
