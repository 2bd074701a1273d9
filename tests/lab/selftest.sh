#!/bin/bash
# selftest.sh - check that the test lab works (not mxclient).
#
# Usage: tests/lab/selftest.sh        (as root; re-runs itself in netns.sh)
#
# Starts the lab in a new temp dir inside a private network namespace and
# checks: DNSSEC validation (AD flag), NXDOMAIN, delivery through Postfix
# with STARTTLS into the Maildir, the TLSA record against the certificate
# Postfix presents, the scripted SMTP fixtures and the e2e helpers; then
# stops the lab and checks that no lab process is left. Exit 0 = all passed.
# The lab dir is removed on success and kept (path printed) on failure.
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# inside netns.sh only lo exists
if [ "${LAB_NETNS:-}" != 1 ] || ip -o link show | awk -F': ' '$2 != "lo" {x=1} END {exit !x}'; then
	exec "$HERE/netns.sh" "$HERE/selftest.sh" "$@"
fi

LAB=$(mktemp -d "${TMPDIR:-/tmp}/mxlab.XXXXXX")
LAB_STOPPED=0
t0=$EPOCHREALTIME
# LAB_TIMEOUT: a watchdog stops the lab even if this script is killed
if ! LAB_TIMEOUT=600 "$HERE/lab.sh" start "$LAB"; then
	echo "FAIL: lab-start: see $LAB" >&2
	exit 1
fi
t1=$EPOCHREALTIME
LAB_START_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')

export LAB
export MXCLIENT=${MXCLIENT:-/bin/false}   # not used by the self-test
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
on_cleanup '[ "$LAB_STOPPED" = 1 ] || "$HERE/lab.sh" stop "$LAB" >/dev/null'
on_cleanup 'if [ "$E2E_FAILED" -gt 0 ]; then show_lab_logs 20; echo "# lab dir kept: $LAB"; else rm -rf "$LAB"; fi'
pass "lab-start (${LAB_START_SECONDS} s)"

# flags NAME TYPE -> the ";; flags:" line of a DNSSEC query via Unbound
flags() { drill -D @"$LAB_RESOLVER" "$2" "$1" | grep '^;; flags:'; }
rcode() { drill -D @"$LAB_RESOLVER" "$2" "$1" | sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p'; }
answer() { drill -D @"$LAB_RESOLVER" "$2" "$1" | awk -v t="$2" '!/^;/ && $4 == t { $1=$2=$3=$4=""; sub(/^ +/, ""); print }'; }

# (a) secure answers have AD
for q in "secure.example MX" "mx.secure.example A" "nomx.example A" \
	"nullmx.example MX" "multi.example MX" "slow.example MX"; do
	set -- $q
	if flags "$1" "$2" | grep -q ' ad[ ;]'; then
		pass "dns-secure $1/$2"
	else
		fail "dns-secure $1/$2" "no AD flag: $(flags "$1" "$2" || true)"
	fi
done
[ "$(answer secure.example MX)" = "10 mx.secure.example." ] &&
	pass "dns-mx-data" || fail "dns-mx-data" "got '$(answer secure.example MX)'"
[ "$(answer nullmx.example MX)" = "0 ." ] &&
	pass "dns-null-mx" || fail "dns-null-mx" "got '$(answer nullmx.example MX)'"

# (b) NXDOMAIN, proven by signed NSEC (AD set)
r=$(rcode nxdomain.example MX)
[ "$r" = NXDOMAIN ] && pass "dns-nxdomain" || fail "dns-nxdomain" "rcode '$r'"
flags nxdomain.example MX | grep -q ' ad[ ;]' &&
	pass "dns-nxdomain-secure" || fail "dns-nxdomain-secure" "no AD on the denial"

# the lab root is the only root: a real TLD does not exist here
r=$(rcode org. SOA)
[ "$r" = NXDOMAIN ] && pass "dns-no-outside-tlds" || fail "dns-no-outside-tlds" "org. SOA rcode '$r'"

# the lab's resolv.conf works for the system resolver (bind mount, private
# mount namespace only)
if use_lab_resolv_conf && [ "$(getent ahostsv4 mx.secure.example | awk 'NR==1{print $1}')" = "$LAB_MX_ADDR" ]; then
	pass "resolv-conf"
else
	fail "resolv-conf" "getent via $LAB_RESOLV_CONF: '$(getent ahostsv4 mx.secure.example | head -1)'"
fi

# (c) swaks delivers through Postfix with STARTTLS into the Maildir
id=$(new_id swaks)
out=$E2E_TMP/swaks.out
if swaks --server "$LAB_MX_ADDR" --to rcpt@secure.example --from a@example.org \
	--tls --header "Message-ID: <$id>" >"$out" 2>&1; then
	if f=$(wait_for_mail "$id" 10); then
		pass "postfix-delivery ($(basename "$f"))"
	else
		fail "postfix-delivery" "message $id not in $LAB_MAILDIR"
	fi
	grep -q 'TLS started' "$out" && pass "postfix-starttls" ||
		fail "postfix-starttls" "swaks did not start TLS"
else
	fail "postfix-delivery" "swaks failed: $(tail -n 3 "$out" | tr '\n' ' ')"
fi
# implicit-MX domain and make_message via swaks --data
id=$(new_id nomx)
make_message "$id" user@nomx.example > "$E2E_TMP/nomx.eml"
if swaks --server "$LAB_MX_ADDR" --to user@nomx.example --from a@example.org \
	--data @"$E2E_TMP/nomx.eml" >"$out" 2>&1 && wait_for_mail "$id" 10 >/dev/null; then
	pass "postfix-nomx-domain"
else
	fail "postfix-nomx-domain" "$(tail -n 3 "$out" | tr '\n' ' ')"
fi
n=$(maildir_count)
[ "$n" -eq 2 ] && pass "maildir-count" || fail "maildir-count" "expected 2, got $n"
# not a lab domain: Postfix must refuse to relay
if swaks --server "$LAB_MX_ADDR" --to x@elsewhere.example --from a@example.org \
	>"$out" 2>&1; then
	fail "postfix-no-relay" "accepted mail for elsewhere.example"
else
	grep -q '<\*\* *554 5.7.1' "$out" && pass "postfix-no-relay" ||
		fail "postfix-no-relay" "$(grep '<\*\*' "$out" | head -1)"
fi

# (d) TLSA of _25._tcp.mx.secure.example is secure and matches Postfix's cert
tlsa_q=_25._tcp.mx.secure.example
if flags "$tlsa_q" TLSA | grep -q ' ad[ ;]'; then
	pass "tlsa-secure"
else
	fail "tlsa-secure" "no AD flag on $tlsa_q TLSA"
fi
tlsa=$(answer "$tlsa_q" TLSA | tr 'A-F' 'a-f')
spki=$(openssl s_client -starttls smtp -connect "$LAB_MX_ADDR:25" \
		-servername "$LAB_MX_NAME" </dev/null 2>/dev/null |
	openssl x509 -pubkey -noout |
	openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -hex | sed 's/^.*= *//')
if [ -n "$spki" ] && [ "$tlsa" = "3 1 1 $spki" ]; then
	pass "tlsa-matches-postfix-cert"
else
	fail "tlsa-matches-postfix-cert" "TLSA '$tlsa' vs presented SPKI sha256 '$spki'"
fi
# and OpenSSL's own DANE check agrees
if openssl s_client -starttls smtp -connect "$LAB_MX_ADDR:25" \
	-dane_tlsa_domain "$LAB_MX_NAME" -dane_tlsa_rrdata "$tlsa" </dev/null 2>/dev/null |
	grep -q 'DANE TLSA 3 1 1 .*matched EE certificate'; then
	pass "tlsa-openssl-dane"
else
	fail "tlsa-openssl-dane" "openssl s_client -dane_tlsa_rrdata did not match"
fi

# the fixtures
swaks_fixture() {   # swaks_fixture OUTFILE [swaks args] -> swaks to 127.0.0.11
	local o=$1; shift
	timeout 20 swaks --server "$LAB_FIXTURE_ADDR" --to rcpt@slow.example \
		--from a@example.org "$@" >"$o" 2>&1
}
id=$(new_id fixture)
make_message "$id" rcpt@slow.example > "$E2E_TMP/fx.eml"
start_fixture plain
if swaks_fixture "$out" --data @"$E2E_TMP/fx.eml" && grep -q -F "<$id>" "$FIXTURE_SAVE" &&
	grep -q -x 'RCPT TO:<rcpt@slow.example>' "$FIXTURE_SAVE.env"; then
	pass "fixture-plain-saves"
else
	fail "fixture-plain-saves" "$(tail -n 3 "$out" | tr '\n' ' ')"
fi
grep -q '^[0-9.]* \[1\] C: QUIT' "$FIXTURE_TRANSCRIPT" && pass "fixture-transcript" ||
	fail "fixture-transcript" "no C: QUIT in $FIXTURE_TRANSCRIPT"
stop_fixture
kill -0 "$FIXTURE_PID" 2>/dev/null && fail "fixture-stop" "still running" || pass "fixture-stop"

start_fixture reject-rcpt
swaks_fixture "$out" || true
grep -q '<\*\* *550 5.1.1' "$out" && pass "fixture-reject-rcpt" ||
	fail "fixture-reject-rcpt" "$(grep '<' "$out" | tail -n 2 | tr '\n' ' ')"
stop_fixture

start_fixture tempfail-greeting
swaks_fixture "$out" || true
grep -q '<\*\* *421 4.3.2' "$out" && pass "fixture-tempfail-greeting" ||
	fail "fixture-tempfail-greeting" "$(grep '<' "$out" | tail -n 2 | tr '\n' ' ')"
stop_fixture

start_fixture close-after-greeting
swaks_fixture "$out" || true
grep -q '^<- *220 ' "$out" && ! grep -q '^<- *250 ' "$out" &&
	pass "fixture-close-after-greeting" ||
	fail "fixture-close-after-greeting" "$(tail -n 2 "$out" | tr '\n' ' ')"
stop_fixture

start_fixture slow-greeting --delay 1.5
s0=$EPOCHREALTIME
swaks_fixture "$out" || true
el=$(awk -v a="$s0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
if grep -q '<- *250 2.0.0 Ok: queued' "$out" &&
	awk -v e="$el" 'BEGIN{exit !(e >= 1.5)}'; then
	pass "fixture-slow-greeting (${el} s)"
else
	fail "fixture-slow-greeting" "elapsed $el s; $(tail -n 2 "$out" | tr '\n' ' ')"
fi
stop_fixture

start_fixture starttls --tls-cert "$LAB_MX_CERT" --tls-key "$LAB_MX_KEY"
if swaks_fixture "$out" --tls && grep -q 'TLS started' "$out" && [ -s "$FIXTURE_SAVE" ]; then
	pass "fixture-starttls"
else
	fail "fixture-starttls" "$(tail -n 3 "$out" | tr '\n' ' ')"
fi
stop_fixture

start_fixture plain --max-seconds 1
p=$FIXTURE_PID
sleep 1.6
kill -0 "$p" 2>/dev/null && fail "fixture-max-seconds" "still running after 1.6 s" ||
	pass "fixture-max-seconds"
stop_fixtures

# stop the lab; nothing of it may be left in this network namespace
"$HERE/lab.sh" stop "$LAB" >/dev/null
# shellcheck disable=SC2034 # read by the on_cleanup hook
LAB_STOPPED=1
# leftovers -> "pid cmdline" of processes in this netns other than this
# script and the shell tools it runs for the check (zombies excluded)
leftovers() {
	local me pid h l
	me=$(readlink /proc/self/ns/net)
	find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/net' -printf '%h %l\n' 2>/dev/null |
	while read -r h l; do
		[ "$l" = "$me" ] || continue
		pid=${h#/proc/}; pid=${pid%/ns}
		# this check's own pipeline (children of this script) is not a leftover
		case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
		bash|selftest.sh|find|sed|awk|mawk|gawk|tr|cat) descends_from_self "$pid" && continue ;;
		esac
		[ "$(sed 's/.*) \([A-Za-z]\).*/\1/' "/proc/$pid/stat" 2>/dev/null)" != Z ] || continue
		[ -e "/proc/$pid" ] || continue
		echo "$pid $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)"
	done
}
descends_from_self() {
	local p=$1 n=0
	while [ "$p" -gt 1 ] && [ $n -lt 50 ]; do
		[ "$p" != "$$" ] || return 0
		p=$(sed 's/.*) [A-Za-z] \([0-9]*\).*/\1/' "/proc/$p/stat" 2>/dev/null) || return 1
		[ -n "$p" ] || return 1
		n=$((n + 1))
	done
	return 1
}
left=$(leftovers)
if [ -z "$left" ]; then
	pass "lab-stop-leaves-nothing"
else
	fail "lab-stop-leaves-nothing" "left: $(echo "$left" | tr '\n' ';')"
fi
echo "# lab start time: ${LAB_START_SECONDS} s"
