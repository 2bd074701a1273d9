/*
 * The client side of SOCKS5 (RFC 1928) with username/password
 * authentication (RFC 1929), as pure functions over buffers: net does
 * the I/O, and the parsers of the proxy's answers can be fuzzed alone.
 */
#ifndef MXC_SOCKS_H
#define MXC_SOCKS_H

#include <stddef.h>
#include <stdint.h>

#define SOCKS_REQ_MAX   (3 + 1 + 2 * 256) /* the largest message we send */
#define SOCKS_REPLY_MAX (4 + 1 + 255 + 2) /* a reply with a domain name */

size_t      socks_greeting(uint8_t *, int);
int         socks_method(const uint8_t[2], int, const char **);
size_t      socks_auth(uint8_t *, const char *, const char *);
int         socks_auth_status(const uint8_t[2], const char **);
size_t      socks_connect(uint8_t *, int, const uint8_t *, uint16_t);
int         socks_reply_head(const uint8_t[5], size_t *, const char **);
int         socks_bound(const uint8_t *, uint8_t *, uint8_t[16]);
int         socks_reply(const uint8_t *, size_t, const char **);
const char *socks_rep_name(int);

#endif
