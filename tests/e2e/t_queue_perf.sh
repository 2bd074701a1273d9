#!/bin/bash
# Measured, never asserted (Q5, Q11): submission latency (median of 60
# submissions of a 1 KB message, each until mxqueue exited 0, so durably
# queued), and one runner's throughput into the lab's Postfix (100
# deliveries, parallelism 4, per-domain 4).  The checks are only that
# everything queued was delivered.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/queue_lib.sh"
q_setup "parallelism = 4" "domain-parallelism = 4"
body=$E2E_TMP/1k
{ printf 'Subject: perf\nFrom: perf@secure.example\n\n'; head -c 1000 /dev/zero | tr '\0' 'x' | fold -w 70; echo; } >"$body"
: >"$E2E_TMP/lat"
for i in $(seq 60); do
	a=$EPOCHREALTIME
	"$MXQUEUE" -f perf@secure.example p1@secure.example <"$body"
	b=$EPOCHREALTIME
	echo "$a $b" | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' >>"$E2E_TMP/lat"
done
echo "# measured: submission latency of a 1 KB message, median of 60: $(sort -n "$E2E_TMP/lat" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') ms (min $(sort -n "$E2E_TMP/lat" | head -1), max $(sort -n "$E2E_TMP/lat" | tail -1))"
expect_eq "Q5 60 submissions queued" 60 "$(ls "$SPOOL/new" | wc -l)"
"$MXQUEUE" -q
tag=perf-$RANDOM$RANDOM
for i in $(seq 100); do
	printf 'Subject: %s-%s\n\nx\n' "$tag" "$i" | "$MXQUEUE" -f perf@secure.example t@secure.example
done
a=$EPOCHREALTIME
"$MXQUEUE" -q
b=$EPOCHREALTIME
n=$(wait_count "$tag-" 100 20)
expect_eq "Q11 one runner delivered all 100" 100 "$n"
awk -v a="$a" -v b="$b" 'BEGIN { printf "# measured: one runner, parallelism 4: 100 deliveries into Postfix (DANE, TLS 1.3) in %.2f s: %.1f deliveries/s\n", b - a, 100 / (b - a) }'
