#!/usr/bin/env python3
"""A DNS relay (UDP and TCP) that holds every message DELAY ms each way.

It stands in for a resolver that is a round trip of 2 * DELAY away: a
query that arrives on LISTEN leaves for TARGET DELAY ms later, and the
answer goes back to the client DELAY ms after it came.  Nothing is
parsed or cached; over UDP each query gets its own upstream socket (so
answers find their client whatever the ID), over TCP each connection its
own upstream connection (delayproxy.py's pump).
Usage: dnsdelay.py LISTEN_ADDR:PORT TARGET_ADDR:PORT DELAY_MS [SECONDS]
It prints "ready" once both sockets listen and exits by itself after
SECONDS (default 600).
"""
import asyncio
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from delayproxy import nodelay, pump, quickack  # noqa: E402


class Relay(asyncio.DatagramProtocol):
    """The listening UDP socket: one Upstream per query."""

    def __init__(self, target, delay):
        self.target, self.delay = target, delay
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        loop = asyncio.get_running_loop()
        loop.call_later(self.delay, self.forward, data, addr)

    def forward(self, data, addr):
        loop = asyncio.get_running_loop()
        asyncio.ensure_future(loop.create_datagram_endpoint(
            lambda: Upstream(self, data, addr), remote_addr=self.target,
            family=socket.AF_INET))

    def answer(self, data, addr):
        self.transport.sendto(data, addr)


class Upstream(asyncio.DatagramProtocol):
    """One query's socket to TARGET: the first answer goes back, delayed."""

    def __init__(self, relay, query, client):
        self.relay, self.query, self.client = relay, query, client
        self.transport = self.timer = None

    def connection_made(self, transport):
        self.transport = transport
        transport.sendto(self.query)
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(30, transport.close)

    def datagram_received(self, data, addr):
        loop = asyncio.get_running_loop()
        loop.call_later(self.relay.delay, self.relay.answer, data, self.client)
        self.timer.cancel()
        self.transport.close()

    def error_received(self, exc):
        self.timer.cancel()
        self.transport.close()


async def main():
    laddr, lport = sys.argv[1].rsplit(":", 1)
    taddr, tport = sys.argv[2].rsplit(":", 1)
    delay = float(sys.argv[3]) / 1000.0
    lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 600.0
    target = (taddr, int(tport))
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: Relay(target, delay),
                                        local_addr=(laddr, int(lport)))

    async def handle(cr, cw):
        try:
            sr, sw = await asyncio.open_connection(taddr, int(tport))
        except OSError:
            cw.close()
            return
        csock, ssock = cw.get_extra_info("socket"), sw.get_extra_info("socket")
        for s in (csock, ssock):
            nodelay(s)
            quickack(s)
        await asyncio.gather(pump(cr, sw, delay, csock), pump(sr, cw, delay, ssock))

    server = await asyncio.start_server(handle, laddr, int(lport))
    print("ready", flush=True)
    async with server:
        await asyncio.sleep(lifetime)


if __name__ == "__main__":
    asyncio.run(main())
