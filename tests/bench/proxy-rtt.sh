#!/bin/bash
# Benchmark (not part of make check): the round trips each proxy
# transport adds.  delayproxy.py holds every chunk D ms each way between
# mxclient and the thing it connects to: Postfix itself (direct, the
# baseline), microsocks (SOCKS5, without and with RFC 1929
# authentication) or sshd (ssh -W).  Nothing is delayed behind the proxy.
# Round trips = (median delayed - median undelayed) / 2D; what a
# transport adds is its count minus the direct count.  The TCP handshake
# to whatever listens on the delaying proxy is not delayed in any mode.
# Run as root: tests/lab/netns.sh tests/bench/proxy-rtt.sh [N] [D]
set -eu
cd "$(dirname "$0")/../.."
N=${1:-7}
D=${2:-50}
LAB=$(mktemp -d /tmp/mxclient-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; tests/lab/proxies.sh stop "$LAB" >/dev/null 2>&1; tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1; rm -rf "$LAB"' EXIT
tests/lab/lab.sh start "$LAB" >/dev/null
tests/lab/proxies.sh start "$LAB" >/dev/null
. "$LAB/lab.env"
. "$LAB/proxies/proxies.env"
ip addr add 127.0.0.20/32 dev lo 2>/dev/null || true
printf 'From: a@example.org\nSubject: bench\n\nbody\n' >"$LAB/msg"

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

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
		echo $((($(date +%s%N) - t) / 1000000))
	done
	grep -q 'verified by TLSA' "$LAB/out" || { echo "not a DANE delivery" >&2; cat "$LAB/out" >&2; exit 1; }
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# measure NAME LISTEN TARGET RCPT [args]: one line of the table
measure() {
	local name=$1 listen=$2 target=$3 rcpt=$4 t0 tD
	shift 4
	t0=$(times 0 "$listen" "$target" "$rcpt" "$@" | median)
	tD=$(times "$D" "$listen" "$target" "$rcpt" "$@" | median)
	awk -v n="$name" -v a="$t0" -v b="$tD" -v d="$D" -v base="${BASE:-}" 'BEGIN {
	    r = (b - a) / (2 * d)
	    extra = base == "" ? "" : sprintf("%+.1f", r - base)
	    printf "%-22s %8.1f %10.1f %12.1f %8s\n", n, a, b, r, extra }'
}

echo "DANE delivery to Postfix, $N runs per median, delay $D ms each way in front of the named peer"
printf "%-22s %8s %10s %12s %8s\n" transport "t0 (ms)" "tD (ms)" "round trips" added
line=$(measure direct 127.0.0.20:25 "$LAB_MX_ADDR:25" rcpt@delayed.example)
echo "$line"
BASE=$(echo "$line" | awk '{print $(NF)}')
export BASE
measure "SOCKS5" 127.0.0.20:1081 "$PROXY_SOCKS_ADDR:1080" rcpt@secure.example \
    --proxy socks5://127.0.0.20:1081
measure "SOCKS5 + RFC 1929" 127.0.0.20:1082 "$PROXY_SOCKS_AUTH_ADDR:1080" rcpt@secure.example \
    --proxy "socks5://$PROXY_SOCKS_USER:$PROXY_SOCKS_PASS@127.0.0.20:1082"
measure "ssh -W" 127.0.0.20:2222 "$PROXY_SSH_ADDR:22" rcpt@secure.example \
    --proxy ssh://root@127.0.0.20:2222
