#!/bin/bash
# make demo: start the test lab in a private network namespace (signed
# DNS on NSD, validating Unbound, Postfix as the MX) and deliver one
# message through it with mxclient, showing the whole transcript.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (unshare -n -m for the private lab network)" >&2
	exit 1
fi
if [ -z "${LAB_NETNS:-}" ]; then
	exec tests/lab/netns.sh "$0" "$@"
fi

LAB=$(mktemp -d /tmp/mxclient-demo.XXXXXX)
trap 'tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1; rm -rf "$LAB"' EXIT
echo "== starting the lab (NSD + Unbound + Postfix) in $LAB"
tests/lab/lab.sh start "$LAB" >"$LAB/start.out" 2>&1 || {
	cat "$LAB/start.out"
	exit 1
}
. "$LAB/lab.env"
id="demo.$$.$RANDOM@mxclient.example"
cat >"$LAB/message" <<MSG
From: Demo <demo@example.org>
To: <rcpt@secure.example>
Subject: mxclient demo
Date: $(LC_ALL=C date -R)
Message-ID: <$id>

Hello from mxclient.
.This line starts with a dot: it is sent as "..This" and arrives intact.
MSG

echo "== mxclient -v --resolver $LAB_RESOLVER -f demo@example.org rcpt@secure.example < message"
set +e
./mxclient -v --resolver "$LAB_RESOLVER" -f demo@example.org rcpt@secure.example <"$LAB/message"
rc=$?
set -e
echo "== exit status $rc"
for _ in $(seq 50); do
	f=$(grep -l "Message-ID: <$id>" "$LAB_MAILDIR"/new/* 2>/dev/null | head -1) && [ -n "$f" ] && break
	sleep 0.1
done
if [ -n "${f:-}" ]; then
	echo "== the message as Postfix delivered it ($f)"
	cat "$f"
else
	echo "== the message did not arrive" >&2
	exit 1
fi
exit "$rc"
