#!/bin/bash
# Soak (Q11-Q17): QUEUE_SOAK_N messages (60 in make check, 500 in make
# soak) against a server that fails at random (421 greetings, drops, 451
# at MAIL, RCPT and the final dot; fixed seed) with a 550 for every 20th
# recipient, run on an injected clock two hours apart until the queue is
# empty.  At the end every message was accepted exactly once or bounced
# exactly once, the spool is empty and no mxclient is left running.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/queue_lib.sh"
N=${QUEUE_SOAK_N:-60}
q_setup "parallelism = 8" "domain-parallelism = 8"
q_fixture --chaos 14 --max-seconds 600
T=1900000000
tag=soak-$RANDOM
for i in $(seq "$N"); do
	if [ $((i % 20)) = 0 ]; then r=p550-$tag-$i@slow.example; else r=ok-$tag-$i@slow.example; fi
	printf 'Subject: %s-%s\nMessage-ID: <%s-%s@e2e.test>\n\nsoak\n' "$tag" "$i" "$tag" "$i" |
		"$MXQUEUE" --now $T -f soak@secure.example "$r"
done
rounds=0
start=$EPOCHREALTIME
while ! q_clean 2>/dev/null && [ $rounds -lt 40 ]; do
	"$MXQUEUE" -q -v --now $((T + rounds * 7200)) 2>>"$E2E_TMP/soak.log"
	rounds=$((rounds + 1))
done
end=$EPOCHREALTIME
expect_eq "Q14 the soak's queue empties ($rounds runs)" 0 "$(q_jobs)"
nb=$((N / 20))
n=$(wait_count "Final-Recipient: rfc822; p550-$tag-" "$nb" 20)
once=0 twice=0 never=0 bounced=0 badb=0
for i in $(seq "$N"); do
	if [ $((i % 20)) = 0 ]; then
		c=$(count_mail "Final-Recipient: rfc822; p550-$tag-$i@")
		if [ "$c" = 1 ]; then bounced=$((bounced + 1)); else badb=$((badb + 1)); fi
		continue
	fi
	c=$(grep -c " ok-$tag-$i@slow.example " "$ACCEPTS" || true)
	case $c in 0) never=$((never + 1)) ;; 1) once=$((once + 1)) ;; *) twice=$((twice + 1)) ;; esac
done
echo "# soak: $N messages, $once delivered once, $bounced bounced once, $twice delivered twice or more, $never never, $badb bounces wrong, $(q_jobs) left, $rounds runs, $(grep -c '' "$ACCEPTS") accepts in all"
awk -v a="$start" -v b="$end" 'BEGIN { printf "# soak: the runs took %.1f s\n", b - a }'
expect_eq "Q14 soak: every good recipient accepted exactly once" "$((N - nb)) 0 0" "$once $twice $never"
expect_eq "Q16 soak: every 550 recipient bounced exactly once" "$nb 0" "$bounced $badb"
check "Q7 soak: tmp/, new/, queue/ and run/ are empty" q_clean
# ours are the ones with TMPDIR in this spool (other tests may run beside)
ours() {
	local p
	for p in $(pgrep -x mxclient); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "TMPDIR=$SPOOL/run" && echo "$p"
	done
	return 0
}
expect_eq "Q7 soak: no mxclient process of this queue is left" "" "$(ours)"
