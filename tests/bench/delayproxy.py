#!/usr/bin/env python3
"""A TCP proxy that holds every chunk DELAY ms in each direction.

tc netem is not available here; this stands in for a network round trip
of 2 * DELAY.  Order is kept: a chunk leaves DELAY ms after it arrived.
Usage: delayproxy.py LISTEN_ADDR:PORT TARGET_ADDR:PORT DELAY_MS [SECONDS]
It exits by itself after SECONDS (default 600).  dnsdelay.py imports
its pump() for DNS over TCP.

The proxy adds no TCP stalls of its own: its sockets have TCP_NODELAY,
and it asks for an immediate ACK after every read (TCP_QUICKACK).
Otherwise a server that writes a reply in two pieces without
TCP_NODELAY (Postfix: a TLS 1.3 session ticket, then the EHLO reply)
would wait up to 40 ms for the proxy's delayed ACK, at random.
"""
import asyncio
import socket
import sys
import time


def nodelay(sock):
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def quickack(sock):
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass


async def pump(reader, writer, delay, rsock=None):
    """Copy reader to writer, each chunk DELAY s late; RSOCK: reader's socket."""
    queue = asyncio.Queue()

    async def sender():
        while True:
            when, data = await queue.get()
            wait = when - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    task = asyncio.ensure_future(sender())
    try:
        while True:
            data = await reader.read(65536)
            quickack(rsock)
            queue.put_nowait((time.monotonic() + delay, data or None))
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        task.cancel()
        writer.close()


async def main():
    laddr, lport = sys.argv[1].rsplit(":", 1)
    taddr, tport = sys.argv[2].rsplit(":", 1)
    delay = float(sys.argv[3]) / 1000.0
    lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 600.0

    async def handle(cr, cw):
        try:
            sr, sw = await asyncio.open_connection(taddr, int(tport))
        except OSError:
            cw.close()
            return
        csock, ssock = cw.get_extra_info("socket"), sw.get_extra_info("socket")
        nodelay(csock)
        nodelay(ssock)
        quickack(csock)
        quickack(ssock)
        await asyncio.gather(pump(cr, sw, delay, csock), pump(sr, cw, delay, ssock))

    server = await asyncio.start_server(handle, laddr, int(lport))
    print("ready", flush=True)
    async with server:
        await asyncio.sleep(lifetime)


if __name__ == "__main__":
    asyncio.run(main())
