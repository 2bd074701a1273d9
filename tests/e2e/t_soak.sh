#!/bin/bash
# Fault soak: SOAK_N deliveries (default 200) against one smtpd.py in the
# chaos mode (tests/fixtures/smtpd.py), alternately to slow.example
# (opportunistic TLS: no TLSA) and dane-fixture.example (DANE, the lab's
# key), both MX 127.0.0.11. Connection N of the fixture draws from the
# fixed seed (SOAK_SEED) and N a break point (greeting ... dot-reply, or
# none) and a fault (drop, reset, stall, garbage, tls-alert), so a failing
# run can be replayed: same seed, same run number.
#
# Invariants, checked after every run (README "Exit status", the table of
# behaviour: "status unknown after the final dot"):
#   saved-once    exit 0 => the message is in the fixture's saved files
#                 exactly once (and no run's message is ever saved twice)
#   not-saved     exit 75 => not saved, unless the break came after the
#                 final dot: then stderr says "delivery status unknown"
#                 (break at dot) or the 250 had gone out (dot-reply)
#   exit-code     only 0 or 75 for these transient faults; 76 (a server
#                 broke the protocol) only for garbage in cleartext on the
#                 opportunistic host, i.e. breaks greeting and ehlo: a
#                 garbled reply there is that server's protocol error
#                 (README: 76 "when no host failed transiently"). Not on
#                 the DANE host (pre-TLS bytes could be an attacker's: 75)
#                 and not for garbage inside TLS (a broken record is a TLS
#                 failure, 75) nor after the final dot (status unknown, 75)
#   completed     the 250 to the final dot arrived (break dot-reply or
#                 none) => exit 0 (README: "a failed QUIT changes nothing")
#   dane-clear    DANE host: nothing but EHLO, STARTTLS and QUIT in clear,
#                 never MAIL, RCPT or a message line (the transcript)
#   no-process    no mxclient process left in this namespace after a run
#   no-tmpfile    no new $TMPDIR/mxclient.* entry left after a run
# One FAIL line per violation (run, host, draw, exit, reason), one PASS
# line per invariant never violated; then the outcome counts and the time.
# Short client timeouts (1 s each stage); the fixture stalls SOAK_STALL s.
. tests/e2e/lib.sh

T=soak
N=${SOAK_N:-200}
SEED=${SOAK_SEED:-20250611}
STALL=${SOAK_STALL:-3}
RES=(--resolver "$LAB_RESOLVER")
TLS=(--tls-cert "$LAB_MX_CERT" --tls-key "$LAB_MX_KEY")
TO=(--timeout greeting=1 --timeout ehlo=1 --timeout starttls=1
    --timeout mail=1 --timeout rcpt=1 --timeout data-init=1
    --timeout data-xfer=1 --timeout data-done=1 --timeout quit=1)
TMPD=${TMPDIR:-/tmp}
tmp=$E2E_TMP/soak
mkdir -p "$tmp/saved"
t0=${EPOCHREALTIME/[.,]/}

start_fixture chaos "${TLS[@]}" --seed "$SEED" --stall "$STALL" \
    --save "$tmp/saved/msg" --max-seconds 3600 || {
	fail "$T: chaos fixture starts" "see above"
	exit 1
}
TX=$FIXTURE_TRANSCRIPT

INVARIANTS=(saved-once not-saved exit-code completed dane-clear no-process no-tmpfile)
declare -A BAD=()
for inv in "${INVARIANTS[@]}"; do BAD[$inv]=0; done
declare -A BYBRK=()   # break -> "delivered temporary permanent"
delivered=0 temporary=0 unknown=0 permanent=0 slowest=0 slowrun=''

# violation INV RUN REASON: one FAIL line, with the run's draw
violation() {
	BAD[$1]=$((BAD[$1] + 1))
	fail "$T: $1" "run $2 (seed $SEED, $dom, ${draw:-no draw}): exit $rc: $3"
}

# ms: milliseconds since the start, from $EPOCHREALTIME (no fork: a run
# costs few processes besides mxclient, so that 200 fit in the budget)
ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $(((t - t0) / 1000))
}
exec {SLEEPFD}<> <(:)
nap() { read -r -t "$1" -u "$SLEEPFD" _ || true; }

# The transcript is read through one descriptor: each run reads its own
# new lines. settle: read until the fixture has logged the end of every
# connection of the run (a message is saved before that), at most STALL +
# 3 s; the run's lines are in TXL.
exec {TXFD}<"$TX"
TXL=() OPEN=0 PARTIAL=''
settle() {
	local line _
	TXL=()
	for _ in $(seq $(((${STALL%.*} + 3) * 50))); do
		while IFS= read -r -u "$TXFD" line; do
			line=$PARTIAL$line PARTIAL=''
			TXL+=("$line")
			case $line in
			*'] *: connection from '*) OPEN=$((OPEN + 1)) ;;
			*'] *: closed '*) OPEN=$((OPEN - 1)) ;;
			esac
		done
		# a line still being written when read met the end of the file
		PARTIAL+=$line
		[ "$OPEN" -gt 0 ] || return 0
		nap 0.02
	done
	echo "# soak: run $i: the fixture still has an open connection" >&2
}

# saved_count ID: saved messages (not .env, not .tmp) with this Message-ID
saved_count() {
	grep -rlF --exclude='*.env' --exclude='*.tmp' -- "Message-ID: <$1>" "$tmp/saved" | wc -l
}

# ours: mxclient processes in this network namespace (other test runs on
# the host live in other namespaces)
ours() {
	pgrep --ns $$ --nslist net '^mxclient' || true
}

shopt -s nullglob
declare -A SEEN=()
for pid in $(ours); do
	SEEN[$pid]=1
	echo "# soak: mxclient process before the first run: $pid" >&2
done
msg_template=$(make_message @ID@ rcpt@@DOM@)
out_err() {
	echo "stdout: $(tail -n 3 "$tmp/out" | tr '\n' '|') stderr: $(tr '\n' '|' <"$tmp/err" | cut -c1-300)"
}

for i in $(seq "$N"); do
	if [ $((i % 2)) = 1 ]; then dom=slow.example; else dom=dane-fixture.example; fi
	id=soak$i.${EPOCHREALTIME/[.,]/}.$RANDOM@e2e.test
	m=${msg_template//@ID@/$id}
	printf '%s\n' "${m//@DOM@/$dom}" >"$tmp/msg"
	before=("$TMPD"/mxclient.*)
	r0=$(ms)
	timeout 20 "$MXCLIENT" "${RES[@]}" "${TO[@]}" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	r1=$(ms)
	settle
	# the draw(s) of this run's connection(s), and the DANE host's
	# cleartext: any command but EHLO, STARTTLS, QUIT before "TLS
	# established" on its connection, or a message received in clear
	draw='' brk='' fault='' ndraws=0 clear=''
	declare -A tls=()
	for line in "${TXL[@]}"; do
		read -r _ c dir verb rest <<<"$line"
		case $line in
		*'] *: chaos conn '*': break at '*': fault '*)
			ndraws=$((ndraws + 1))
			rest=${line#*'*: chaos conn '}
			draw="${draw:+$draw; }conn $rest"
			brk=${rest#*break at } brk=${brk%%:*} fault=${rest##*fault }
			;;
		*'] *: TLS established'*) tls[$c]=1 ;;
		esac
		if [ "$dom" != dane-fixture.example ] || [ -n "${tls[$c]:-}" ]; then
			continue
		fi
		if { [ "$dir" = C: ] && [ "$verb" != EHLO ] && [ "$verb" != STARTTLS ] &&
		    [ "$verb" != QUIT ]; } || [[ $line == *'*: message of'* ]] ||
		    [[ $line == *'saved to'* ]]; then
			clear+="${line:0:120}|"
		fi
	done
	unset tls
	[ "$ndraws" = 1 ] || brk=multi fault=multi
	n=$(saved_count "$id")
	su=0
	[[ $(<"$tmp/err") == *'delivery status unknown'* ]] && su=1

	case $rc in
	0) delivered=$((delivered + 1)); k=0 ;;
	75) temporary=$((temporary + 1)); k=1; unknown=$((unknown + su)) ;;
	*) permanent=$((permanent + 1)); k=2 ;;
	esac
	read -r -a b <<<"${BYBRK[$brk]:-0 0 0}"
	b[k]=$((b[k] + 1))
	BYBRK[$brk]="${b[*]}"

	# saved-once
	if [ "$rc" = 0 ] && [ "$n" != 1 ]; then
		violation saved-once "$i" "delivered, but saved $n times; $(out_err)"
	elif [ "$n" -gt 1 ]; then
		violation saved-once "$i" "saved $n times; $(out_err)"
	fi
	# not-saved
	if [ "$rc" = 75 ] && [ "$n" != 0 ]; then
		if ! { [ "$brk" = dot ] && [ $su = 1 ]; } && [ "$brk" != dot-reply ]; then
			violation not-saved "$i" "exit 75 but the server has the message (saved $n); $(out_err)"
		fi
	fi
	if [ "$brk" = dot ] && [ "$rc" = 75 ] && [ $su = 0 ]; then
		violation not-saved "$i" "break after the final dot, exit 75 without 'delivery status unknown'; $(out_err)"
	fi
	# exit-code
	case $rc in
	0|75) ;;
	76)
		if ! { [ "$fault" = garbage ] && [ "$dom" = slow.example ] &&
		    { [ "$brk" = greeting ] || [ "$brk" = ehlo ]; }; }; then
			violation exit-code "$i" "76 (protocol) for a fault that is not cleartext garbage on the opportunistic host; $(out_err)"
		fi
		;;
	*) violation exit-code "$i" "permanent or unexpected exit for a transient fault; $(out_err)" ;;
	esac
	# completed
	if { [ "$brk" = none ] || [ "$brk" = dot-reply ]; } && [ "$rc" != 0 ]; then
		violation completed "$i" "the 250 to the final dot was sent, yet not exit 0; $(out_err)"
	fi
	# dane-clear
	[ -z "$clear" ] || violation dane-clear "$i" "in clear: $clear"
	# no-process
	# (a process is reported once, by the run after which it is first seen)
	left=$(ours)
	if [ -n "$left" ]; then
		nap 0.5
		newpids=()
		for pid in $(ours); do
			[ -n "${SEEN[$pid]:-}" ] || newpids+=("$pid")
			SEEN[$pid]=1
		done
		[ ${#newpids[@]} = 0 ] || violation no-process "$i" "left: $(ps -o pid=,stat=,args= -p "$(IFS=,; echo "${newpids[*]}")" | tr '\n' '|')"
	fi
	# no-tmpfile
	newtmp=()
	for f in "$TMPD"/mxclient.*; do
		[[ " ${before[*]} " == *" $f "* ]] || newtmp+=("$f")
	done
	[ ${#newtmp[@]} = 0 ] || violation no-tmpfile "$i" "left: ${newtmp[*]}"
	r2=$(ms)
	if [ $((r1 - r0)) -gt "$slowest" ]; then slowest=$((r1 - r0)) slowrun="$i ($brk/$fault, exit $rc)"; fi
	if [ -n "${SOAK_VERBOSE:-}" ]; then
		echo "# run $i $dom $brk/$fault exit $rc saved $n: $((r2 - r0)) ms (mxclient $((r1 - r0)) ms): $(head -c 200 "$tmp/err" | tr "\n" "|")"
	fi
done

# a message saved later than its run was checked (a lingering connection)
dups=$(grep -rh --exclude='*.env' --exclude='*.tmp' '^Message-ID: <soak' "$tmp/saved" | sort | uniq -d)
if [ -n "$dups" ]; then
	BAD[saved-once]=$((BAD[saved-once] + 1))
	fail "$T: saved-once" "saved more than once, found at the end: ${dups//$'\n'/ }"
fi

for inv in "${INVARIANTS[@]}"; do
	[ "${BAD[$inv]}" = 0 ] && pass "$T: $inv: held in all $N runs"
done
for brk in greeting ehlo starttls tls-ehlo mail rcpt data message dot dot-reply none multi; do
	[ -n "${BYBRK[$brk]:-}" ] || continue
	read -r -a b <<<"${BYBRK[$brk]}"
	printf '# soak: break at %-9s delivered %3d, temporary %3d, permanent %3d\n' "$brk" "${b[0]}" "${b[1]}" "${b[2]}"
done
echo "soak: $N runs: delivered $delivered, temporary $temporary (status unknown $unknown), permanent $permanent"
echo "soak: seed $SEED, stall $STALL s, slowest mxclient run $slowrun: $slowest ms"
echo "soak: wall time $(ms) ms"
