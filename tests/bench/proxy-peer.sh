#!/bin/bash
# Benchmark (not part of make check): one delivery through the lab's
# SOCKS5 proxy (microsocks), mxclient against curl (a peer SMTP client
# with SOCKS5 support, given the MX address: no DNS, no DANE, STARTTLS
# required, certificate not checked), alternating, N runs each.  Prints
# the medians and their ratio.  Run as root:
#   tests/lab/netns.sh tests/bench/proxy-peer.sh [N]
set -eu
cd "$(dirname "$0")/../.."
N=${1:-30}
LAB=$(mktemp -d /tmp/mxclient-bench.XXXXXX)
trap 'tests/lab/proxies.sh stop "$LAB" >/dev/null 2>&1; tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1; rm -rf "$LAB"' EXIT
tests/lab/lab.sh start "$LAB" >/dev/null
tests/lab/proxies.sh start "$LAB" >/dev/null
. "$LAB/lab.env"
. "$LAB/proxies/proxies.env"
printf 'From: a@example.org\r\nSubject: bench\r\n\r\nbody\r\n' >"$LAB/msg"
P=$PROXY_SOCKS_ADDR:$PROXY_SOCKS_PORT

. tests/bench/lib.sh

: >"$LAB/mx.times"
: >"$LAB/curl.times"
for _ in $(seq "$N"); do
	t=$(date +%s%N)
	./mxclient -q --proxy "socks5://$P" --resolver "$LAB_RESOLVER" -f a@example.org \
	    rcpt@secure.example <"$LAB/msg"
	ms "$t" >>"$LAB/mx.times"
	t=$(date +%s%N)
	curl -s --socks5 "$P" --url "smtp://$LAB_MX_ADDR" --ssl-reqd -k \
	    --mail-from a@example.org --mail-rcpt rcpt@secure.example -T "$LAB/msg"
	ms "$t" >>"$LAB/curl.times"
done
mx=$(median <"$LAB/mx.times")
cu=$(median <"$LAB/curl.times")
echo "deliveries through SOCKS5 (microsocks): $N each, STARTTLS (TLS 1.3) to a local Postfix"
echo "mxclient median: $mx ms (DNS lookups through Unbound and DANE included)"
echo "curl     median: $cu ms (no DNS, no authentication of the server)"
awk -v a="$mx" -v b="$cu" 'BEGIN {printf "ratio mxclient/curl: %.2f\n", a / b}'
