#!/bin/bash
# Benchmark (not part of make check): round trips of one DANE delivery.
# A proxy (delayproxy.py) holds every chunk D ms each way in front of the
# lab's Postfix; the extra wall time over an undelayed run, divided by
# 2D, is the number of SMTP round trips.  DNS round trips (waves) come
# from mxclient -v.  Run as root: tests/lab/netns.sh tests/bench/rtt.sh [N] [D]
set -eu
cd "$(dirname "$0")/../.."
N=${1:-7}
D=${2:-50}
LAB=$(mktemp -d /tmp/mxclient-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1; rm -rf "$LAB"' EXIT
tests/lab/lab.sh start "$LAB" >/dev/null
. "$LAB/lab.env"
ip addr add 127.0.0.20/32 dev lo 2>/dev/null || true
printf 'From: a@example.org\nSubject: bench\n\nbody\n' >"$LAB/msg"

. tests/bench/lib.sh

# times DELAY: N delivery times (ms) through a proxy with that delay
times() {
	python3 tests/bench/delayproxy.py 127.0.0.20:25 "$LAB_MX_ADDR:25" "$1" 300 >"$LAB/proxy.out" &
	local pid=$! t
	for _ in $(seq 50); do grep -q ready "$LAB/proxy.out" 2>/dev/null && break; sleep 0.1; done
	for _ in $(seq "$N"); do
		t=$(date +%s%N)
		./mxclient -v --resolver "$LAB_RESOLVER" -f a@example.org rcpt@delayed.example <"$LAB/msg" >"$LAB/out" 2>&1 ||
			{ cat "$LAB/out"; exit 1; }
		echo $((($(date +%s%N) - t) / 1000000))
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

t0=$(times 0 | median)
tD=$(times "$D" | median)
grep -q 'verified by TLSA' "$LAB/out" || { echo "not a DANE delivery"; cat "$LAB/out"; exit 1; }
waves=$(grep '^dns: .* resolver round trips' "$LAB/out" | tail -1 | awk '{print $2}')
echo "DANE delivery (TLS 1.3, PIPELINING), $N runs each, proxy delay $D ms each way"
echo "median without delay: $t0 ms; with delay: $tD ms"
# The proxy accepts at once (the TCP handshake is not delayed) and the
# greeting crosses it one way: add 1.5 to count TCP set-up + greeting as 2.
awk -v a="$t0" -v b="$tD" -v d="$D" 'BEGIN {r = (b - a) / (2 * d);
    printf "delayed round trips: %.1f; counting TCP set-up + greeting as 2: %.1f\n", r, r + 1.5}'
echo "DNS round trips (waves): $waves"
