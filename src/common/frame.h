/*
 * A small imsg work-alike: framed messages over a non-blocking stream
 * socketpair, with at most one descriptor passed per frame.
 *
 * Wire header (host byte order, both ends are the same binary):
 *	uint32_t type;	enum msg_type
 *	uint32_t len;	total length including this header
 *	uint32_t id;	request id, echoed in replies
 *	uint16_t sender; enum proc_id
 *	uint16_t flags;	FRAME_F_FD when a descriptor travels with it
 */
#ifndef MXC_FRAME_H
#define MXC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "msg.h"

#define FRAME_F_FD 0x0001

/* The header on the wire, the same in every process (one binary). */
struct frame_hdr {
	uint32_t type;   /* enum msg_type */
	uint32_t len;    /* total length including this header */
	uint32_t id;     /* request id, echoed in replies */
	uint16_t sender; /* enum proc_id */
	uint16_t flags;  /* FRAME_F_FD */
};

struct frame {
	uint32_t       type;
	uint32_t       id;
	uint16_t       sender;
	uint16_t       flags;
	int            fd;   /* -1 unless FRAME_F_FD */
	size_t         len;  /* payload length */
	const uint8_t *data; /* valid until the next chan_get() */
};

#define CHAN_FDQ 4 /* received descriptors waiting for frames */

struct wbuf {
	struct wbuf *next;
	size_t       len, off;
	int          fd; /* sent with the first byte, then closed */
	uint8_t      data[];
};

struct chan {
	int         fd;
	uint16_t    self; /* our enum proc_id */
	uint16_t    peer; /* the only sender we accept */
	const char *name; /* for messages: "tls->dns" */
	uint8_t     rbuf[2 * FRAME_MAX];
	size_t      rlen, roff;
	struct {
		int      fd;
		uint64_t start, end; /* stream range it came with */
	} fdq[CHAN_FDQ];
	int          nfdq;
	int          fdlost; /* more descriptors than fdq holds */
	uint64_t     rstart; /* stream position of rbuf[0] */
	struct wbuf *wq, **wtail;
	size_t       wqlen; /* bytes queued */
	int          eof;   /* the peer closed its end */
	uint64_t     seen;  /* MSG_BIT()s of the types received (order) */
	const char  *err;   /* why the channel failed */
};

void chan_init(struct chan *, int, uint16_t, uint16_t, const char *);
void chan_set_lazy(struct chan *);
void chan_flush_lazy(void);
void chan_close(struct chan *);
int  chan_compose(struct chan *, uint32_t, uint32_t, int, const void *, size_t);
int  chan_compose2(
     struct chan *, uint32_t, uint32_t, const void *, size_t, const char *);
int chan_flush(struct chan *);
int chan_drain(struct chan *, int);
int chan_pending(const struct chan *);
int chan_read(struct chan *);
int chan_get(struct chan *, struct frame *);
int chan_events(const struct chan *);
int chan_wait(struct chan *, struct frame *, int);

const char *frame_str(const struct frame *, size_t);

#endif
