#!/usr/bin/env python3
"""Write a test message of about SIZE octets, twice.

Usage: genmsg.py SIZE OUT STUFFED

OUT is the message as a user hands it to mxclient: LF line endings.
STUFFED is the same message as it goes on the wire between DATA and the
final dot: CRLF line endings and dot-stuffing (a line that starts with
"." gets another one), as the benchmarks' raw client (rawsmtp) sends it.

The text is made to look like mail: a header, paragraphs of words
wrapped at 72 columns, quoted lines, a signature after "-- ", a few
lines that start with a dot, and base64 blocks of 76 columns as in an
attachment.  Every line is shorter than 998 octets.  The output is the
same for the same SIZE (seeded PRNG); OUT stops with the first line that
reaches SIZE octets, and its size is printed.
"""
import random
import sys

WORDS = """the of and to a in is it you that he was for on are with as his
they be at one have this from or had by hot word but what some we can out
other were all there when up use your how said an each she which do their
time if will way about many then them write would like so these her long
make thing see him two has look more day could go come did number sound no
most people my over know water than call first who may down side been now
find any new work part take get place made live where after back little only
round man year came show every good me give our under name very through just
form sentence great think say help low line differ turn cause much mean
before move right boy old too same tell does set three want air well also
play small end put home read hand port large spell add even land here must
big high such follow act why ask men change went light kind off need house
picture try us again animal point mother world near build self earth father
delivery message server certificate key record domain resolver invoice
meeting schedule report attached please regards thanks tomorrow account
password reset token order shipment quarterly budget draft review""".split()

BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def paragraph(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 120))]
    words[0] = words[0].capitalize()
    lines, cur = [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > 72:
            lines.append(cur)
            cur = w
        else:
            cur = cur + " " + w if cur else w
    lines.append(cur + ".")
    return lines


def pool(rng, nlines):
    """NLINES lines to draw from: paragraphs, quotes, base64."""
    out = []
    while len(out) < nlines:
        kind = rng.random()
        if kind < 0.55:
            out.extend(paragraph(rng) + [""])
        elif kind < 0.70:
            out.extend(["> " + ln for ln in paragraph(rng)] + [""])
        elif kind < 0.75:
            # lines that start with a dot: dot-stuffing has work to do
            out.extend([".", ". " + " ".join(rng.choices(WORDS, k=6)),
                        "..." + rng.choice(WORDS), ""])
        elif kind < 0.78:
            # one long line (an HTML part, say), under 998 octets
            out.append(" ".join(rng.choices(WORDS, k=rng.randint(60, 150)))[:990])
        else:
            out.extend("".join(rng.choices(BASE64_ALPHABET, k=76)) for _ in range(rng.randint(5, 40)))
            out.append("")
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    size = int(sys.argv[1])
    rng = random.Random(size)
    # up to 50000 lines (about 3 MB): fewer for a small message
    lines = pool(rng, min(50000, max(200, size // 40)))
    header = [
        "From: Bench Sender <a@example.org>",
        "To: <rcpt@secure.example>",
        "Subject: mxclient benchmark message of %d octets" % size,
        "Date: Mon, 01 Jan 2024 00:00:00 +0000",
        "Message-ID: <bench-%d@example.org>" % size,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
    ]
    n = 0
    with open(sys.argv[2], "w", newline="\n") as out, \
            open(sys.argv[3], "w", newline="") as stuffed:
        def emit(chunk):
            out.write("\n".join(chunk) + "\n")
            stuffed.write("".join(("." + ln if ln.startswith(".") else ln) + "\r\n"
                                  for ln in chunk))

        emit(header)
        n = sum(len(ln) + 1 for ln in header)
        batch = []
        while n < size:
            # a run of consecutive lines of the pool: whole paragraphs
            i = rng.randrange(len(lines))
            for ln in lines[i:i + rng.randint(1, 60)]:
                batch.append(ln)
                n += len(ln) + 1
                if n >= size:
                    break
            if len(batch) >= 4096:
                emit(batch)
                batch = []
        if batch:
            emit(batch)
    print(n)


if __name__ == "__main__":
    main()
