# shellcheck shell=bash
# tests/e2e/lib.sh - helpers for mxclient end-to-end test scripts (bash).
#
# A test script is run inside the lab's private network namespace
# (tests/lab/netns.sh) with the lab already started, and sources this file:
#
#   #!/bin/bash
#   set -eu
#   . "$(dirname "$0")/lib.sh"
#   id=$(new_id basic)
#   make_message "$id" | "$MXCLIENT" ... rcpt@secure.example
#   if f=$(wait_for_mail "$id"); then pass basic; else fail basic "no mail"; fi
#
# Environment (required):
#   LAB       the lab directory given to `tests/lab/lab.sh start`
#   MXCLIENT  path of the binary under test
# Optional:
#   E2E_KEEP=1   keep the per-test temp dir ($E2E_TMP) for inspection
#   PYTHON       python3 to run fixtures with
#
# The lab's names and addresses are in "$LAB/lab.env" (sourced here):
#   LAB_RESOLVER=127.0.0.1 (Unbound)  LAB_NS=127.0.0.2 (NSD)
#   LAB_MX_ADDR=127.0.0.10 (Postfix, mx.secure.example)
#   LAB_FIXTURE_ADDR=127.0.0.11 (mx.slow.example: for start_fixture)
#   LAB_REFUSED_ADDR=127.0.0.12 (mx1.multi.example: connection refused)
#   LAB_MAILDIR, LAB_RESOLV_CONF, LAB_TRUST_ANCHOR, LAB_MX_CERT, LAB_MX_TLSA
#   MTA-STS: LAB_NGINX_ADDR=127.0.0.30 (nginx, the policy hosts; policies in
#   LAB_STS_POLICY_DIR, LAB_NGINX_ACCESS_LOG), LAB_HTTPSD_ADDR=127.0.0.31
#   (tests/fixtures/httpsd.py; LAB_HTTPSD_MODES, LAB_HTTPSD_LOG),
#   LAB_CA_CERT (for --ca-file), LAB_STS_EXPIRED_CERT/_KEY (tests/lab/README.md)
#
# Results: pass/fail/skip print "PASS: name", "FAIL: name: reason",
# "SKIP: name: reason". On exit the cleanup trap stops fixtures, runs
# on_cleanup hooks, removes $E2E_TMP, prints a summary line, and makes the
# script exit non-zero if any fail was recorded.

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lib.sh: needs bash" >&2
	exit 2
fi

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_FIXTURES=$(cd "$E2E_LIB_DIR/../fixtures" && pwd)

: "${LAB:?lib.sh: LAB (lab directory) is not set}"
: "${MXCLIENT:?lib.sh: MXCLIENT (binary under test) is not set}"
[ -f "$LAB/lab.env" ] || { echo "lib.sh: $LAB/lab.env missing: is the lab started?" >&2; exit 2; }
# shellcheck disable=SC1091
. "$LAB/lab.env"

# Never run against the host's network: inside tests/lab/netns.sh only lo
# exists (/proc/1/ns/net is not always readable, so that is the test).
if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net 2>/dev/null)" ] ||
	ip -o link show | awk -F': ' '$2 != "lo" {x=1} END {exit !x}'; then
	echo "lib.sh: not in a private network namespace; run under tests/lab/netns.sh" >&2
	exit 2
fi

if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
E2E_PASSED=0
E2E_FAILED=0
E2E_SKIPPED=0
E2E_FIXTURE_PIDS=()
E2E_CLEANUP_HOOKS=()
E2E_FIXTURE_N=0

# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------

# pass NAME
pass() {
	echo "PASS: $1"
	E2E_PASSED=$((E2E_PASSED + 1))
}

# fail NAME REASON   (records the failure; returns 0 so `set -e` goes on)
fail() {
	echo "FAIL: $1: ${2:-failed}"
	E2E_FAILED=$((E2E_FAILED + 1))
}

# skip NAME REASON
skip() {
	echo "SKIP: $1: ${2:-skipped}"
	E2E_SKIPPED=$((E2E_SKIPPED + 1))
}

# check NAME CMD...   pass if CMD succeeds, else fail with its exit status
check() {
	local name=$1 rc=0
	shift
	"$@" || rc=$?
	if [ $rc -eq 0 ]; then pass "$name"; else fail "$name" "exit status $rc: $*"; fi
}

# ---------------------------------------------------------------------------
# messages and the Maildir
# ---------------------------------------------------------------------------

# new_id [TAG] -> a unique Message-ID (without <>), e.g.
# tag.1795944367123456.4711@e2e.test (microseconds + random)
new_id() {
	echo "${1:-msg}.${EPOCHREALTIME/./}.$RANDOM@e2e.test"
}

# make_message ID [TO] [FROM] [SUBJECT] -> an RFC 5322 message on stdout,
# LF line endings (a Unix text file), with "Message-ID: <ID>".
make_message() {
	local id=$1 to=${2:-rcpt@secure.example} from=${3:-sender@example.org}
	local subject=${4:-e2e test $1}
	cat <<-EOF
	From: Sender <$from>
	To: <$to>
	Subject: $subject
	Date: $(LC_ALL=C date -R)
	Message-ID: <$id>
	MIME-Version: 1.0
	Content-Type: text/plain; charset=us-ascii

	This is an end-to-end test message for mxclient.
	.A line that starts with a dot (tests dot-stuffing).
	.
	Last line.
	EOF
}

# maildir_count -> number of delivered messages (new/ + cur/)
maildir_count() {
	find "$LAB_MAILDIR/new" "$LAB_MAILDIR/cur" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# mail_file ID -> path of the delivered message with Message-ID ID (no wait)
mail_file() {
	local f
	f=$(grep -l -i -F -- "$1" "$LAB_MAILDIR"/new/* "$LAB_MAILDIR"/cur/* 2>/dev/null |
		while read -r f; do
			if grep -i -- '^Message-ID:' "$f" | grep -q -F -- "$1"; then
				echo "$f"; break
			fi
		done)
	[ -n "$f" ] && echo "$f"
}

# wait_for_mail ID [TIMEOUT=10] -> prints the path of the message whose
# Message-ID contains ID once Postfix delivered it; 1 on timeout.
wait_for_mail() {
	local id=$1 n=$(( ${2:-10} * 10 )) f
	while :; do
		if f=$(mail_file "$id"); then
			echo "$f"
			return 0
		fi
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# assert_no_mail ID [SECONDS=2] -> 0 if no message with ID arrives meanwhile
assert_no_mail() {
	! wait_for_mail "$1" "${2:-2}" >/dev/null
}

# ---------------------------------------------------------------------------
# scripted SMTP servers (tests/fixtures/smtpd.py)
# ---------------------------------------------------------------------------

# start_fixture MODE [smtpd.py ARGS...]
# Starts smtpd.py --mode MODE in the background (default --listen
# 127.0.0.11 --port 25 --max-seconds 60), waits until it listens, and sets:
#   FIXTURE_PID         its pid (stopped by the cleanup trap or stop_fixture)
#   FIXTURE_SAVE        file the first accepted message goes to (--save)
#   FIXTURE_TRANSCRIPT  its transcript (--log), "C:"/"S:" lines
#   FIXTURE_OUT         its stdout/stderr
# Pass your own --save/--log/--listen/--port/--max-seconds to override.
start_fixture() {
	local mode=$1 a have_save='' have_log='' have_max='' n ready
	shift
	for a in "$@"; do
		case "$a" in
		--save|--save=*) have_save=1 ;;
		--log|--log=*) have_log=1 ;;
		--max-seconds|--max-seconds=*) have_max=1 ;;
		esac
	done
	E2E_FIXTURE_N=$((E2E_FIXTURE_N + 1))
	n=$E2E_FIXTURE_N
	ready=$E2E_TMP/fixture.$n.ready
	FIXTURE_SAVE=$E2E_TMP/fixture.$n.msg
	FIXTURE_TRANSCRIPT=$E2E_TMP/fixture.$n.log
	FIXTURE_OUT=$E2E_TMP/fixture.$n.out
	local extra=()
	[ -n "$have_save" ] || extra+=(--save "$FIXTURE_SAVE")
	[ -n "$have_log" ] || extra+=(--log "$FIXTURE_TRANSCRIPT")
	[ -n "$have_max" ] || extra+=(--max-seconds 60)
	"$PYTHON" "$E2E_FIXTURES/smtpd.py" --mode "$mode" --ready-file "$ready" \
		"${extra[@]}" "$@" >"$FIXTURE_OUT" 2>&1 &
	FIXTURE_PID=$!
	E2E_FIXTURE_PIDS+=("$FIXTURE_PID")
	local _i
	for _i in $(seq 100); do
		[ -s "$ready" ] && return 0
		if ! kill -0 "$FIXTURE_PID" 2>/dev/null; then
			echo "lib.sh: fixture $mode died:" >&2
			cat "$FIXTURE_OUT" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "lib.sh: fixture $mode did not start listening in 5 s" >&2
	return 1
}

# stop_fixture [PID=$FIXTURE_PID] -> stop one fixture and wait for it
stop_fixture() {
	local pid=${1:-$FIXTURE_PID}
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# settle: wait (at most 3 s) until the fixture has seen every connection
# end, so that its transcript is complete
settle() {
	local _ c o
	for _ in $(seq 60); do
		o=$(grep -c '\] \*: connection from' "$FIXTURE_TRANSCRIPT" 2>/dev/null)
		c=$(grep -c '\] \*: closed' "$FIXTURE_TRANSCRIPT" 2>/dev/null)
		[ "${c:-0}" -ge "${o:-0}" ] && return 0
		sleep 0.05
	done
}

# decide DOMAIN [DNSDRV ARGS]: dns's decisions (tests/proc/dnsdrv: the
# real dns_main() over socketpairs) into $DECISIONS
DECISIONS=$E2E_TMP/decisions
decide() {
	local d=$1
	shift
	timeout 60 "${DNSDRV:-$PWD/tests/proc/dnsdrv}" "$@" "$d" >"$DECISIONS" 2>&1
}

# has NAME REGEX: the last decide printed a line matching REGEX
has() {
	grep -Eq -- "$2" "$DECISIONS" && pass "$T: $1" ||
		fail "$T: $1" "$(tr '\n' '|' <"$DECISIONS" | head -c 600)"
}

# stop_fixtures -> stop all fixtures started by this script
stop_fixtures() {
	local pid
	for pid in "${E2E_FIXTURE_PIDS[@]}"; do
		stop_fixture "$pid"
	done
	E2E_FIXTURE_PIDS=()
}

# ---------------------------------------------------------------------------
# environment
# ---------------------------------------------------------------------------

# use_lab_resolv_conf -> bind-mount $LAB/resolv.conf over /etc/resolv.conf,
# only in a private mount namespace (tests/lab/netns.sh makes one); undone
# when the namespace ends. For programs that read /etc/resolv.conf.
use_lab_resolv_conf() {
	if [ "${LAB_NETNS:-}" != 1 ] ||
		[ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt 2>/dev/null)" ]; then
		echo "lib.sh: refusing to bind-mount resolv.conf in the host's mount namespace" >&2
		return 1
	fi
	mount --bind "$LAB_RESOLV_CONF" /etc/resolv.conf
}

# show_lab_logs [LINES=30] -> tails of the lab's daemon logs (to stderr)
show_lab_logs() {
	local f
	for f in "$LAB/postfix.log" "$LAB/unbound.log" "$LAB/nsd.log"; do
		[ -s "$f" ] || continue
		echo "---- tail $f" >&2
		tail -n "${1:-30}" "$f" >&2
	done
}

# on_cleanup 'SHELL CODE' -> run at exit (before the temp dir goes)
on_cleanup() {
	E2E_CLEANUP_HOOKS+=("$1")
}

e2e_cleanup() {
	local rc=$? hook
	set +e
	stop_fixtures
	for hook in "${E2E_CLEANUP_HOOKS[@]}"; do
		eval "$hook"
	done
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "# kept $E2E_TMP"
	else
		rm -rf "$E2E_TMP"
	fi
	echo "# $(basename "$0"): $E2E_PASSED passed, $E2E_FAILED failed, $E2E_SKIPPED skipped"
	if [ "$E2E_FAILED" -gt 0 ] && [ $rc -eq 0 ]; then
		rc=1
	fi
	exit $rc
}
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# expect_eq NAME WANT GOT [DIR] -> pass if GOT equals WANT; else fail, with
# the tails of DIR/out and DIR/err (mxclient's stdout and stderr) if given.
expect_eq() {
	local name=$1 want=$2 got=$3 dir=${4:-} why
	if [ "$want" = "$got" ]; then
		pass "$name"
		return 0
	fi
	why="got $got, want $want"
	if [ -n "$dir" ]; then
		why="$why; stdout: $(tail -n 5 "$dir/out" 2>/dev/null | tr '\n' '|'); stderr: $(tail -n 5 "$dir/err" 2>/dev/null | tr '\n' '|')"
	fi
	fail "$name" "$why"
}

# held_delivery DELAY MSG OUT ERR: mxclient (with "${RES[@]}") delivers MSG
# to the slow fixture, which holds its greeting DELAY seconds; runs in the
# background and sets HELD_PID once tls waits for the greeting.
held_delivery() {
	local delay=$1 msg=$2 out=$3 err=$4
	start_fixture slow-greeting --delay "$delay"
	"$MXCLIENT" "${RES[@]}" -f a@example.org rcpt@slow.example <"$msg" >"$out" 2>"$err" &
	HELD_PID=$!
	for _ in $(seq 100); do
		grep -q '^connecting to' "$out" && break
		sleep 0.05
	done
	sleep 0.2
}
