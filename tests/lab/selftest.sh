#!/bin/bash
# selftest.sh - check that the test lab works (not mxclient).
#
# Usage: tests/lab/selftest.sh        (as root; re-runs itself in netns.sh)
#
# Starts the lab in a new temp dir inside a private network namespace and
# checks: DNSSEC validation (AD flag), NXDOMAIN, delivery through Postfix
# with STARTTLS into the Maildir, the TLSA record against the certificate
# Postfix presents, every name of the case table in README.md (rcode, AD,
# data), the broken-TLSA server dnsd.py directly and through Unbound, the
# non-validating resolver, the DANE-TA chain (OpenSSL's DANE check), the
# scripted SMTP fixtures and the e2e helpers; then stops the lab and checks
# that no lab process is left. Exit 0 = all passed; every check is named
# "lab: ...", and the count comes last (tests/e2e/lib.sh).  make check
# runs it (tests/run.sh): it proves, without mxclient, that the fixtures
# the e2e tests rely on are what they claim (a broken TLSA server that
# really breaks, bogus zones that really fail, TLSA data that matches or
# does not), so no e2e check passes only because a fixture went wrong.
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
	echo "FAIL: lab: lab-start: see $LAB"
	exit 1
fi
t1=$EPOCHREALTIME
LAB_START_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')

export LAB
export MXCLIENT=${MXCLIENT:-/bin/false}   # not used by the self-test
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"
# every check of this script is named "lab: ..."
eval "lib_$(declare -f pass)"
eval "lib_$(declare -f fail)"
pass() { lib_pass "lab: $1"; }
fail() { lib_fail "lab: $1" "${2:-failed}"; }
# tls_send ADDR RCPT FILE: deliver FILE over STARTTLS (Python's smtplib:
# swaks needs Net::SSLeay for TLS, which the lab does not install); the
# certificate is not checked here (the TLSA checks below do that)
tls_send() {
	"$PYTHON" - "$@" <<'PY'
import smtplib, ssl, sys
addr, rcpt, path = sys.argv[1:4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(addr, 25, "selftest.example", timeout=20) as s:
    s.starttls(context=ctx)
    print("TLS started:", s.sock.version())
    with open(path) as f:
        s.sendmail("a@example.org", [rcpt], f.read())
PY
}
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

# (c) Postfix takes mail with STARTTLS into the Maildir
id=$(new_id starttls)
out=$E2E_TMP/swaks.out
make_message "$id" > "$E2E_TMP/tls.eml"
if tls_send "$LAB_MX_ADDR" rcpt@secure.example "$E2E_TMP/tls.eml" >"$out" 2>&1; then
	if f=$(wait_for_mail "$id" 10); then
		pass "postfix-delivery ($(basename "$f"))"
	else
		fail "postfix-delivery" "message $id not in $LAB_MAILDIR"
	fi
	grep -q 'TLS started' "$out" && pass "postfix-starttls" ||
		fail "postfix-starttls" "no TLS"
else
	fail "postfix-delivery" "$(tail -n 3 "$out" | tr '\n' ' ')"
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

# (e) every name of the DANE/DNSSEC case table (tests/lab/README.md)
# dns_check NAME TYPE RCODE AD [WANT...]: one query via $R (default: the
# validating Unbound). AD is "ad" or "-". Each WANT must be a substring of
# an answer RR written "TYPE DATA" (e.g. "A 127.0.0.10"); WANT "none" means
# an empty answer section, "N RRs" that many answer RRs.
dns_check() {
	local name=$1 type=$2 want_rc=$3 want_ad=$4 out rc ad rrs w why=""
	shift 4
	out=$(drill -D @"${R:-$LAB_RESOLVER}" "$type" "$name" 2>&1) || true
	rc=$(sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p' <<<"$out")
	ad=-
	if grep -q '^;; flags:.* ad[ ;]' <<<"$out"; then ad=ad; fi
	rrs=$(awk '/^;; ANSWER SECTION/ { a = 1; next } /^;; / || /^$/ { a = 0 }
		a && NF >= 5 && $4 != "RRSIG" { $1 = $1; print substr($0, index($0, $4)) }' <<<"$out")
	[ "$rc" = "$want_rc" ] || why="rcode $rc, want $want_rc; "
	[ "$ad" = "$want_ad" ] || why="${why}AD '$ad', want '$want_ad'; "
	for w in "$@"; do
		case "$w" in
		none) [ -z "$rrs" ] || why="${why}answer not empty; " ;;
		*" RRs") [ "$(grep -c . <<<"$rrs")" = "${w% RRs}" ] || why="${why}want $w; " ;;
		*) grep -qiF -- "$w" <<<"$rrs" || why="${why}no '$w'; " ;;
		esac
	done
	if [ -z "$why" ]; then
		pass "dns ${R:+@$R }$name/$type $want_rc $want_ad"
	else
		fail "dns ${R:+@$R }$name/$type" "$why answer: $(tr '\n' '|' <<<"$rrs")"
	fi
}

ok=${LAB_MX_TLSA#3 1 1 }; bad=${LAB_BAD_TLSA#3 1 1 }
ca201=${LAB_CA_TLSA#2 0 1 }; ca211=${LAB_CA_SPKI_TLSA#2 1 1 }

# zone status: secure, insecure (no DS, proven), bogus (SERVFAIL)
dns_check insecure.example DS NOERROR ad none
dns_check brokentlsa.example DS NOERROR ad none
dns_check bogus.example SOA SERVFAIL -
dns_check expired.example SOA SERVFAIL -
dns_check insecure.example SOA NOERROR - "SOA ns.insecure.example."
# MX cases
dns_check noaddr.example MX NOERROR ad none
dns_check noaddr.example A NOERROR ad none
dns_check equal.example MX NOERROR ad "MX 10 mx-a.equal.example." "MX 10 mx-b.equal.example."
dns_check mx-a.equal.example A NOERROR ad "A 127.0.0.10"
dns_check mx-b.equal.example A NOERROR ad "A 127.0.0.10"
dns_check _25._tcp.mx-a.equal.example TLSA NOERROR ad "3 1 1 $ok"
dns_check _25._tcp.mx-b.equal.example TLSA NOERROR ad "3 1 1 $ok"
dns_check mx-nxhost.example MX NOERROR ad "MX 10 nx.mx-nxhost.example." "1 RRs"
dns_check nx.mx-nxhost.example A NXDOMAIN ad
dns_check mx-nxhost-backup.example MX NOERROR ad "MX 10 nx.mx-nxhost-backup.example." "MX 20 mx.secure.example."
dns_check nx.mx-nxhost-backup.example A NXDOMAIN ad
dns_check mx-ipliteral.example MX NOERROR ad "MX 10 127.0.0.10." "1 RRs"
dns_check 127.0.0.10. A NXDOMAIN ad
dns_check mx-ipliteral-backup.example MX NOERROR ad "MX 10 127.0.0.11." "MX 20 mx.secure.example."
dns_check 127.0.0.11. A NXDOMAIN ad
dns_check bogus.example MX SERVFAIL -
dns_check expired.example MX SERVFAIL -
dns_check nx.bogus.example MX SERVFAIL -
dns_check insecure.example MX NOERROR - "MX 10 mx.insecure.example."
dns_check nx.insecure.example MX NXDOMAIN -
dns_check trusted.insecure.example MX NOERROR - "MX 10 mx.secure.example."
# address / CNAME cases
dns_check bogus-host.example MX NOERROR ad "MX 10 mx.bogus.example." "MX 20 mx.secure.example."
dns_check bogus-host-only.example MX NOERROR ad "MX 10 mx.bogus.example." "1 RRs"
dns_check mx.bogus.example A SERVFAIL -
dns_check mx.expired.example A SERVFAIL -
dns_check mx.insecure.example A NOERROR - "A 127.0.0.10"
dns_check _25._tcp.mx.insecure.example TLSA NOERROR - "3 1 1 $bad"
dns_check cname-secure.example MX NOERROR ad "MX 10 mx.cname-secure.example."
dns_check mx.cname-secure.example A NOERROR ad "CNAME real.cname-secure.example." "A 127.0.0.10"
dns_check _25._tcp.real.cname-secure.example TLSA NOERROR ad "3 1 1 $ok"
dns_check _25._tcp.mx.cname-secure.example TLSA NOERROR ad "3 1 1 $bad"
dns_check mx.cname-secure-orig.example A NOERROR ad "CNAME real.cname-secure-orig.example." "A 127.0.0.10"
dns_check _25._tcp.real.cname-secure-orig.example TLSA NXDOMAIN ad
dns_check _25._tcp.mx.cname-secure-orig.example TLSA NOERROR ad "3 1 1 $ok"
dns_check mx.cname-insecure.example A NOERROR - "CNAME mx.insecure.example." "A 127.0.0.10"
dns_check mx.cname-insecure.example CNAME NOERROR ad "CNAME mx.insecure.example."
dns_check _25._tcp.mx.cname-insecure.example TLSA NOERROR ad "3 1 1 $ok"
dns_check mx.cname-insecure-bad.example A NOERROR - "CNAME mx.insecure.example." "A 127.0.0.10"
dns_check mx.cname-insecure-bad.example CNAME NOERROR ad "CNAME mx.insecure.example."
dns_check _25._tcp.mx.cname-insecure-bad.example TLSA NOERROR ad "3 1 1 $bad"
dns_check cname-from-insecure.example MX NOERROR ad "MX 10 to-wrongtlsa.insecure.example."
dns_check to-wrongtlsa.insecure.example A NOERROR - "CNAME mx.wrongtlsa.example." "A 127.0.0.10"
dns_check to-wrongtlsa.insecure.example CNAME NOERROR - "CNAME mx.wrongtlsa.example."
dns_check mx.cname-to-broken.example A NOERROR - "CNAME mx.servfail.brokentlsa.example." "A 127.0.0.10"
dns_check mx.cname-to-broken.example CNAME NOERROR ad "CNAME mx.servfail.brokentlsa.example."
dns_check _25._tcp.mx.cname-to-broken.example TLSA NOERROR ad "3 1 1 $ok"
# TLSA cases
dns_check wrongtlsa.example MX NOERROR ad "MX 10 mx.wrongtlsa.example."
dns_check wrongtlsa-backup.example MX NOERROR ad "MX 10 mx.wrongtlsa.example." "MX 20 mx.secure.example."
dns_check mx.wrongtlsa.example A NOERROR ad "A 127.0.0.10"
dns_check _25._tcp.mx.wrongtlsa.example TLSA NOERROR ad "3 1 1 $bad" "1 RRs"
dns_check tlsa-bogus.example MX NOERROR ad "MX 10 mx.tlsa-bogus.example."
dns_check tlsa-bogus-backup.example MX NOERROR ad "MX 10 mx.tlsa-bogus.example." "MX 20 mx.secure.example."
dns_check mx.tlsa-bogus.example A NOERROR ad "A 127.0.0.10"
dns_check _25._tcp.mx.tlsa-bogus.example TLSA SERVFAIL -
dns_check tlsa-unusable.example MX NOERROR ad "MX 10 mx.tlsa-unusable.example."
dns_check mx.tlsa-unusable.example A NOERROR ad "A 127.0.0.10"
dns_check _25._tcp.mx.tlsa-unusable.example TLSA NOERROR ad "7 RRs" "0 0 1 $bad" \
	"1 1 1 $bad" "4 1 1 $bad" "3 255 1 $bad" "3 1 255 $bad" "3 1 1 ${ok:0:62}" "3 1 2 $ok"
dns_check mx.tlsa-unusable-fixture.example A NOERROR ad "A 127.0.0.11"
dns_check _25._tcp.mx.tlsa-unusable-fixture.example TLSA NOERROR ad "4 RRs"
dns_check mx.dane-fixture.example A NOERROR ad "A 127.0.0.11"
dns_check _25._tcp.mx.dane-fixture.example TLSA NOERROR ad "3 1 1 $ok"
dns_check mx.tlsa-cname.example A NOERROR ad "A 127.0.0.10"
dns_check _25._tcp.mx.tlsa-cname.example TLSA NOERROR ad "CNAME _tlsa.tlsa-cname.example." "TLSA 3 1 1 $ok"
dns_check _25._tcp.mx.tlsa-cname-insecure.example TLSA NOERROR - "CNAME _tlsa.insecure.example." "TLSA 3 1 1 $bad"
dns_check _25._tcp.mx.tlsa-cname-insecure.example CNAME NOERROR ad "CNAME _tlsa.insecure.example."
for h in dane-ta dane-ta-wild dane-ta-nexthop dane-ta-badname; do
	dns_check "mx.$h.example" A NOERROR ad "A 127.0.0.10"
	dns_check "_25._tcp.mx.$h.example" TLSA NOERROR ad "2 0 1 $ca201" "1 RRs"
done
dns_check _25._tcp.mx.dane-ta-spki.example TLSA NOERROR ad "2 1 1 $ca211" "1 RRs"

# (f) the broken authoritative server (tests/fixtures/dnsd.py): directly ...
dnsd_rcode() {  # dnsd_rcode ADDR TYPE NAME -> rcode, or "timeout"
	local out
	out=$(timeout 2 drill @"$1" "$2" "$3" 2>&1) || { echo timeout; return 0; }
	sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p' <<<"$out"
}
for c in "servfail SERVFAIL" "refused REFUSED" "notimp NOTIMPL" "brokentlsa-sane NXDOMAIN"; do
	set -- $c
	n=_25._tcp.mx.$1.brokentlsa.example; [ "$1" != brokentlsa-sane ] || n=_25._tcp.mx.brokentlsa.example
	r=$(dnsd_rcode "$LAB_DNSD_ADDR" TLSA "$n")
	[ "$r" = "$2" ] && pass "dnsd $n/TLSA $2" || fail "dnsd $n/TLSA" "rcode '$r', want $2"
	m=${n#_25._tcp.}
	r=$(dnsd_rcode "$LAB_DNSD_ADDR" A "$m")
	[ "$r" = NOERROR ] && pass "dnsd $m/A" || fail "dnsd $m/A" "rcode '$r'"
done
r=$(dnsd_rcode "$LAB_DNSD_SILENT_ADDR" TLSA _25._tcp.mx.silent.brokentlsa.example)
[ "$r" = timeout ] && pass "dnsd silent TLSA: no answer" || fail "dnsd silent TLSA" "got '$r'"
if drill @"$LAB_DNSD_ADDR" A mx.silent.brokentlsa.example | grep -q 'silent.brokentlsa.example.*NS.*ns.silent'; then
	pass "dnsd referral to silent.brokentlsa.example"
else
	fail "dnsd referral to silent.brokentlsa.example" "no NS in the answer of $LAB_DNSD_ADDR"
fi
# ... and through Unbound: insecure answers for every address and MX there
for d in brokentlsa servfail.brokentlsa refused.brokentlsa notimp.brokentlsa silent.brokentlsa; do
	dns_check "$d.example" MX NOERROR - "MX 10 mx.$d.example."
	dns_check "mx.$d.example" A NOERROR - "A 127.0.0.10"
	dns_check "mx.$d.example" AAAA NOERROR - none
done
dns_check _25._tcp.mx.brokentlsa.example TLSA NXDOMAIN -
dns_check _25._tcp.mx.servfail.brokentlsa.example TLSA SERVFAIL -
dns_check _25._tcp.mx.refused.brokentlsa.example TLSA SERVFAIL -
dns_check _25._tcp.mx.notimp.brokentlsa.example TLSA SERVFAIL -
# a REFUSED/NOTIMP/SERVFAIL TLSA answer spoils nothing else in the zone
dns_check refused.brokentlsa.example TXT NOERROR - none
dns_check mx.notimp.brokentlsa.example TXT NOERROR - none
# the silent one: SERVFAIL after about 1 s; then Unbound holds the server
# down for a moment (SERVFAIL for every name there, cached for about 5 s),
# and the zone answers again within about 1 s (names not asked meanwhile)
s0=$EPOCHREALTIME
dns_check _25._tcp.mx.silent.brokentlsa.example TLSA SERVFAIL -
el=$(awk -v a="$s0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
awk -v e="$el" 'BEGIN{exit !(e < 3)}' && pass "unbound gives up on silent TLSA in ${el} s" ||
	fail "unbound gives up on silent TLSA" "took $el s"
s0=$EPOCHREALTIME
for i in $(seq 40); do
	drill -D @"$LAB_RESOLVER" TXT "probe$i.silent.brokentlsa.example" | grep -q 'rcode: NXDOMAIN' && break
	sleep 0.1
done
el=$(awk -v a="$s0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
[ "$i" -lt 40 ] && pass "silent zone answers again ${el} s after the timeout" ||
	fail "silent zone answers again" "still SERVFAIL after $el s"
if grep -q ' TLSA -> ' "$LAB_DNSD_LOG" && grep -q ' mx.servfail.brokentlsa.example. A -> NOERROR' "$LAB_DNSD_LOG"; then
	pass "dnsd query log"
else
	fail "dnsd query log" "$LAB_DNSD_LOG lacks the queries above"
fi

# (g) the resolver that does not validate: answers, never AD, not even bogus
for q in "secure.example MX NOERROR" "_25._tcp.mx.secure.example TLSA NOERROR" \
	"nxdomain.example MX NXDOMAIN" "bogus.example MX NOERROR" \
	"_25._tcp.mx.tlsa-bogus.example TLSA NOERROR" "insecure.example MX NOERROR"; do
	set -- $q
	R=$LAB_NOVALIDATE_RESOLVER dns_check "$1" "$2" "$3" -
done
grep -qx "nameserver $LAB_NOVALIDATE_RESOLVER" "$LAB_NOVALIDATE_RESOLV_CONF" &&
	pass "novalidate-resolv-conf" || fail "novalidate-resolv-conf" "$LAB_NOVALIDATE_RESOLV_CONF"

# (h) TLS: Postfix presents leaf + lab CA; DANE-TA records match (OpenSSL)
chain=$(openssl s_client -starttls smtp -connect "$LAB_MX_ADDR:25" -showcerts </dev/null 2>/dev/null |
	grep -c 'BEGIN CERTIFICATE')
[ "$chain" = 2 ] && pass "postfix-chain (leaf + CA)" || fail "postfix-chain" "$chain certificates"
openssl verify -CAfile "$LAB_CA_CERT" "$LAB_MX_CERT" >/dev/null 2>&1 &&
	pass "ca-signs-mx-cert" || fail "ca-signs-mx-cert" "openssl verify failed"
# dane_check NAME HOST RRDATA OK|FAIL: OpenSSL's DANE check of Postfix
dane_check() {
	local out r
	out=$(openssl s_client -starttls smtp -connect "$LAB_MX_ADDR:25" -dane_tlsa_domain "$2" \
		-dane_tlsa_rrdata "$3" </dev/null 2>/dev/null)
	if grep -q 'Verification: OK' <<<"$out"; then r=OK; else r=FAIL; fi
	[ "$r" = "$4" ] && pass "$1 ($2: $r)" || fail "$1" "$2 '$3': $r, want $4"
}
dane_check dane-ee mx.secure.example "$LAB_MX_TLSA" OK
dane_check dane-ta-cert mx.dane-ta.example "$LAB_CA_TLSA" OK
dane_check dane-ta-spki mx.dane-ta-spki.example "$LAB_CA_SPKI_TLSA" OK
dane_check dane-ta-wildcard mx.dane-ta-wild.example "$LAB_CA_TLSA" OK
dane_check dane-ta-badname mx.dane-ta-badname.example "$LAB_CA_TLSA" FAIL
dane_check dane-ta-nexthop-host mx.dane-ta-nexthop.example "$LAB_CA_TLSA" FAIL
dane_check dane-ta-nexthop-domain dane-ta-nexthop.example "$LAB_CA_TLSA" OK
dane_check dane-ee-wrong mx.wrongtlsa.example "$LAB_BAD_TLSA" FAIL

# (i) Postfix takes mail for the new domains too (and still relays nothing)
for dom in trusted.insecure.example servfail.brokentlsa.example dane-ta.example; do
	id=$(new_id "$dom")
	make_message "$id" "user@$dom" > "$E2E_TMP/dom.eml"
	if tls_send "$LAB_MX_ADDR" "user@$dom" "$E2E_TMP/dom.eml" >"$out" 2>&1 &&
		wait_for_mail "$id" 10 >/dev/null; then
		pass "postfix-domain $dom"
	else
		fail "postfix-domain $dom" "$(tail -n 1 "$out")"
	fi
done

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
make_message "$(new_id fixture-tls)" rcpt@slow.example > "$E2E_TMP/fxtls.eml"
if tls_send "$LAB_FIXTURE_ADDR" rcpt@slow.example "$E2E_TMP/fxtls.eml" >"$out" 2>&1 &&
	grep -q 'TLS started' "$out" && [ -s "$FIXTURE_SAVE" ]; then
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
