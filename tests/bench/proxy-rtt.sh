#!/bin/bash
# Benchmark (not part of make check): the round trips each proxy
# transport adds.  delayproxy.py holds every chunk D ms each way between
# mxclient and the thing it connects to: Postfix itself (direct, the
# baseline), microsocks (SOCKS5, without and with RFC 1929
# authentication) or sshd (ssh -W).  Nothing is delayed behind the proxy.
# Two measures, each (median delayed - median undelayed) / 2D:
#  - the whole delivery (wall time); what a transport adds is its count
#    minus the direct count.  Proxies without TCP_NODELAY (microsocks)
#    add fixed Nagle/delayed-ACK stalls that overlap with the delay, so
#    this one blurs;
#  - the proxy set-up alone, from net's "reached through ... in N ms"
#    line: from the connect request to the stream handed to tls.  For
#    ssh that ends when the first octet of the greeting has come
#    through, which crosses the delay one way (half a round trip).
# The TCP handshake to whatever listens on the delaying proxy is not
# delayed in any mode (it accepts at once), just as a direct
# connection's own handshake is not counted.
# Run as root: tests/lab/netns.sh tests/bench/proxy-rtt.sh [N] [D]
set -eu
cd "$(dirname "$0")/../.."
N=${1:-7}
D=${2:-50}
LAB=$(mktemp -d /tmp/mxclient-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; tests/lab/proxies.sh stop "$LAB" >/dev/null 2>&1; tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1; rm -rf "$LAB"' EXIT
tests/lab/lab.sh start "$LAB" >/dev/null
tests/lab/proxies.sh start "$LAB" >/dev/null
. "$LAB/lab.env"
. "$LAB/proxies/proxies.env"
ip addr add 127.0.0.20/32 dev lo 2>/dev/null || true
printf 'From: a@example.org\nSubject: bench\n\nbody\n' >"$LAB/msg"

. tests/bench/lib.sh

# times DELAY LISTEN TARGET RCPT [mxclient args]: N delivery times in ms
times() {
	local delay=$1 listen=$2 target=$3 rcpt=$4 pid t
	shift 4
	python3 tests/bench/delayproxy.py "$listen" "$target" "$delay" 600 >"$LAB/proxy.out" &
	pid=$!
	for _ in $(seq 50); do grep -q ready "$LAB/proxy.out" 2>/dev/null && break; sleep 0.1; done
	for _ in $(seq "$N"); do
		t=$(date +%s%N)
		./mxclient "$@" --resolver "$LAB_RESOLVER" -f a@example.org "$rcpt" <"$LAB/msg" >"$LAB/out" 2>&1 ||
			{ cat "$LAB/out" >&2; exit 1; }
		t=$((($(date +%s%N) - t) / 1000000))
		s=$(sed -n 's/^net: .* reached through .* in \([0-9]*\) ms$/\1/p' "$LAB/out")
		echo "$t ${s:-0}"
	done
	grep -q 'verified by TLSA' "$LAB/out" || { echo "not a DANE delivery" >&2; cat "$LAB/out" >&2; exit 1; }
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# measure NAME LISTEN TARGET RCPT [args]: one line of the table
measure() {
	local name=$1 listen=$2 target=$3 rcpt=$4 t0 tD s0 sD
	shift 4
	times 0 "$listen" "$target" "$rcpt" "$@" >"$LAB/t0"
	times "$D" "$listen" "$target" "$rcpt" "$@" >"$LAB/tD"
	t0=$(awk '{print $1}' "$LAB/t0" | median)
	tD=$(awk '{print $1}' "$LAB/tD" | median)
	s0=$(awk '{print $2}' "$LAB/t0" | median)
	sD=$(awk '{print $2}' "$LAB/tD" | median)
	awk -v n="$name" -v a="$t0" -v b="$tD" -v d="$D" -v base="${BASE:-}" \
	    -v s0="$s0" -v sD="$sD" 'BEGIN {
	    r = (b - a) / (2 * d)
	    extra = base == "" ? "" : sprintf("%+.1f", r - base)
	    printf "%-18s %7.1f %8.1f %7.1f %7s %9.1f %9.1f %7.1f\n", n, a, b, r, extra, s0, sD, (sD - s0) / (2 * d) }'
}

echo "DANE delivery to Postfix, $N runs per median, delay $D ms each way in front of the named peer"
printf "%-18s %7s %8s %7s %7s %9s %9s %7s\n" transport "t0" "tD" "RTTs" added "setup0" "setupD" "RTTs"
echo "                   (whole delivery, ms)              (proxy set-up in net, ms)"
line=$(measure direct 127.0.0.20:25 "$LAB_MX_ADDR:25" rcpt@delayed.example)
echo "$line"
BASE=$(echo "$line" | awk '{print $4}')
export BASE
measure "SOCKS5" 127.0.0.20:1081 "$PROXY_SOCKS_ADDR:1080" rcpt@secure.example \
    --proxy socks5://127.0.0.20:1081
measure "SOCKS5 + RFC 1929" 127.0.0.20:1082 "$PROXY_SOCKS_AUTH_ADDR:1080" rcpt@secure.example \
    --proxy "socks5://$PROXY_SOCKS_USER:$PROXY_SOCKS_PASS@127.0.0.20:1082"
measure "ssh -W" 127.0.0.20:2222 "$PROXY_SSH_ADDR:22" rcpt@secure.example \
    --user "$PROXY_LOCAL_USER" --proxy ssh://root@127.0.0.20:2222
