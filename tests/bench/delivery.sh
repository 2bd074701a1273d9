#!/bin/bash
# Benchmark (not part of make check): wall time of one delivery through
# the lab, mxclient against swaks (a peer SMTP client, given the MX
# directly: it skips the DNS lookups) run side by side, alternating, N
# runs each.  Prints the medians and their ratio.  Run as root:
#   tests/lab/netns.sh tests/bench/delivery.sh [N]
set -eu
cd "$(dirname "$0")/../.."
N=${1:-30}
LAB=$(mktemp -d /tmp/mxclient-bench.XXXXXX)
trap 'tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1; rm -rf "$LAB"' EXIT
tests/lab/lab.sh start "$LAB" >/dev/null
. "$LAB/lab.env"
printf 'From: a@example.org\nSubject: bench\n\nbody\n' >"$LAB/msg"

. tests/bench/lib.sh

: >"$LAB/mx.times"
: >"$LAB/swaks.times"
for _ in $(seq "$N"); do
	t=$(date +%s%N)
	./mxclient -q --resolver "$LAB_RESOLVER" -f a@example.org rcpt@secure.example <"$LAB/msg"
	ms "$t" >>"$LAB/mx.times"
	t=$(date +%s%N)
	swaks -S 2 --server "$LAB_MX_ADDR" --tls --from a@example.org --to rcpt@secure.example --data "@$LAB/msg" >/dev/null
	ms "$t" >>"$LAB/swaks.times"
done
mx=$(median <"$LAB/mx.times")
sw=$(median <"$LAB/swaks.times")
echo "deliveries: $N each, STARTTLS (TLS 1.3) to a local Postfix"
echo "mxclient median: $mx ms (MX, probe, A, AAAA, TLSA lookups through Unbound and DANE included)"
echo "swaks    median: $sw ms (no DNS: --server given)"
awk -v a="$mx" -v b="$sw" 'BEGIN {printf "ratio mxclient/swaks: %.2f\n", a / b}'
