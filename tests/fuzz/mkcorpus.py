#!/usr/bin/env python3
"""Write the seed corpora of the libFuzzer targets (tests/fuzz/corpus/).

Standard library only.  Each target's input layout is described in its
fuzz_<name>.c; the seeds are small, valid (or instructively invalid)
inputs in that layout: SMTP replies, frames packed like src/common/msg.h
(16-byte header <IIIHH, host order = little-endian here), messages,
addresses, DNS answers from a tiny packer, TLSA records with the seed
certificates in tests/fuzz/certs/.  Run from anywhere:

    python3 tests/fuzz/mkcorpus.py
"""
import base64
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- fuzz_reply: octet 0 even = CRLF lines, odd = bare LF lines ---

def reply_seeds():
    crlf = {
        "greeting": b"220 mx.example.com ESMTP Postfix\r\n",
        "ehlo-multi": b"250-mx.example.com\r\n250-PIPELINING\r\n"
        b"250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n"
        b"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
        b"250-SMTPUTF8\r\n250 CHUNKING\r\n",
        "ehlo-lower-size0": b"250-mx.example.org Hello\r\n250-size\r\n"
        b"250-starttls\r\n250 8bitmime\r\n",
        "starttls-ready": b"220 2.0.0 Ready to start TLS\r\n",
        "pipelined": b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
        b"354 End data with <CR><LF>.<CR><LF>\r\n",
        "queued-bye": b"250 2.0.0 Ok: queued as 77422A7453D\r\n"
        b"221 2.0.0 Bye\r\n",
        "tempfail-multi": b"421-4.7.0 mx.example.com Error: too many\r\n"
        b"421 4.7.0 connections, try later\r\n",
        "reject-rcpt": b"550 5.1.1 <rcpt@example.net>: Recipient address "
        b"rejected: User unknown in local recipient table\r\n",
        "code-changes": b"250-first\r\n251 second\r\n",
        "bad-code": b"199 too low\r\n",
        "tab-in-text": b"250 ok\there\r\n",
        "bare-code": b"250\r\n",
        "partial-line": b"250-mx.example.com\r\n250 SIZE 1000",
    }
    for name, text in crlf.items():
        write("reply", name, b"\x00" + text)
    write("reply", "ehlo-lf-only",
          b"\x01250-mx.example.com\n250-PIPELINING\n250 STARTTLS\n")
    write("reply", "cr-in-lf-split", b"\x01220 hi\r\n")


# --- fuzz_frame: channel, chunk sizes, stream ---

(MSG_JOB_SENDER, MSG_JOB_RCPT, MSG_JOB_HELO, MSG_JOB_START, MSG_BODY,
 MSG_MX_REQ, MSG_HOST_REQ, MSG_MX_HOST, MSG_MX_END,
 MSG_HOST_ADDR, MSG_HOST_END, MSG_MX_INFO, MSG_HOST_TLSA, MSG_HOST_POLICY,
 MSG_CONNECT_REQ, MSG_CONNECT_OK, MSG_CONNECT_FAIL, MSG_SSH_REQ, MSG_SSH_OK,
 MSG_SSH_FAIL, MSG_LOG, MSG_SANDBOX_DEATH, MSG_DOT_SENT, MSG_RESULT,
 MSG_REPORT, MSG_MX_STS, MSG_ADDR_REQ, MSG_STS_CACHED, MSG_STS_STORE,
 MSG_TLSRPT) = range(1, 31)
PARENT, DNS, NET, TLS, SSH = range(5)
# channel index in fuzz_frame.c: (receiver, sender)
CHANS = [(PARENT, DNS), (PARENT, NET), (PARENT, TLS), (TLS, PARENT),
         (TLS, DNS), (TLS, NET), (DNS, TLS), (NET, TLS), (PARENT, SSH),
         (NET, SSH), (SSH, NET)]


def connect_req(addr4=(192, 0, 2, 10), port=25, timeout=30, greeting=300):
    # struct msg_connect_req: family, pad, port, addr[16], timeout, greeting
    return struct.pack("<BBH16sII", 4, 0, port, bytes(addr4), timeout,
                       greeting)


def connect_res(error=0, flags=0, family=0, addr=b""):
    # struct msg_connect_res: error, flags, family, pad[3], addr[16]
    return struct.pack("<iIB3x16s", error, flags, family, addr)
FRAME_F_FD = 1


def frame(mtype, sender, payload=b"", rid=1, flags=0):
    return struct.pack("<IIIHH", mtype, 16 + len(payload), rid, sender,
                       flags) + payload


def cstr(s, size=None):
    b = s.encode() + b"\0"
    return b if size is None else b.ljust(size, b"\0")


def frame_input(recv, sender, frames, sizes=()):
    return bytes([CHANS.index((recv, sender)), len(sizes)]) + \
        bytes(sizes) + b"".join(frames)


def frame_seeds():
    # struct msg_job: flags, timeouts, deadline, sts_timeout
    job = struct.pack("<I10III", 0x01,
                      30, 300, 300, 300, 300, 300, 120, 180, 600, 300, 0, 20)
    # struct msg_body: size, wire_size, flags (padded to 24 octets)
    body = frame(MSG_BODY, PARENT, struct.pack("<QQI4x", 270, 275, 0x04),
                 flags=FRAME_F_FD)
    write("frame", "tls-from-parent-job", frame_input(TLS, PARENT, [
        frame(MSG_JOB_SENDER, PARENT, cstr("demo@example.org")),
        frame(MSG_JOB_RCPT, PARENT, cstr("rcpt@secure.example")),
        frame(MSG_JOB_HELO, PARENT, cstr("")),
        frame(MSG_JOB_START, PARENT, job)], sizes=[5, 17, 100]))
    write("frame", "tls-from-parent-body", frame_input(TLS, PARENT, [
        frame(MSG_JOB_SENDER, PARENT, cstr("")),
        frame(MSG_JOB_RCPT, PARENT, cstr("rcpt@secure.example")),
        frame(MSG_JOB_HELO, PARENT, cstr("")),
        frame(MSG_JOB_START, PARENT, job), body],
        sizes=[127, 11, 0x80 | len(body)]))  # the job is 138 octets
    write("frame", "tls-from-parent-body-no-fd", frame_input(TLS, PARENT, [
        frame(MSG_JOB_SENDER, PARENT, cstr("")),
        frame(MSG_JOB_RCPT, PARENT, cstr("rcpt@secure.example")),
        frame(MSG_JOB_HELO, PARENT, cstr("")),
        frame(MSG_JOB_START, PARENT, job), body]))
    mx = struct.pack("<HH", 10, 1) + cstr("mx.example.com", 256)
    info = struct.pack("<II", 3, 1) + cstr("", 256)
    write("frame", "tls-from-dns-mx", frame_input(TLS, DNS, [
        frame(MSG_MX_HOST, DNS, mx),
        frame(MSG_MX_INFO, DNS, info),
        frame(MSG_MX_END, DNS, struct.pack("<II", 0, 1))], sizes=[3]))
    # struct msg_mx_sts: sts, rpt (enum txt_found), id, rpt_txt, why
    sts = struct.pack("<II", 1, 1) + cstr("20261208T1", 33) + \
        cstr("v=TLSRPTv1; rua=mailto:tlsrpt@example.com", 1024) + \
        cstr("", 256) + b"\0" * 3
    write("frame", "tls-from-dns-mx-sts", frame_input(TLS, DNS, [
        frame(MSG_MX_HOST, DNS, mx),
        frame(MSG_MX_INFO, DNS, info),
        frame(MSG_MX_STS, DNS, sts),
        frame(MSG_MX_END, DNS, struct.pack("<II", 0, 1))]))
    # struct msg_sts: fetched, expires, failed, id, domain, pad + text
    text = b"version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\n" \
        b"max_age: 86400\r\n"
    cached = struct.pack("<qqq", 1796000000, 1796086400, 0) + \
        cstr("20261208T1", 33) + cstr("example.com", 256) + b"\0" * 7 + text
    write("frame", "tls-from-parent-sts-cached", frame_input(TLS, PARENT, [
        frame(MSG_JOB_SENDER, PARENT, cstr("demo@example.org")),
        frame(MSG_JOB_RCPT, PARENT, cstr("rcpt@example.com")),
        frame(MSG_JOB_HELO, PARENT, cstr("")),
        frame(MSG_STS_CACHED, PARENT, cached),
        frame(MSG_JOB_START, PARENT, job)]))
    failed = struct.pack("<qqq", 0, 0, 1796000000) + cstr("", 33) + \
        cstr("example.com", 256) + b"\0" * 7
    write("frame", "parent-from-tls-sts-store", frame_input(PARENT, TLS, [
        frame(MSG_STS_STORE, TLS, cached),
        frame(MSG_STS_STORE, TLS, failed),
        frame(MSG_TLSRPT, TLS, cstr('{"dpv":"1"}'))]))
    a4 = struct.pack("<BB", 4, 1) + bytes([192, 0, 2, 10]).ljust(16, b"\0")
    a6 = struct.pack("<BB", 6, 1) + bytes.fromhex(
        "20010db8000000000000000000000010")
    tlsa = struct.pack("<BBBB", 3, 1, 1, 0) + hashlib.sha256(b"k").digest()
    pol = struct.pack("<IIIII", 0, 1, 1, 1, 2) + cstr("mx.example.com", 256) + \
        cstr("", 256) + cstr("1 usable TLSA record(s) of 1", 256)
    write("frame", "tls-from-dns-host", frame_input(TLS, DNS, [
        frame(MSG_MX_INFO, DNS, info),
        frame(MSG_MX_END, DNS, struct.pack("<II", 0, 1)),
        frame(MSG_HOST_ADDR, DNS, a6, rid=2),
        frame(MSG_HOST_ADDR, DNS, a4, rid=2),
        frame(MSG_HOST_TLSA, DNS, tlsa, rid=2),
        frame(MSG_HOST_POLICY, DNS, pol, rid=2),
        frame(MSG_HOST_END, DNS, struct.pack("<II", 0, 2), rid=2)]))
    ok = frame(MSG_CONNECT_OK, NET,
               connect_res(family=4, addr=bytes([192, 0, 2, 1])), rid=3,
               flags=FRAME_F_FD)
    write("frame", "tls-from-net-connect-ok-fd",
          frame_input(TLS, NET, [ok], sizes=[0x80 | len(ok)]))
    write("frame", "tls-from-net-connect-fail", frame_input(TLS, NET, [
        frame(MSG_CONNECT_FAIL, NET, connect_res(111) + cstr(""), rid=3)]))
    write("frame", "tls-from-net-proxy-down", frame_input(TLS, NET, [
        frame(MSG_CONNECT_FAIL, NET, connect_res(71, 1) + cstr(
            "SOCKS5 proxy socks5://127.0.0.21:1080: greeting: closed"),
            rid=3)]))
    sok = frame(MSG_SSH_OK, SSH, connect_res(), rid=4, flags=FRAME_F_FD)
    write("frame", "net-from-ssh-ok-fd",
          frame_input(NET, SSH, [sok], sizes=[0x80 | len(sok)]))
    write("frame", "net-from-ssh-fail", frame_input(NET, SSH, [
        frame(MSG_SSH_FAIL, SSH, connect_res(111) + cstr(
            "ssh exited with status 255: stdio forwarding failed"), rid=4)]))
    write("frame", "ssh-from-net-req", frame_input(SSH, NET, [
        frame(MSG_SSH_REQ, NET, connect_req(), rid=4)]))
    write("frame", "parent-from-ssh-log", frame_input(PARENT, SSH, [
        frame(MSG_LOG, SSH, struct.pack("<I", 1) + cstr("ssh: bye"))]))
    write("frame", "tls-from-net-fd-missing", frame_input(TLS, NET, [ok]))
    write("frame", "parent-from-tls", frame_input(PARENT, TLS, [
        frame(MSG_LOG, TLS, struct.pack("<I", 0) + cstr("<<< 220 hi")),
        frame(MSG_DOT_SENT, TLS, b""),
        frame(MSG_REPORT, TLS, cstr('"exit":0')),
        frame(MSG_RESULT, TLS, struct.pack("<I", 0) + cstr("delivered"))],
        sizes=[1, 1, 1, 40]))
    write("frame", "parent-from-dns-death", frame_input(PARENT, DNS, [
        frame(MSG_LOG, DNS, struct.pack("<I", 2) + cstr("dns: oops")),
        frame(MSG_SANDBOX_DEATH, DNS, struct.pack("<iI", 41, 0xc000003e))]))
    write("frame", "parent-from-net-log", frame_input(PARENT, NET, [
        frame(MSG_LOG, NET, struct.pack("<I", 1) + cstr("connecting"))]))
    write("frame", "dns-from-tls", frame_input(DNS, TLS, [
        frame(MSG_MX_REQ, TLS, cstr("example.com")),
        frame(MSG_HOST_REQ, TLS, cstr("mx.example.com"), rid=2)]))
    write("frame", "net-from-tls", frame_input(NET, TLS, [
        frame(MSG_CONNECT_REQ, TLS, connect_req())]))
    # hostile: a string with an inner NUL, a size off by one
    write("frame", "dns-from-tls-inner-nul", frame_input(DNS, TLS, [
        frame(MSG_MX_REQ, TLS, b"exa\0mple.com\0")]))
    write("frame", "tls-from-dns-short-end", frame_input(TLS, DNS, [
        frame(MSG_MX_END, DNS, struct.pack("<I", 0))]))


# --- fuzz_norm: two control octets (chunks), then the message ---

def norm_seeds():
    msgs = {
        "crlf": b"Subject: hello\r\nFrom: a@example.org\r\n\r\nbody\r\n",
        "lf": b"Subject: hello\n\nbody line\nlast\n",
        "no-final-newline": b"Subject: x\n\nno newline at the end",
        "dots": b".\n..\n.hidden\nnot.a.dot\n.\r\n...\n",
        "lone-dot-end": b"text\n.",
        "mixed-ends": b"a\r\nb\nc\r\n\n\r\n",
        "8bit": "Subject: caf\u00e9\n\n\u00fcber\n".encode(),
        "line-998": b"x" * 998 + b"\n",
        "line-999": b"y" * 999 + b"\n",
        "bare-cr": b"a\rb\n",
        "cr-at-end": b"abc\r",
        "nul": b"ab\0c\n",
        "empty": b"",
        "newline-only": b"\n",
    }
    for i, (name, m) in enumerate(msgs.items()):
        write("norm", name, bytes([i % 3 + 3 * i, 7 * i]) + m)


# --- fuzz_addr: the address, as given ---

def addr_seeds():
    addrs = {
        "plain": "user@example.com",
        "dotted-tag": "first.last+tag@sub.example.co.uk",
        "quoted-space": '"john doe"@example.org',
        "quoted-escape": '"a\\"b\\\\c"@x.example',
        "quoted-at": '"a@b"@example.net',
        "brackets": "<a@example.com>",
        "literal": "a@[192.0.2.1]",
        "label-63": "u@" + "a" * 63 + ".example",
        "label-64": "u@" + "a" * 64 + ".example",
        "local-64": "l" * 64 + "@example.com",
        "two-at": "a@b@example.com",
        "hyphens": "a@-x.example",
        "trailing-dot": "a@example.com.",
        "long-254": "l" * 64 + "@" + ".".join(["d" * 61] * 3)
        + "." + "e" * (254 - 65 - 3 * 62),
        "null": "",
    }
    for name, a in addrs.items():
        write("addr", name, a.encode())


# --- fuzz_dns: question selector, then a DNS reply in wire form ---

T_A, T_NS, T_CNAME, T_SOA, T_MX, T_AAAA, T_OPT, T_TLSA = \
    1, 2, 5, 6, 15, 28, 41, 52
QSEL = {T_MX: 0, T_A: 1, T_AAAA: 2, T_TLSA: 3, T_CNAME: 4}
QNAME = {T_MX: "example.com", T_A: "mx.example.com",
         T_AAAA: "mx.example.com", T_TLSA: "_25._tcp.mx.example.com",
         T_CNAME: "mx.example.com"}


def dname(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(name, rtype, rdata, ttl=300, rclass=1):
    return dname(name) + struct.pack(">HHIH", rtype, rclass, ttl,
                                     len(rdata)) + rdata


def opt_rr(do=True):
    return b"\0" + struct.pack(">HHIH", T_OPT, 1232, 0x8000 if do else 0, 0)


def dns_reply(qtype, answers=(), authority=(), additional=(), rcode=0,
              ad=True, rid=0x2a2a, qname=None):
    flags = 0x8000 | 0x0100 | 0x0080 | (0x0020 if ad else 0) | rcode
    q = dname(qname or QNAME[qtype]) + struct.pack(">HH", qtype, 1)
    hdr = struct.pack(">HHHHHH", rid, flags, 1, len(answers),
                      len(authority), len(additional))
    return hdr + q + b"".join(answers) + b"".join(authority) + \
        b"".join(additional)


def dns_input(qtype, pkt, take_id=True):
    return bytes([QSEL[qtype] | (8 if take_id else 0)]) + pkt


def mx_rd(pref, host):
    return struct.pack(">H", pref) + dname(host)


def soa(zone):
    return rr(zone, T_SOA, dname("ns." + zone) + dname("host." + zone) +
              struct.pack(">IIIII", 1, 3600, 600, 86400, 300))


def der_tlv(b, i):
    """(tag, start of value, end of value) of the TLV at b[i]."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n


def spki_of(der):
    """The SubjectPublicKeyInfo of a certificate, a tiny DER walk."""
    _, tbs, _ = der_tlv(der, 0)  # Certificate
    tag, i, _ = der_tlv(der, tbs)  # TBSCertificate
    fields = []
    while len(fields) < 7:
        tag, v, e = der_tlv(der, i)
        fields.append((tag, i, e))
        i = e
    if fields[0][0] != 0xA0:  # no explicit version: v1
        fields.insert(0, None)
    _, s, e = fields[6]
    return der[s:e]


def pem_der(path):
    with open(path) as f:
        text = f.read()
    body = text.split("-----BEGIN CERTIFICATE-----")[1].split("-----END")[0]
    return text.encode(), base64.b64decode("".join(body.split()))


def dns_seeds(leaf_der):
    ok = {
        "mx-secure": (T_MX, dns_reply(T_MX, [
            rr("example.com", T_MX, mx_rd(10, "mx.example.com")),
            rr("example.com", T_MX, mx_rd(20, "mx2.example.com"))],
            additional=[opt_rr()])),
        "mx-insecure": (T_MX, dns_reply(T_MX, [
            rr("example.com", T_MX, mx_rd(10, "mx.example.com"))], ad=False)),
        "mx-null": (T_MX, dns_reply(T_MX, [
            rr("example.com", T_MX, mx_rd(0, "."))])),
        "mx-ip-target": (T_MX, dns_reply(T_MX, [
            rr("example.com", T_MX, mx_rd(10, "192.0.2.1")),
            rr("example.com", T_MX, mx_rd(20, "mx.example.com"))])),
        "mx-via-cname": (T_MX, dns_reply(T_MX, [
            rr("example.com", T_CNAME, dname("alias.example.net")),
            rr("alias.example.net", T_MX, mx_rd(5, "mx.example.net"))])),
        "mx-cname-loop": (T_MX, dns_reply(T_MX, [
            rr("example.com", T_CNAME, dname("b.example.com")),
            rr("b.example.com", T_CNAME, dname("example.com"))])),
        "mx-nxdomain": (T_MX, dns_reply(T_MX, authority=[soa("com")],
                                        rcode=3)),
        "mx-nodata": (T_MX, dns_reply(T_MX, authority=[soa("example.com")])),
        "mx-servfail": (T_MX, dns_reply(T_MX, rcode=2, ad=False)),
        "mx-refused": (T_MX, dns_reply(T_MX, rcode=5, ad=False)),
        "a-secure": (T_A, dns_reply(T_A, [
            rr("mx.example.com", T_A, bytes([192, 0, 2, 10])),
            rr("mx.example.com", T_A, bytes([192, 0, 2, 11]))])),
        "a-short-rdata": (T_A, dns_reply(T_A, [
            rr("mx.example.com", T_A, bytes([192, 0, 2]))])),
        "a-via-cname": (T_A, dns_reply(T_A, [
            rr("mx.example.com", T_CNAME, dname("host.example.net")),
            rr("host.example.net", T_A, bytes([198, 51, 100, 7]))])),
        "aaaa-secure": (T_AAAA, dns_reply(T_AAAA, [
            rr("mx.example.com", T_AAAA,
               bytes.fromhex("20010db8000000000000000000000010"))])),
        "cname-query": (T_CNAME, dns_reply(T_CNAME, [
            rr("mx.example.com", T_CNAME, dname("host.example.net"))])),
        "tlsa-secure": (T_TLSA, dns_reply(T_TLSA, [
            rr(QNAME[T_TLSA], T_TLSA, bytes([3, 1, 1]) +
               hashlib.sha256(spki_of(leaf_der)).digest()),
            rr(QNAME[T_TLSA], T_TLSA, bytes([3, 0, 0]) + leaf_der),
            rr(QNAME[T_TLSA], T_TLSA, bytes([1, 1, 1]) + b"\0" * 32),
            rr(QNAME[T_TLSA], T_TLSA, bytes([3, 1, 1]) + b"\0" * 31)])),
        "tlsa-insecure": (T_TLSA, dns_reply(T_TLSA, [
            rr(QNAME[T_TLSA], T_TLSA, bytes([2, 0, 1]) + b"\1" * 32)],
            ad=False)),
    }
    for name, (qtype, pkt) in ok.items():
        write("dns", name, dns_input(qtype, pkt))
    # compression pointers: the answer owner points at the question name
    pkt = dns_reply(T_MX, [])
    ans = b"\xc0\x0c" + struct.pack(">HHIH", T_MX, 1, 300, 4) + \
        struct.pack(">H", 10) + b"\xc0\x0c"
    pkt = pkt[:6] + struct.pack(">H", 1) + pkt[8:] + ans
    write("dns", "mx-compressed", dns_input(T_MX, pkt))
    write("dns", "mx-wrong-id", dns_input(T_MX, dns_reply(T_MX, [
        rr("example.com", T_MX, mx_rd(10, "mx.example.com"))], rid=7),
        take_id=False))
    write("dns", "mx-wrong-question", dns_input(T_MX, dns_reply(T_MX, [],
          qname="example.org")))


# --- fuzz_dane: records, then the chain (see fuzz_dane.c) ---

def tlsa_rec(usage, sel, mtype, data):
    return bytes([usage, sel, mtype]) + struct.pack(">H", len(data)) + data


def dane_seeds(leaf_pem, leaf_der, ca_pem, ca_der):
    chain = leaf_pem + ca_pem
    leaf_spki, ca_spki = spki_of(leaf_der), spki_of(ca_der)
    seeds = {
        "ee-spki-sha256": ([tlsa_rec(3, 1, 1,
                           hashlib.sha256(leaf_spki).digest())], chain),
        "ee-cert-sha512": ([tlsa_rec(3, 0, 2,
                           hashlib.sha512(leaf_der).digest())], chain),
        "ee-cert-full": ([tlsa_rec(3, 0, 0, leaf_der)], leaf_pem),
        "ta-cert-sha256": ([tlsa_rec(2, 0, 1,
                           hashlib.sha256(ca_der).digest())], chain),
        "ta-cert-in-dns": ([tlsa_rec(2, 0, 0, ca_der)], leaf_pem),
        "ta-key-in-dns": ([tlsa_rec(2, 1, 0, ca_spki)], leaf_pem),
        "ta-matches-leaf": ([tlsa_rec(2, 1, 1,
                            hashlib.sha256(leaf_spki).digest())], chain),
        "agility": ([tlsa_rec(3, 1, 1, b"\1" * 32),
                     tlsa_rec(3, 1, 2, hashlib.sha512(leaf_spki).digest()),
                     tlsa_rec(3, 1, 2, b"\2" * 63)], chain),
        "unusable": ([tlsa_rec(0, 0, 1, b"\0" * 32),
                      tlsa_rec(1, 1, 1, b"\0" * 32),
                      tlsa_rec(3, 2, 1, b"\0" * 32),
                      tlsa_rec(3, 1, 255, b"\0" * 8),
                      tlsa_rec(3, 0, 0, b"\x30\x03\x02\x01\x01")], chain),
        "no-match": ([tlsa_rec(3, 1, 1, b"\0" * 32)], chain),
        "garbage-pem": ([tlsa_rec(3, 1, 1, b"\0" * 32)],
                        b"-----BEGIN CERTIFICATE-----\nAAAA\n"
                        b"-----END CERTIFICATE-----\n"),
    }
    for name, (recs, pem) in seeds.items():
        write("dane", name, bytes([len(recs)]) + b"".join(recs) + pem)
    # bit 3: the rest is DER, armoured by the target
    write("dane", "wrapped-der-leaf", bytes([8 | 1]) + tlsa_rec(
        3, 1, 1, hashlib.sha256(leaf_spki).digest()) + leaf_der)
    write("dane", "wrapped-der-ca", bytes([8 | 1]) + tlsa_rec(
        2, 0, 0, ca_der) + ca_der)


# --- fuzz_socks: octet 0 < 0x80 = proxy replies, >= 0x80 = a URL ---

def socks_seeds():
    replies = {
        "method-none": b"\x05\x00",
        "method-nomatch": b"\x05\xff",
        "auth-ok": b"\x01\x00",
        "reply-v4": b"\x05\x00\x00\x01\x7f\x00\x00\x15\x9c\x40",
        "reply-refused": b"\x05\x05\x00\x01" + bytes(6),
        "reply-v6": b"\x05\x00\x00\x04" + bytes(15) + b"\x01\x00\x19",
        "reply-name": b"\x05\x00\x00\x03\x03abc\x00\x19",
    }
    for name, data in replies.items():
        write("socks", name, b"\x00" + data)
    urls = [
        "socks5://127.0.0.21:1080",
        "socks5://mxuser:p@ss:w0rd@127.0.0.22:1080",
        "socks5://a%3Ab:p%40ss@[::1]:1080/",
        "ssh://root@127.0.0.23",
        "ssh://gw.example:2222",
        "socks5h://x",
    ]
    for i, u in enumerate(urls):
        write("socks", "url-%d" % i, b"\x80" + u.encode())


# --- fuzz_sts: octet 0 % 5 picks the parser (see fuzz_sts.c) ---

STS_POLICY = (b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
              b"mx: *.example.net\r\nmax_age: 604800\r\n")


def sts_cache_record(policy, fetched=1700000000, max_age=604800,
                     rid=b"20240101T000000"):
    head = b"mxclient-sts-cache 1\nfetched %d\nexpires %d\nfailed 0\n" \
        b"used %d\nid %s\ntext %d\n" % (fetched, fetched + max_age,
                                         fetched + 60, rid, len(policy))
    return head + policy + b"\nend\n"


def sts_seeds():
    txt = {
        "txt-rfc": b"v=STSv1; id=20160831085700Z;",
        "txt-ext": b"v=STSv1 ;id=abc; x.y_z=!#$%&:<>?@;\t",
        "txt-no-id": b"v=STSv1;",
        "txt-two-ids": b"v=STSv1; id=1; id=2",
        "txt-other": b"v=STSv10; id=1",
    }
    policy = {
        "policy-rfc": STS_POLICY,
        "policy-lf-none": b"version: STSv1\nmode: none\nmax_age: 86400\n\n",
        "policy-testing-ext": b"mx:a.example\nmax_age:0\nmode:\ttesting \n"
        b"version: STSv1\nfoo: caf\xc3\xa9 a=b;c",
        "policy-dup-mode": b"version: STSv1\nmode: none\nmode: none\n",
        "policy-bad-mx": b"version: STSv1\nmode: enforce\nmax_age: 1\n"
        b"mx: a..example\n",
    }
    for name, data in txt.items():
        write("sts", name, b"\x00" + data)
    for name, data in policy.items():
        write("sts", name, b"\x01" + data)
    write("sts", "cache-policy", b"\x02" + sts_cache_record(STS_POLICY))
    write("sts", "cache-failed", b"\x02mxclient-sts-cache 1\nfetched 0\n"
          b"expires 0\nfailed 1700000300\nused 0\nid\ntext 0\n\nend\n")
    write("sts", "match-wildcard", b"\x03" + STS_POLICY + b"\0MX1.Example.NET.")
    write("sts", "match-exact", b"\x03" + STS_POLICY + b"\0mail.example.com")
    write("sts", "name-upper", b"\x04Mail.EXAMPLE.com")
    write("sts", "name-bad", b"\x04../etc")


# --- fuzz_http: octet 0 picks the body limit and the pieces ---

HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"


def http_seeds():
    seeds = {
        "length": HTTP_OK + b"Content-Length: %d\r\n\r\n" % len(STS_POLICY)
        + STS_POLICY,
        "chunked": HTTP_OK + b"Transfer-Encoding: chunked\r\n\r\n"
        b"10;x=y\r\nversion: STSv1\r\n\r\n5\r\nmode:\r\n0\r\n"
        b"X-Trailer: 1\r\n\r\n",
        "until-close": b"HTTP/1.0 200 OK\r\nContent-Type: TEXT/PLAIN\r\n"
        b"Server: x\r\n\r\n" + STS_POLICY,
        "redirect": b"HTTP/1.1 301 Moved Permanently\r\n"
        b"Location: https://mta-sts.example.net/\r\n\r\n",
        "not-found": b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html"
        b"\r\nContent-Length: 9\r\n\r\nnot found",
        "html": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>",
        "cl-and-te": HTTP_OK + b"Content-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "obs-fold": HTTP_OK + b"X: a\r\n b\r\n\r\n",
        "short-body": HTTP_OK + b"Content-Length: 100\r\n\r\nversion",
        "continue": b"HTTP/1.1 100 Continue\r\n\r\n",
    }
    for i, (name, data) in enumerate(sorted(seeds.items())):
        write("http", name, bytes([i * 4 & 0xff]) + data)
    write("http", "small-limit", b"\x01" + HTTP_OK
          + b"Content-Length: 17\r\n\r\n0123456789abcdefg")


def main():
    leaf_pem, leaf_der = pem_der(os.path.join(HERE, "certs", "leaf.pem"))
    ca_pem, ca_der = pem_der(os.path.join(HERE, "certs", "ca.pem"))
    reply_seeds()
    frame_seeds()
    norm_seeds()
    addr_seeds()
    dns_seeds(leaf_der)
    dane_seeds(leaf_pem, leaf_der, ca_pem, ca_der)
    socks_seeds()
    sts_seeds()
    http_seeds()


if __name__ == "__main__":
    main()
