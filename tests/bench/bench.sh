#!/bin/bash
# bench.sh - make bench: the performance figures of issue 13 in one report
# (doc/performance.md says what each one means and how it is computed).
#
# Run as root, in a private namespace:   tests/lab/netns.sh tests/bench/bench.sh
# or `make bench` (BENCH_QUICK=1 for a run of about a minute).
#
# Every client runs through the same measurements, interleaved (A, B, A,
# B, ... within each round), against the lab of tests/lab/lab.sh:
#
#   1. CPU per delivery (user+sys of every process) of a 1 KB message
#   2. deliveries per second, 200 deliveries into one Postfix, 16 and 32
#      at once
#   3. wall time and MB/s of 1, 10 and 100 MB messages
#   4. peak RSS of each process at 1 KB and at the largest size
#   5. SMTP round trips of a DANE delivery (delayproxy.py in front of Postfix)
#   6. DNS waves (dnsdelay.py in front of Unbound)
#   7. instructions per delivery under valgrind --tool=callgrind
#
# The clients: mxclient (MXCLIENT, default ./mxclient), PEER and PEER2
# when given, and tests/bench/rawsmtp (the raw STARTTLS floor).  A client
# is a command template whose placeholders are filled in per measurement:
#
#   {from}      envelope sender (a@example.org)
#   {rcpt}      recipient: rcpt@secure.example (rcpt@delayed.example in 5)
#   {domain}    the recipient's domain
#   {msg}       the message file, LF line endings (also the command's stdin)
#   {stuffed}   the same message as it goes on the wire: CRLF, dot-stuffed
#   {size}      octets of {msg}
#   {mx}        the MX address: 127.0.0.10 (127.0.0.20, the delaying proxy, in 5)
#   {mxname}    the MX host name: mx.secure.example (mx.delayed.example in 5)
#   {port}      25
#   {resolver}  the validating resolver: 127.0.0.1 (the relays in 6); the
#               namespace's /etc/resolv.conf names it too when PEER is set
#   {cafile}    the lab CA certificate (Postfix's chain ends there)
#   {tlsa}      the TLSA record of the MX: 3 1 1 <hex>
#
# A template is shell words (quotes allowed; no pipes or redirections: use
# sh -c '...' for those); each value is substituted as one word.  A client
# whose template names {mx} is taken to do no DNS: it gets no DNS-waves row.
# A run counts when the command exits 0.
#
# Environment:
#   BENCH_QUICK=1          fewer runs (about a minute)
#   PEER='template' PEER_NAME=name, PEER2=... PEER2_NAME=...
#   MXCLIENT=path          the mxclient to measure (MXCLIENT_SBTEST for 7)
#   BENCH_DELAY=ms         the one-way delay of 5 and 6 (50; quick 30)
#   BENCH_SIZES="1 10 100" message sizes of 3, in MB (10^6 octets)
#   BENCH_PARALLEL="16 32" BENCH_TOTAL=200   section 2
#   BENCH_CALLGRIND=0      skip section 7
#   BENCH_REPORT=file      also write the report there
#   BENCH_LAB=dir          use that running lab (else one is started and stopped)
#   BENCH_SMOKE=1          a few seconds, tiny counts (tests/e2e/t_bench.sh)
set -eu
cd "$(dirname "$0")/../.."
shopt -u patsub_replacement 2>/dev/null || true
. tests/bench/lib.sh

QUICK=${BENCH_QUICK:-0}
SMOKE=${BENCH_SMOKE:-0}
WARM=1
MXCLIENT=${MXCLIENT:-./mxclient}
MXCLIENT_SBTEST=${MXCLIENT_SBTEST:-${MXCLIENT}-sbtest}
BENCHRUN=tests/bench/benchrun
RAWSMTP=tests/bench/rawsmtp
PY=python3
[ ! -x /usr/bin/python3 ] || PY=/usr/bin/python3

if [ "$SMOKE" = 1 ]; then
	N_CPU=1 N_PAR=1 TOTAL=${BENCH_TOTAL:-4} PARALLEL=${BENCH_PARALLEL:-2}
	SIZES=${BENCH_SIZES:-0.1} N_SIZE="1 1 1" N_RTT=1 D=${BENCH_DELAY:-5}
	CALLGRIND=${BENCH_CALLGRIND:-0} WARM=0
elif [ "$QUICK" = 1 ]; then
	N_CPU=11 N_PAR=1 TOTAL=${BENCH_TOTAL:-200} PARALLEL=${BENCH_PARALLEL:-16 32}
	SIZES=${BENCH_SIZES:-1 10 100} N_SIZE="3 3 1" N_RTT=3 D=${BENCH_DELAY:-30}
	CALLGRIND=${BENCH_CALLGRIND:-1}
else
	N_CPU=51 N_PAR=5 TOTAL=${BENCH_TOTAL:-200} PARALLEL=${BENCH_PARALLEL:-16 32}
	SIZES=${BENCH_SIZES:-1 10 100} N_SIZE="9 7 5" N_RTT=7 D=${BENCH_DELAY:-50}
	CALLGRIND=${BENCH_CALLGRIND:-1}
fi

die() { echo "bench.sh: $*" >&2; exit 1; }
for f in "$MXCLIENT" "$BENCHRUN" "$RAWSMTP"; do
	[ -x "$f" ] || die "$f is missing (make mxclient tests/bench/benchrun tests/bench/rawsmtp)"
done
[ "$(id -u)" = 0 ] || die "needs root (the lab)"
# it adds addresses to lo and may bind-mount /etc/resolv.conf: only in
# the private namespaces of tests/lab/netns.sh
. tests/lab/ns.sh
private_netns && private_mntns || die "run it inside tests/lab/netns.sh (make bench does)"

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

# --- the lab -----------------------------------------------------------
W=$(mktemp -d /tmp/mxclient-bench.XXXXXX)
chmod 755 "$W"
OWN_LAB=0
if [ -n "${BENCH_LAB:-}" ]; then
	LAB=$BENCH_LAB
else
	LAB=$W/lab
	OWN_LAB=1
fi
ADDED_ADDRS=()
RESOLV_MOUNTED=0
cleanup() {
	local a
	kill $(jobs -p) 2>/dev/null || true
	wait 2>/dev/null || true
	[ "$RESOLV_MOUNTED" = 0 ] || umount /etc/resolv.conf 2>/dev/null || true
	for a in "${ADDED_ADDRS[@]}"; do ip addr del "$a/32" dev lo 2>/dev/null || true; done
	[ "$OWN_LAB" = 0 ] || tests/lab/lab.sh stop "$LAB" >/dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT
if [ "$OWN_LAB" = 1 ]; then
	tests/lab/lab.sh start "$LAB" >/dev/null
fi
. "$LAB/lab.env"
for a in 127.0.0.7 127.0.0.8 127.0.0.20; do
	ip -4 addr show dev lo | grep -q "inet $a/" && continue
	ip addr add "$a/32" dev lo || die "cannot add $a to lo"
	ADDED_ADDRS+=("$a")
done

# --- the clients -------------------------------------------------------
NAMES=(mxclient)
TPL=("$MXCLIENT -v --resolver {resolver} -f {from} {rcpt}")
if [ -n "${PEER:-}" ]; then
	NAMES+=("${PEER_NAME:-peer}")
	TPL+=("$PEER")
fi
if [ -n "${PEER2:-}" ]; then
	NAMES+=("${PEER2_NAME:-peer2}")
	TPL+=("$PEER2")
fi
NAMES+=(raw)
TPL+=("$RAWSMTP -c {mx}:{port} -n {mxname} -f {from} -r {rcpt} -m {stuffed}")
NC=${#NAMES[@]}
RAW=$((NC - 1))

# Peers that use the system resolver: /etc/resolv.conf (a bind mount in
# this private mount namespace) names {resolver}.
if [ "$NC" -gt 2 ]; then
	printf 'nameserver %s\noptions edns0 trust-ad\n' "$LAB_RESOLVER" >"$W/resolv.conf"
	mount --bind "$W/resolv.conf" /etc/resolv.conf
	RESOLV_MOUNTED=1
fi

# The placeholders of the current measurement.
declare -A PH=([from]=a@example.org [rcpt]=rcpt@secure.example [domain]=secure.example
	[mx]=$LAB_MX_ADDR [mxname]=$LAB_MX_NAME [port]=25 [resolver]=$LAB_RESOLVER
	[cafile]=$LAB_CA_CERT [tlsa]=$LAB_MX_TLSA)
CUR_RESOLVER=$LAB_RESOLVER

# set_msg NAME: {msg}, {stuffed}, {size} from the messages made below
set_msg() {
	PH[msg]=$W/msg.$1
	PH[stuffed]=$W/msg.$1.crlf
	PH[size]=$(stat -c %s "$W/msg.$1")
}

# argv_for I: ARGV = client I's command with the placeholders filled in
argv_for() {
	local t=${TPL[$1]} k
	for k in "${!PH[@]}"; do
		t=${t//\{$k\}/\'${PH[$k]}\'}
	done
	eval "ARGV=($t)"
	if [ "$RESOLV_MOUNTED" = 1 ] && [ "${PH[resolver]}" != "$CUR_RESOLVER" ]; then
		printf 'nameserver %s\noptions edns0 trust-ad\n' "${PH[resolver]}" >"$W/resolv.conf"
		CUR_RESOLVER=${PH[resolver]}
	fi
}

# does_dns I: 0 unless client I's template names {mx}
does_dns() { case ${TPL[$1]} in *'{mx}'*) return 1 ;; esac; }

# run1 KEY I: one run of client I; appends "wall_ms cpu_ms maxrss_kb ok"
# to $W/KEY.I, and what -v said (peak RSS, DNS waves) to KEY.I.rss and
# KEY.I.waves; a failed run's output is kept in $W/fail.KEY.I
run1() {
	local key=$1 i=$2 line ok
	argv_for "$i"
	: >"$W/out"
	line=$("$BENCHRUN" -t 300 -i "${PH[msg]}" -o "$W/out" -- "${ARGV[@]}") || true
	set -- $line
	[ "${4:-1}" = 0 ] && ok=1 || ok=0
	awk -v w="${6:-0}" -v u="${8:-0}" -v s="${10:-0}" -v r="${12:-0}" -v ok="$ok" \
	    'BEGIN {printf "%.3f %.3f %d %d\n", w / 1000, (u + s) / 1000, r, ok}' >>"$W/$key.$i"
	if [ "$ok" = 1 ]; then
		sed -n 's/^peak RSS: parent \([0-9]*\) kB, dns \([0-9]*\) kB, net \([0-9]*\) kB, tls \([0-9]*\) kB$/\1 \2 \3 \4/p' \
		    "$W/out" >>"$W/$key.$i.rss"
		sed -n 's/^dns: \([0-9]*\) resolver round trips so far$/\1/p' "$W/out" | tail -1 >>"$W/$key.$i.waves"
	elif [ ! -e "$W/fail.$key.$i" ]; then
		{ echo "$line"; tail -n 20 "$W/out"; } >"$W/fail.$key.$i"
	fi
}

# runpar KEY I TOTAL PAR: TOTAL runs of client I, PAR at once; appends
# "wall_ms cpu_ms_per_run maxrss_kb ok_runs"
runpar() {
	local key=$1 i=$2 total=$3 par=$4 line
	argv_for "$i"
	: >"$W/out"
	line=$("$BENCHRUN" -n "$total" -j "$par" -t 600 -i "${PH[msg]}" -o "$W/out" -- "${ARGV[@]}") || true
	set -- $line
	awk -v n="$total" -v f="${4:-$total}" -v w="${6:-0}" -v u="${8:-0}" -v s="${10:-0}" -v r="${12:-0}" \
	    'BEGIN {printf "%.3f %.3f %d %d\n", w / 1000, (u + s) / 1000 / n, r, n - f}' >>"$W/$key.$i"
	if [ "${4:-1}" != 0 ] && [ ! -e "$W/fail.$key.$i" ]; then
		{ echo "$line"; tail -n 20 "$W/out"; } >"$W/fail.$key.$i"
	fi
}

# col FILE N [OKCOL]: column N of the lines of FILE whose column OKCOL
# (default 4) is not 0
col() { [ -s "$1" ] && awk -v c="$2" -v k="${3:-4}" '$k != 0 {print $c}' "$1" || true; }
# okcount FILE: runs that exited 0, of how many
okcount() { [ -s "$1" ] && awk '{n++; if ($4 != 0) k++} END {printf "%d/%d", k, n}' "$1" || echo 0/0; }

# clean_mail: the Maildir of an own lab only (large messages add up)
clean_mail() {
	[ "$OWN_LAB" = 1 ] || return 0
	find "$LAB_MAILDIR/new" -type f -delete 2>/dev/null || true
}

# warm I: one unmeasured run (caches, Postfix's smtpd processes, page cache)
warm() { [ "$WARM" = 0 ] || run1 warm "$1"; }

# --- the messages ------------------------------------------------------
"$PY" tests/bench/genmsg.py 1000 "$W/msg.1k" "$W/msg.1k.crlf" >/dev/null
for s in $SIZES; do
	"$PY" tests/bench/genmsg.py "$(awk -v s="$s" 'BEGIN {printf "%d", s * 1000000}')" \
	    "$W/msg.$s" "$W/msg.$s.crlf" >/dev/null
done

# --- the report --------------------------------------------------------
REPORT=$W/report
exec 3>&1
say() { printf '%s\n' "$*" | tee -a "$REPORT" >&3; }
# loadmark: the 1-minute load average now, for the last line
LOADS=""
loadmark() { LOADS="$LOADS $(cut -d' ' -f1 /proc/loadavg)"; }
sayf() { printf "$@" | tee -a "$REPORT" >&3; }

sayf '%s\n' "mxclient benchmark report (make bench$([ "$QUICK" = 1 ] && echo " BENCH_QUICK=1")$([ "$SMOKE" = 1 ] && echo ", smoke"))"
sayf '%s\n' "date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -n), $(uname -sr), $(nproc) CPUs"
src=""
if [ "$MXCLIENT" = ./mxclient ]; then
	# the sources it is built from: the last commit that changed them
	src="; src/ and sandbox/ of $(git log -1 --format=%h -- src sandbox 2>/dev/null || echo '?')"
	[ -z "$(git status --porcelain -- src sandbox 2>/dev/null)" ] || src="$src plus changes not committed"
fi
sayf '%s\n' "mxclient: $MXCLIENT ($("$MXCLIENT" --version 2>&1 | head -1); sha256 $(sha256sum <"$MXCLIENT" | cut -c1-12)$src)"
sayf '%s\n' "load average at start: $LOAD0"
say "clients (interleaved in this order in every round):"
for i in "${!NAMES[@]}"; do
	sayf '  %-10s %s\n' "${NAMES[$i]}" "${TPL[$i]}"
done
say ""

# ratio A B: A / B to two places, or "-"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b}'; }
# med FILE COL: median of a column (successful runs), or "-"
med() { local m; m=$(col "$1" "$2" | median); echo "${m:--}"; }
# spread FILE COL [FORMAT]: "p25..p75" of a column
spread() {
	col "$1" "$2" | sort -n | awk -v f="${3:-%.1f}" '{a[NR] = $1}
	    END {if (NR) printf f ".." f, a[int((NR + 3) / 4)], a[int((3 * NR + 3) / 4)]; else print "-"}'
}
fmt() { awk -v v="$1" -v f="$2" 'BEGIN {if (v == "-" || v == "") print "-"; else printf f, v}'; }

# --- 1. CPU per delivery -----------------------------------------------
set_msg 1k
for i in "${!NAMES[@]}"; do warm "$i"; done
for _ in $(seq "$N_CPU"); do
	for i in "${!NAMES[@]}"; do run1 cpu "$i"; done
done
say "1. CPU per delivery: user+sys of all processes (wait4 of the client's top process), 1 KB message (${PH[size]} octets)"
say "   to rcpt@secure.example; $N_CPU rounds, clients interleaved; medians, [p25..p75]"
sayf '   %-10s %7s %8s %-17s %7s %9s %8s %-17s\n' client ok "CPU ms" "[p25..p75]" "÷raw" "÷mxclient" "wall ms" "[p25..p75]"
cpu_raw=$(med "$W/cpu.$RAW" 2)
cpu_mx=$(med "$W/cpu.0" 2)
for i in "${!NAMES[@]}"; do
	c=$(med "$W/cpu.$i" 2)
	sayf '   %-10s %7s %8s %-17s %7s %9s %8s %-17s\n' "${NAMES[$i]}" "$(okcount "$W/cpu.$i")" \
	    "$(fmt "$c" %.2f)" "[$(spread "$W/cpu.$i" 2 %.2f)]" "$(ratio "$c" "$cpu_raw")" "$(ratio "$c" "$cpu_mx")" \
	    "$(fmt "$(med "$W/cpu.$i" 1)" %.1f)" "[$(spread "$W/cpu.$i" 1)]"
done
say ""

loadmark

# --- 2. deliveries per second ------------------------------------------
set_msg 1k
for p in $PARALLEL; do
	for _ in $(seq "$N_PAR"); do
		for i in "${!NAMES[@]}"; do runpar "par$p" "$i" "$TOTAL" "$p"; done
	done
done
clean_mail
say "2. Deliveries per second: $TOTAL deliveries of the 1 KB message into one Postfix, N at once;"
say "   $N_PAR round(s), clients interleaved; deliveries/s = $TOTAL / wall time of the batch (median [min..max])"
sayf '   %-10s %4s %9s %13s %-15s %7s %9s %13s\n' client N "ok" "deliveries/s" "[min..max]" "÷raw" "÷mxclient" "CPU ms/deliv"
for p in $PARALLEL; do
	for i in "${!NAMES[@]}"; do
		awk -v n="$TOTAL" '{print ($1 > 0 ? n * 1000 / $1 : 0), $2, $3, $4}' "$W/par$p.$i" >"$W/par$p.$i.rate"
	done
	r_raw=$(med "$W/par$p.$RAW.rate" 1)
	r_mx=$(med "$W/par$p.0.rate" 1)
	for i in "${!NAMES[@]}"; do
		f=$W/par$p.$i.rate
		r=$(med "$f" 1)
		ok=$(awk -v n="$TOTAL" '{k += $4; t += n} END {printf "%d/%d", k, t}' "$f")
		mm=$(col "$f" 1 | sort -n | awk '{a[NR] = $1} END {if (NR) printf "%.0f..%.0f", a[1], a[NR]; else print "-"}')
		sayf '   %-10s %4s %9s %13s %-15s %7s %9s %13s\n' "${NAMES[$i]}" "$p" "$ok" "$(fmt "$r" %.1f)" "[$mm]" \
		    "$(ratio "$r" "$r_raw")" "$(ratio "$r" "$r_mx")" "$(fmt "$(med "$f" 2)" %.2f)"
	done
done
say ""

loadmark

# --- 3. large messages -------------------------------------------------
k=0
set -- $N_SIZE
for s in $SIZES; do
	k=$((k + 1))
	n=${!k:-1}
	set_msg "$s"
	# (the larger ones need no warm-up: the first size had one)
	[ "$k" != 1 ] || for i in "${!NAMES[@]}"; do warm "$i"; done
	clean_mail
	for _ in $(seq "$n"); do
		for i in "${!NAMES[@]}"; do run1 "size$s" "$i"; done
		clean_mail
	done
	echo "${PH[size]}" >"$W/size$s.octets"
done
say "3. Large messages: wall time of one delivery, MB/s = octets of the LF message / 10^6 / wall s"
say "   (the raw client sends the CRLF, dot-stuffed form: 1.5% more); clients interleaved; medians, [p25..p75]"
sayf '   %-10s %7s %5s %9s %-19s %7s %7s %9s %9s %8s\n' client MB ok "wall ms" "[p25..p75]" "MB/s" "÷raw" "÷mxclient" "CPU ms" "CPU÷raw"
for s in $SIZES; do
	oct=$(cat "$W/size$s.octets")
	w_raw=$(med "$W/size$s.$RAW" 1)
	w_mx=$(med "$W/size$s.0" 1)
	c_raw=$(med "$W/size$s.$RAW" 2)
	for i in "${!NAMES[@]}"; do
		f=$W/size$s.$i
		w=$(med "$f" 1)
		mbs=$(awk -v w="$w" -v o="$oct" 'BEGIN {if (w == "-" || w == 0) print "-"; else printf "%.1f", o / 1e6 / (w / 1000)}')
		c=$(med "$f" 2)
		sayf '   %-10s %7s %5s %9s %-19s %7s %7s %9s %9s %8s\n' "${NAMES[$i]}" "$s" "$(okcount "$f")" "$(fmt "$w" %.1f)" \
		    "[$(spread "$f" 1)]" "$mbs" "$(ratio "$w" "$w_raw")" "$(ratio "$w" "$w_mx")" "$(fmt "$c" %.1f)" "$(ratio "$c" "$c_raw")"
	done
done
say "   (÷raw, ÷mxclient: ratios of wall times, > 1 is slower; CPU: user+sys of all processes, CPU÷raw its ratio)"
say ""

loadmark

# --- 4. peak RSS -------------------------------------------------------
big=$(echo "$SIZES" | awk '{print $NF}')
say "4. Peak RSS (kB): per process as mxclient -v prints it (median over the runs of 1 and 3), and the"
say "   largest process of the client's tree (ru_maxrss from wait4: any client)"
sayf '   %-10s %-8s %8s %8s %8s %8s %10s\n' client message parent dns net tls "largest"
for i in "${!NAMES[@]}"; do
	for key in cpu "size$big"; do
		[ "$key" = cpu ] && m="1 KB" || m="$big MB"
		f=$W/$key.$i.rss
		if [ -s "$f" ]; then
			p=$(median < <(awk '{print $1}' "$f")) d=$(median < <(awk '{print $2}' "$f"))
			nn=$(median < <(awk '{print $3}' "$f")) t=$(median < <(awk '{print $4}' "$f"))
		else
			p=- d=- nn=- t=-
		fi
		sayf '   %-10s %-8s %8s %8s %8s %8s %10s\n' "${NAMES[$i]}" "$m" "$p" "$d" "$nn" "$t" "$(med "$W/$key.$i" 3)"
	done
done
say ""

loadmark

# --- 5. SMTP round trips -----------------------------------------------
# start_relay SCRIPT LISTEN TARGET DELAY: a delaying proxy or relay
start_relay() {
	local out=$W/relay.$RANDOM
	"$PY" "tests/bench/$1" "$2" "$3" "$4" 900 >"$out" 2>&1 &
	RELAY_PID=$!
	for _ in $(seq 400); do grep -q ready "$out" 2>/dev/null && return 0; sleep 0.05; done
	die "$1 $2 did not start: $(cat "$out")"
}
stop_relay() { kill "$RELAY_PID" 2>/dev/null || true; wait "$RELAY_PID" 2>/dev/null || true; }

# memory KEY I: client I once, its process tree sampled by memsample.py
# while it runs; appends "union rss_sum pss_sum private_sum" (kB) to KEY.I
memory() {
	local key=$1 i=$2 pid line
	argv_for "$i"
	"${ARGV[@]}" <"${PH[msg]}" >"$W/out" 2>&1 &
	pid=$!
	line=$("$PY" tests/bench/memsample.py "$pid" 0.01)
	wait "$pid" && set -- $line && echo "$4 $6 $8 ${10}" >>"$W/$key.$i" || true
}

set_msg 1k
PH[rcpt]=rcpt@delayed.example PH[domain]=delayed.example PH[mx]=127.0.0.20 PH[mxname]=mx.delayed.example
for d in 0 "$D"; do
	start_relay delayproxy.py 127.0.0.20:25 "$LAB_MX_ADDR:25" "$d"
	for i in "${!NAMES[@]}"; do warm "$i"; done
	for _ in $(seq "$N_RTT"); do
		for i in "${!NAMES[@]}"; do run1 "rtt$d" "$i"; done
	done
	# the delay stretches a delivery over many samples
	if [ "$d" != 0 ]; then
		for _ in 1 2 3; do
			for i in "${!NAMES[@]}"; do memory mem1k "$i"; done
		done
	fi
	stop_relay
done
PH[rcpt]=rcpt@secure.example PH[domain]=secure.example PH[mx]=$LAB_MX_ADDR PH[mxname]=$LAB_MX_NAME
set_msg "$big"
for _ in 1 2 3; do
	for i in "${!NAMES[@]}"; do memory "membig" "$i"; done
done
set_msg 1k
say "4b. Memory of the whole client: each resident physical page once, however many of its processes map it"
say "   (tests/bench/memsample.py: /proc/PID/pagemap of every process every 10 ms while it runs; the 1 KB"
say "   delivery goes through the delaying proxy of section 5 so that it lasts long enough to sample;"
say "   largest of 3 runs, kB); RSS sum counts a shared page once per process, PSS divides it"
sayf '   %-10s %-8s %10s %10s %10s %10s\n' client message together "RSS sum" "PSS sum" private
for i in "${!NAMES[@]}"; do
	for key in mem1k membig; do
		[ "$key" = mem1k ] && m="1 KB" || m="$big MB"
		if [ -s "$W/$key.$i" ]; then
			set -- $(sort -n "$W/$key.$i" | tail -1)
			sayf '   %-10s %-8s %10s %10s %10s %10s\n' "${NAMES[$i]}" "$m" "$1" "$2" "$3" "$4"
		else
			sayf '   %-10s %-8s %10s\n' "${NAMES[$i]}" "$m" "-"
		fi
	done
done
say ""

say "5. SMTP round trips of a DANE delivery to rcpt@delayed.example: delayproxy.py on 127.0.0.20:25 holds every"
say "   chunk D = $D ms each way in front of Postfix; round trips = (median tD - median t0) / 2D; $N_RTT runs each."
say "   The proxy accepts at once and the greeting crosses it one way: +1.5 counts TCP set-up + greeting as 2."
sayf '   %-10s %5s %5s %9s %9s %12s %12s\n' client ok0 okD "t0 ms" "tD ms" "round trips" "+TCP,greet"
for i in "${!NAMES[@]}"; do
	a=$(med "$W/rtt0.$i" 1) b=$(med "$W/rtt$D.$i" 1)
	r=$(awk -v a="$a" -v b="$b" -v d="$D" 'BEGIN {if (a == "-" || b == "-") print "-"; else printf "%.1f", (b - a) / (2 * d)}')
	sayf '   %-10s %5s %5s %9s %9s %12s %12s\n' "${NAMES[$i]}" "$(okcount "$W/rtt0.$i")" "$(okcount "$W/rtt$D.$i")" \
	    "$(fmt "$a" %.1f)" "$(fmt "$b" %.1f)" "$r" "$(awk -v r="$r" 'BEGIN {if (r == "-") print "-"; else printf "%.1f", r + 1.5}')"
done
say ""

loadmark

# --- 6. DNS waves ------------------------------------------------------
set_msg 1k
start_relay dnsdelay.py 127.0.0.7:53 "$LAB_RESOLVER:53" "$D"
pid7=$RELAY_PID
start_relay dnsdelay.py 127.0.0.8:53 "$LAB_RESOLVER:53" 0
pid8=$RELAY_PID
for _ in $(seq "$N_RTT"); do
	for i in "${!NAMES[@]}"; do
		does_dns "$i" || continue
		PH[resolver]=127.0.0.8
		[ -e "$W/waves0.$i" ] || warm "$i"
		run1 waves0 "$i"
		PH[resolver]=127.0.0.7
		[ -e "$W/wavesD.$i" ] || warm "$i"
		run1 wavesD "$i"
	done
done
PH[resolver]=$LAB_RESOLVER
kill "$pid7" "$pid8" 2>/dev/null || true
wait "$pid7" "$pid8" 2>/dev/null || true
say "6. DNS waves (resolver round trips) of a DANE delivery to rcpt@secure.example: dnsdelay.py relays to Unbound,"
say "   127.0.0.7 with D = $D ms each way, 127.0.0.8 with none (runs alternate); waves = (median tD - median t0) / 2D;"
say "   \"-v says\": mxclient's own count (dns: N resolver round trips so far); $N_RTT runs each"
sayf '   %-10s %5s %5s %9s %9s %7s %8s\n' client ok0 okD "t0 ms" "tD ms" waves "-v says"
for i in "${!NAMES[@]}"; do
	if ! does_dns "$i"; then
		sayf '   %-10s %s\n' "${NAMES[$i]}" "(no DNS: given {mx})"
		continue
	fi
	a=$(med "$W/waves0.$i" 1) b=$(med "$W/wavesD.$i" 1)
	v=$([ -s "$W/wavesD.$i.waves" ] && median <"$W/wavesD.$i.waves" || echo -)
	sayf '   %-10s %5s %5s %9s %9s %7s %8s\n' "${NAMES[$i]}" "$(okcount "$W/waves0.$i")" "$(okcount "$W/wavesD.$i")" \
	    "$(fmt "$a" %.1f)" "$(fmt "$b" %.1f)" \
	    "$(awk -v a="$a" -v b="$b" -v d="$D" 'BEGIN {if (a == "-" || b == "-") print "-"; else printf "%.1f", (b - a) / (2 * d)}')" "$v"
done
say ""

loadmark

# --- 7. instructions (callgrind) ---------------------------------------
# callgrind I: valgrind --tool=callgrind over client I's whole tree; one
# line "total parent dns net tls".  Callgrind's counts survive fork()
# and a SIGKILLed process writes nothing, so it dumps (and zeroes) before
# every fork() and every time a process waits on a channel (CG_DUMP:
# mxclient's chan_wait()); a process's figure is the sum of its parts.
# mxclient's processes are told apart by their main functions.
CG_DUMP=${BENCH_CG_DUMP_BEFORE:-chan_wait}
callgrind() {
	local i=$1 p t
	argv_for "$i"
	[ "$i" != 0 ] || ARGV[0]=$MXCLIENT_SBTEST
	rm -f "$W"/cg.*
	MXCLIENT_SANDBOX_TEST=all:off timeout 300 valgrind --tool=callgrind --trace-children=yes \
	    --dump-before=fork --dump-before="$CG_DUMP" --callgrind-out-file="$W/cg.%p" \
	    --log-file="$W/cg.log.%p" "${ARGV[@]}" <"${PH[msg]}" >"$W/out" 2>&1 || return 1
	for p in $(ls "$W" | sed -n 's/^cg\.\([0-9]*\).*/\1/p' | sort -u); do
		t=$(cat "$W/cg.$p" "$W/cg.$p".* 2>/dev/null | awk '/^summary:/ {s += $2} END {print s + 0}')
		case $(grep -hoE '^c?fn=\([0-9]+\) (dns|net|tls)_main$' "$W/cg.$p" "$W/cg.$p".* 2>/dev/null | head -1) in
		*dns_main) echo "dns $t" ;;
		*net_main) echo "net $t" ;;
		*tls_main) echo "tls $t" ;;
		*) echo "parent $t" ;;
		esac
	done | awk '{s += $2; v[$1] += $2} END {printf "%d %s %s %s %s\n", s, v["parent"] ? v["parent"] : "-",
	    v["dns"] ? v["dns"] : "-", v["net"] ? v["net"] : "-", v["tls"] ? v["tls"] : "-"}'
}
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
	set_msg 1k
	say "7. Instructions per delivery of the 1 KB message (valgrind --tool=callgrind --trace-children=yes: Ir of"
	say "   every process; repeatable under load). mxclient runs as $MXCLIENT_SBTEST with"
	say "   MXCLIENT_SANDBOX_TEST=all:off (valgrind's calls are in no seccomp allow-list): no seccomp/Landlock set-up"
	sayf '   %-10s %14s %7s %14s %14s %14s %14s\n' client "Ir total" "÷raw" parent dns net tls
	declare -A CG=()
	for i in "${!NAMES[@]}"; do
		if [ "$i" = 0 ] && [ ! -x "$MXCLIENT_SBTEST" ]; then CG[$i]="(no $MXCLIENT_SBTEST)"; continue; fi
		CG[$i]=$(callgrind "$i") || CG[$i]="(failed: $(tail -1 "$W/out"))"
	done
	cg_raw=$(echo "${CG[$RAW]}" | awk '{print $1}')
	for i in "${!NAMES[@]}"; do
		set -- ${CG[$i]}
		case $1 in
		[0-9]*)
			sayf '   %-10s %14s %7s %14s %14s %14s %14s\n' "${NAMES[$i]}" "$1" "$(ratio "$1" "$cg_raw")" "$2" "$3" "$4" "$5" ;;
		*)	sayf '   %-10s %s\n' "${NAMES[$i]}" "${CG[$i]}" ;;
		esac
	done
	say "   (a client that is not mxclient shows the sum of its processes as parent; \"-\": no figure, e.g. a"
	say "   process killed before its first dump)"
	say ""
fi

loadmark

# --- end ---------------------------------------------------------------
fails=$(ls "$W"/fail.* 2>/dev/null || true)
if [ -n "$fails" ]; then
	say "Failed runs (first failure of each client and measurement):"
	for f in $fails; do
		say "  ${f##*/fail.}:"
		sed 's/^/    /' "$f" | tee -a "$REPORT" >&3
	done
	say ""
fi
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); 1-minute load after each section:$LOADS; $(($(date +%s) - T_START)) s in all"
[ -z "${BENCH_REPORT:-}" ] || cp "$REPORT" "$BENCH_REPORT"
# in the smoke test every run must have delivered
[ "$SMOKE" = 0 ] || [ -z "$fails" ]
