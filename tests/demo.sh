#!/bin/bash
# make demo: a newcomer's first look.  Starts the test lab in a private
# network namespace (DNSSEC-signed zones on NSD, a validating Unbound,
# Postfix as the MX) and delivers two messages through it with mxclient:
# one to a domain whose MX is protected by DANE, one to a domain without
# DANE.  Shows both transcripts and the headers of what arrived.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (unshare -n -m for the private lab network)" >&2
	exit 1
fi
if [ -z "${LAB_NETNS:-}" ]; then
	exec tests/lab/netns.sh "$0" "$@"
fi

cat <<'TXT'
== mxclient demo
This starts a private test network (nothing leaves this machine): NSD
serves DNSSEC-signed zones, Unbound validates them, and Postfix is the
mail exchanger.  mxclient then sends two messages:
  1. to rcpt@secure.example, whose MX publishes signed TLSA records:
     DANE applies, the server's key must match before anything is sent;
  2. to rcpt@insecure.example, an unsigned zone: opportunistic TLS only.
TXT

LAB=$(mktemp -d /tmp/mxclient-demo.XXXXXX)
trap 'tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1; rm -rf "$LAB"' EXIT
echo
echo "== starting the lab in $LAB"
tests/lab/lab.sh start "$LAB" >"$LAB/start.out" 2>&1 || {
	cat "$LAB/start.out"
	exit 1
}
. "$LAB/lab.env"

# deliver N DOMAIN: one message, the whole transcript, the headers
deliver() {
	local n=$1 dom=$2 id f rc
	id="demo$n.$$.$RANDOM@mxclient.example"
	cat >"$LAB/message" <<MSG
From: Demo <demo@example.org>
To: <rcpt@$dom>
Subject: mxclient demo $n
Date: $(LC_ALL=C date -R)
Message-ID: <$id>

Hello from mxclient.
.This line starts with a dot: it is sent as "..This" and arrives intact.
MSG
	echo
	echo "== $n. mxclient -v --resolver $LAB_RESOLVER -f demo@example.org rcpt@$dom < message"
	set +e
	./mxclient -v --resolver "$LAB_RESOLVER" -f demo@example.org "rcpt@$dom" <"$LAB/message"
	rc=$?
	set -e
	echo "== exit status $rc"
	for _ in $(seq 50); do
		f=$(grep -l "Message-ID: <$id>" "$LAB_MAILDIR"/new/* 2>/dev/null | head -1) || true
		[ -n "$f" ] && break
		sleep 0.1
	done
	if [ -z "$f" ]; then
		echo "== the message did not arrive" >&2
		return 1
	fi
	echo "== as Postfix delivered it (headers):"
	sed '/^$/q' "$f"
	return "$rc"
}

deliver 1 secure.example
deliver 2 insecure.example
cat <<'TXT'

== what this showed
1. secure.example: the MX lookup was signed ("secure MX"), the host had a
   usable TLSA record ("DANE required"), the server's key matched it
   right after the TLS handshake, and only then did EHLO, MAIL FROM and
   the message go out: "verified by TLSA 3 1 1".
2. insecure.example: no DNSSEC, so no TLSA lookup at all; STARTTLS was
   still used, but the server was not authenticated: "encrypted (server
   not authenticated)".
Run "make check" for the whole test suite, and see "man -l man/mxclient.1".
TXT
