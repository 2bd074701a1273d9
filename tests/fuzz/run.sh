#!/bin/bash
# Run every built libFuzzer target for SECONDS (default 3: the smoke run
# of make check; make fuzz passes more) on a copy of its seed corpus, so
# the committed corpus never grows here.  Builds nothing: the Makefile
# does.  Two targets at a time (JOBS=2), one line each, in a fixed order:
#   PASS: fuzz: <target>: N execs in S s, cov C, ft F
#   FAIL: fuzz: <target>: <crash summary> (input kept in tests/fuzz/crashes/)
# A crashing input is copied to tests/fuzz/crashes/<target>-<artifact>.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-3}
jobs=${JOBS:-2}
targets="reply frame norm addr dane dns socks conf json spool addrlist sts http"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# UBSan findings must stop the run like ASan's do.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

# Larger inputs only where the format needs them: a frame holds up to
# 64 KiB (a whole TLSA record), a DNS answer over TCP as much, an
# MTA-STS policy (and its cache record, and the HTTP response bringing
# it) 64 KiB and more.
max_len() {
	case $1 in
	frame | sts | http) echo 70000 ;;
	dns) echo 65536 ;;
	*) echo 4096 ;;
	esac
}

stat_of() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -1
}

run_one() {
	local t=$1 bin=tests/fuzz/fuzz_$1 dir=$tmp/$1 start end rc art
	local log=$dir/log line where
	mkdir -p "$dir/corpus" "$dir/art"
	if [ ! -x "$bin" ]; then
		echo "FAIL: fuzz: $t: not built ($bin)" >"$dir/result"
		return
	fi
	cp tests/fuzz/corpus/"$t"/* "$dir/corpus/" 2>/dev/null
	start=$EPOCHREALTIME
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
	    -max_len="$(max_len "$t")" -artifact_prefix="$dir/art/" \
	    "$dir/corpus" >"$log" 2>&1
	rc=$?
	end=$EPOCHREALTIME
	art=$(ls "$dir/art" 2>/dev/null | head -1)
	if [ "$rc" -eq 0 ] && [ -z "$art" ]; then
		line=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
		printf 'PASS: fuzz: %s: %s execs in %.1f s, cov %s, ft %s\n' \
		    "$t" "$(stat_of number_of_executed_units "$log")" \
		    "$(awk "BEGIN { print $end - $start }")" \
		    "$(echo "$line" | awk '{print $2}')" \
		    "$(echo "$line" | awk '{print $4}')" >"$dir/result"
		return
	fi
	line=$(grep -m1 -E '^(SUMMARY|==[0-9]+==ERROR)' "$log")
	where=$(grep -m1 -E ' in [^ ]+ [^ ]*/(src|sandbox|tests/fuzz)/[^ ]+\.c:[0-9]+' "$log" |
	    sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in //')
	if [ -n "$art" ]; then
		mkdir -p tests/fuzz/crashes
		cp "$dir/art/$art" "tests/fuzz/crashes/$t-$art"
		art=" (input: tests/fuzz/crashes/$t-$art)"
	fi
	echo "FAIL: fuzz: $t: ${line:-exit $rc}${where:+ at $where}$art" \
	    >"$dir/result"
	sed -n '1,/^SUMMARY/p' "$log" | grep -E '^(==|    #|SUMMARY)' |
	    head -20 >"$dir/detail"
}

for t in $targets; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$t" &
done
wait
fail=0
for t in $targets; do
	cat "$tmp/$t/result"
	if grep -q '^FAIL' "$tmp/$t/result"; then
		fail=1
		[ -s "$tmp/$t/detail" ] && sed 's/^/	/' "$tmp/$t/detail"
	fi
done
exit $fail
