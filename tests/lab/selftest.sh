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
# scripted SMTP fixtures and the e2e helpers, the MTA-STS parts (DNS,
# certificate names, nginx's policy hosts, httpsd.py's modes); then stops
# the lab and checks
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
for dom in trusted.insecure.example servfail.brokentlsa.example dane-ta.example \
	sts-enforce.insecure.example; do
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

# (j) MTA-STS: the DNS records of every STS domain, the Postfix
# certificate's names (PKIX), nginx's policy hosts, the expired
# certificate, tests/fixtures/httpsd.py's modes
sts_policy_addr() {  # DOMAIN -> the address of mta-sts.DOMAIN
	if grep -q "^mta-sts\.$1=" "$LAB_HTTPSD_MODES"; then echo "$LAB_HTTPSD_ADDR"; else echo "$LAB_NGINX_ADDR"; fi
}
n=0
for dom in $LAB_STS_DOMAINS; do
	n=$((n + 1))
	case "$dom" in *.insecure.example) ad=- ;; *) ad=ad ;; esac
	dns_check "_mta-sts.$dom" TXT NOERROR "$ad" 'TXT "v=STSv1; id=lab1;"' "1 RRs"
	dns_check "_smtp._tls.$dom" TXT NOERROR "$ad" "TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@$dom\""
	dns_check "mta-sts.$dom" A NOERROR "$ad" "A $(sts_policy_addr "$dom")" "1 RRs"
	case "$dom" in
	sts-wild.*) dns_check "$dom" MX NOERROR - "MX 10 a.b.$dom." "MX 20 mx.$dom." "2 RRs" ;;
	*) dns_check "$dom" MX NOERROR "$ad" "MX 10 mx.$dom." "1 RRs" ;;
	esac
	case "$dom" in
	sts-expired.*|sts-nostarttls.*) dns_check "mx.$dom" A NOERROR - "A $LAB_FIXTURE_ADDR" ;;
	sts-wild.*) dns_check "a.b.$dom" A NOERROR - "A $LAB_MX_ADDR"; dns_check "mx.$dom" A NOERROR - "A $LAB_MX_ADDR" ;;
	*) dns_check "mx.$dom" A NOERROR "$ad" "A $LAB_MX_ADDR" ;;
	esac
	[[ " $LAB_MAIL_DOMAINS " == *" $dom "* ]] && pass "sts mail domain $dom" ||
		fail "sts mail domain $dom" "not in LAB_MAIL_DOMAINS"
done
[ "$n" -ge 23 ] && pass "sts domains ($n)" || fail "sts domains" "only $n in LAB_STS_DOMAINS"
dns_check _25._tcp.mx.sts-dane.example TLSA NOERROR ad "3 1 1 $ok" "1 RRs"
dns_check _25._tcp.mx.sts-tlsafail.example TLSA SERVFAIL -

# pkix_name NAME OK|FAIL: the Postfix certificate (signed by the lab CA)
# names NAME or not
pkix_name() {
	local r=FAIL
	openssl verify -CAfile "$LAB_CA_CERT" -verify_hostname "$1" "$LAB_MX_CERT" >/dev/null 2>&1 && r=OK
	[ "$r" = "$2" ] && pass "pkix postfix cert $1: $r" || fail "pkix postfix cert $1" "$r, want $2"
}
for h in mx.sts-enforce mx.sts-mismatch a.b.sts-wild mx.sts-wild mx.sts-expired \
	mx.sts-nostarttls mx.sts-hok mx.sts-hchunked mx.sts-hcrlf; do
	pkix_name "$h.insecure.example" OK
done
pkix_name mx.sts-dane.example OK
pkix_name mx.sts-tlsafail.example OK
pkix_name "$LAB_MX_NAME" OK
for h in mx.sts-testing mx.sts-badcert mx.sts-none mx.sts-nopolicy mx.sts-wrongname \
	mx.sts-hostile mx.sts-h301 mx.sts-h302 mx.sts-h404 mx.sts-hbig mx.sts-htype \
	mx.sts-hslow mx.sts-hother mx.not-the-mx x.mx.sts-wild; do
	pkix_name "$h.insecure.example" FAIL
done
# ... and that is what Postfix presents (WebPKI check as a sender makes it)
pkix_postfix() {
	local r=FAIL
	openssl s_client -starttls smtp -connect "$LAB_MX_ADDR:25" -servername "$1" \
		-verify_hostname "$1" -CAfile "$LAB_CA_CERT" </dev/null 2>/dev/null |
		grep -q '^Verification: OK' && r=OK
	[ "$r" = "$2" ] && pass "pkix postfix presents $1: $r" || fail "pkix postfix presents $1" "$r, want $2"
}
pkix_postfix mx.sts-enforce.insecure.example OK
pkix_postfix mx.sts-badcert.insecure.example FAIL

# the expired certificate: signed by the lab CA, right name, only expired
out_v=$(openssl verify -CAfile "$LAB_CA_CERT" "$LAB_STS_EXPIRED_CERT" 2>&1) || true
grep -q 'certificate has expired' <<<"$out_v" && pass "sts expired cert: expired" ||
	fail "sts expired cert: expired" "$(tr '\n' ' ' <<<"$out_v")"
openssl verify -no_check_time -CAfile "$LAB_CA_CERT" -verify_hostname mx.sts-expired.insecure.example \
	"$LAB_STS_EXPIRED_CERT" >/dev/null 2>&1 && pass "sts expired cert: CA-signed, names mx.sts-expired" ||
	fail "sts expired cert: CA-signed, names mx.sts-expired" "openssl verify -no_check_time failed"
# fixture_verify NAME -> the Verification line of smtpd.py on 127.0.0.11
fixture_verify() {
	openssl s_client -starttls smtp -connect "$LAB_FIXTURE_ADDR:25" -servername "$1" \
		-verify_hostname "$1" -CAfile "$LAB_CA_CERT" </dev/null 2>&1 | grep -m1 '^Verification'
}
start_fixture starttls --tls-cert "$LAB_STS_EXPIRED_CERT" --tls-key "$LAB_STS_EXPIRED_KEY"
v=$(fixture_verify mx.sts-expired.insecure.example) || true
grep -q 'certificate has expired' <<<"$v" && pass "sts fixture with the expired cert" ||
	fail "sts fixture with the expired cert" "'$v'"
stop_fixture
start_fixture starttls --tls-cert "$LAB_MX_CERT" --tls-key "$LAB_MX_KEY"
v=$(fixture_verify mx.sts-expired.insecure.example) || true
[ "$v" = "Verification: OK" ] && pass "sts fixture with the Postfix cert (control)" ||
	fail "sts fixture with the Postfix cert (control)" "'$v'"
stop_fixture

# https_get ADDR HOST PATH [CURL ARGS...] -> "CODE TYPE OCTETS" of GET
# https://HOST/PATH at ADDR (verified against the lab CA); head and body
# in $E2E_TMP/h.head, h.body; curl's exit status
https_get() {
	local addr=$1 host=$2 path=$3
	shift 3
	rm -f "$E2E_TMP/h.head" "$E2E_TMP/h.body"
	curl -sS --max-time 10 --cacert "$LAB_CA_CERT" --resolve "$host:443:$addr" \
		-D "$E2E_TMP/h.head" -o "$E2E_TMP/h.body" -w '%{http_code} %{content_type} %{size_download}' \
		"$@" "https://$host$path" 2>"$E2E_TMP/h.err"
}
# expect_get NAME WANT ADDR HOST [PATH [CURL ARGS]]: https_get prints WANT
# (a regex over "CODE TYPE OCTETS", or "curl N" for curl's exit status N)
expect_get() {
	local name=$1 want=$2 addr=$3 host=$4 path=${5:-/.well-known/mta-sts.txt} got rc=0
	shift 4; [ $# -eq 0 ] || shift
	got=$(https_get "$addr" "$host" "$path" "$@") || rc=$?
	[ "$rc" -eq 0 ] || got="curl $rc"
	if grep -Eqx -- "$want" <<<"$got"; then
		pass "$name ($got)"
	else
		fail "$name" "got '$got', want '$want': $(head -c 200 "$E2E_TMP/h.err" 2>/dev/null)"
	fi
}
# body_has NAME FIXED-LINE...: the last body has each line exactly
body_has() {
	local name=$1 l why=""
	shift
	for l in "$@"; do grep -qxF -- "$l" "$E2E_TMP/h.body" || why="$why no '$l';"; done
	[ -z "$why" ] && pass "$name" || fail "$name" "$why body: $(head -c 200 "$E2E_TMP/h.body" | tr '\n' '|')"
}

# nginx: every policy host of lab_sts
for d in "$LAB_STS_POLICY_DIR"/*/; do
	h=$(basename "$d")
	if [ "$h" = mta-sts.sts-wrongname.insecure.example ]; then
		expect_get "nginx $h: wrong name, verification fails" 'curl 60' "$LAB_NGINX_ADDR" "$h"
		expect_get "nginx $h: served anyway (-k)" '200 text/plain [0-9]+' "$LAB_NGINX_ADDR" "$h" "" -k
	elif [ -f "$d/mta-sts.txt" ]; then
		expect_get "nginx $h" "200 text/plain $(wc -c <"$d/mta-sts.txt")" "$LAB_NGINX_ADDR" "$h"
		cmp -s "$E2E_TMP/h.body" "$d/mta-sts.txt" && pass "nginx $h: the policy file" ||
			fail "nginx $h: the policy file" "body differs from $d/mta-sts.txt"
	else
		expect_get "nginx $h: no policy file" '404 .*' "$LAB_NGINX_ADDR" "$h"
	fi
done
expect_get "nginx sts-enforce" '200 text/plain [0-9]+' "$LAB_NGINX_ADDR" mta-sts.sts-enforce.insecure.example
body_has "nginx sts-enforce policy" "version: STSv1" "mode: enforce" \
	"mx: mx.sts-enforce.insecure.example" "max_age: 86400"
expect_get "nginx sts-mismatch" '200 text/plain [0-9]+' "$LAB_NGINX_ADDR" mta-sts.sts-mismatch.insecure.example
body_has "nginx sts-mismatch policy" "mode: enforce" "mx: mx.not-the-mx.insecure.example"
expect_get "nginx sts-testing" '200 text/plain [0-9]+' "$LAB_NGINX_ADDR" mta-sts.sts-testing.insecure.example
body_has "nginx sts-testing policy" "mode: testing" "mx: mx.sts-testing.insecure.example"
expect_get "nginx sts-none" '200 text/plain [0-9]+' "$LAB_NGINX_ADDR" mta-sts.sts-none.insecure.example
body_has "nginx sts-none policy" "mode: none"
expect_get "nginx sts-wild" '200 text/plain [0-9]+' "$LAB_NGINX_ADDR" mta-sts.sts-wild.insecure.example
body_has "nginx sts-wild policy" "mode: enforce" "mx: *.sts-wild.insecure.example"
expect_get "nginx sts-dane" '200 text/plain [0-9]+' "$LAB_NGINX_ADDR" mta-sts.sts-dane.example
body_has "nginx sts-dane policy" "mode: enforce" "mx: mx.not-the-mx.example"
openssl s_client -connect "$LAB_NGINX_ADDR:443" -servername mta-sts.sts-wrongname.insecure.example \
	</dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null | grep -qF "CN = $LAB_STS_OTHER_NAME" &&
	pass "nginx sts-wrongname presents $LAB_STS_OTHER_NAME" ||
	fail "nginx sts-wrongname presents $LAB_STS_OTHER_NAME" "another subject"
expect_get "nginx: other path 404" '404 .*' "$LAB_NGINX_ADDR" mta-sts.sts-enforce.insecure.example /index.html
expect_get "nginx: unknown host" 'curl 60' "$LAB_NGINX_ADDR" mta-sts.unknown.insecure.example
# a test rewrites a policy: the next request sees it
h=mta-sts.sts-enforce.insecure.example
f=$LAB_STS_POLICY_DIR/$h/mta-sts.txt
cp "$f" "$E2E_TMP/policy.orig"
printf 'version: STSv1\nmode: testing\nmx: rewritten.example\nmax_age: 60\n' > "$f.tmp"
mv "$f.tmp" "$f"
expect_get "nginx rewritten policy" "200 text/plain $(wc -c <"$f")" "$LAB_NGINX_ADDR" "$h"
body_has "nginx rewritten policy body" "mx: rewritten.example"
mv "$E2E_TMP/policy.orig" "$f"
expect_get "nginx policy restored" "200 text/plain $(wc -c <"$f")" "$LAB_NGINX_ADDR" "$h"
# the access log: one line per request, with the host name (4 above:
# the loop, the policy check, rewritten, restored)
c=$(grep -c " host=$h sni=$h .*\"GET /.well-known/mta-sts.txt HTTP/1.1\" 200 " "$LAB_NGINX_ACCESS_LOG") || true
[ "$c" -eq 4 ] && pass "nginx access log counts the fetches of $h (4)" ||
	fail "nginx access log counts the fetches of $h" "$c lines, want 4"

# httpsd.py: each mode (tests/fixtures/httpsd.py --list-modes)
H=$LAB_HTTPSD_ADDR
hh() { echo "mta-sts.sts-$1.insecure.example"; }
expect_get "httpsd ok" '200 text/plain [0-9]+' "$H" "$(hh hok)"
body_has "httpsd ok policy" "version: STSv1" "mode: enforce" "mx: mx.sts-hok.insecure.example" "max_age: 86400"
for m in 301 302; do
	expect_get "httpsd redirect$m" "$m text/plain [0-9]+" "$H" "$(hh h$m)"
	grep -qix "location: https://$(hh h$m)/redirect-target/mta-sts.txt"$'\r' "$E2E_TMP/h.head" &&
		pass "httpsd redirect$m Location" || fail "httpsd redirect$m Location" "$(grep -i location "$E2E_TMP/h.head")"
done
expect_get "httpsd redirect target" '200 text/plain [0-9]+' "$H" "$(hh h301)" /redirect-target/mta-sts.txt
body_has "httpsd redirect target policy" "mode: enforce" "mx: mx.sts-h301.insecure.example"
expect_get "httpsd notfound" '404 text/plain [0-9]+' "$H" "$(hh h404)"
expect_get "httpsd big" '200 text/plain 65537' "$H" "$(hh hbig)"
body_has "httpsd big: a policy first" "version: STSv1" "mode: enforce"
expect_get "httpsd wrongtype" '200 text/html [0-9]+' "$H" "$(hh htype)"
body_has "httpsd wrongtype: a policy" "version: STSv1" "mode: enforce"
expect_get "httpsd chunked" '200 text/plain [0-9]+' "$H" "$(hh hchunked)"
body_has "httpsd chunked: the policy" "version: STSv1" "mode: enforce" \
	"mx: mx.sts-hchunked.insecure.example" "max_age: 86400"
grep -qix 'transfer-encoding: chunked'$'\r' "$E2E_TMP/h.head" && ! grep -qi '^content-length' "$E2E_TMP/h.head" &&
	pass "httpsd chunked: Transfer-Encoding chunked, no Content-Length" ||
	fail "httpsd chunked: Transfer-Encoding chunked, no Content-Length" "$(tr '\r\n' '  ' <"$E2E_TMP/h.head")"
https_get "$H" "$(hh hchunked)" /.well-known/mta-sts.txt --raw >/dev/null || true
# chunk-size lines: hex size, maybe an extension; every size odd
sizes=$("$PYTHON" - "$E2E_TMP/h.body" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
out = []
while d:
    line, _, d = d.partition(b"\r\n")
    size = int(line.split(b";")[0], 16)
    out.append("%d%s" % (size, ";" if b";" in line else ""))
    if size == 0:
        break
    d = d[size + 2:]
print(" ".join(out))
PY
) || true
odd=$(tr ' ' '\n' <<<"$sizes" | tr -d ';' | awk '$1 > 0 && $1 % 2 == 0' | wc -l) || true
[[ "$sizes" == *";"* ]] && [ "$odd" -eq 0 ] && [[ "$sizes" == *" 0" ]] &&
	pass "httpsd chunked: odd sizes, extensions ($sizes)" ||
	fail "httpsd chunked: odd sizes, extensions" "chunks '$sizes'"
expect_get "httpsd crlf" '200 text/plain [0-9]+' "$H" "$(hh hcrlf)"
crlf=$(grep -c $'\r$' "$E2E_TMP/h.body") || true
lf=$(grep -vc $'\r$' "$E2E_TMP/h.body") || true
grep -q '^mode:  *enforce' "$E2E_TMP/h.body" && grep -q '^mx:  *mx.sts-hcrlf.insecure.example' "$E2E_TMP/h.body" &&
	grep -q '^x-lab-unknown: ' "$E2E_TMP/h.body" && [ "$crlf" -ge 2 ] && [ "$lf" -ge 2 ] &&
	pass "httpsd crlf: $crlf CRLF and $lf LF lines, spaces after colons, unknown keys" ||
	fail "httpsd crlf" "$crlf CRLF, $lf LF: $(od -c "$E2E_TMP/h.body" | head -3 | tr '\n' ' ')"
expect_get "httpsd othername: verification fails" 'curl 60' "$H" "$(hh hother)"
expect_get "httpsd othername: served anyway (-k)" '200 text/plain [0-9]+' "$H" "$(hh hother)" "" -k
openssl s_client -connect "$H:443" -servername "$(hh hother)" </dev/null 2>/dev/null |
	openssl x509 -noout -subject 2>/dev/null | grep -qF "CN = $LAB_STS_OTHER_NAME" &&
	pass "httpsd othername presents $LAB_STS_OTHER_NAME" ||
	fail "httpsd othername presents $LAB_STS_OTHER_NAME" "another subject"
s0=$EPOCHREALTIME
got=$(https_get "$H" "$(hh hslow)" /.well-known/mta-sts.txt --max-time 1.7) && rc=0 || rc=$?
el=$(awk -v a="$s0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}')
n=$(wc -c <"$E2E_TMP/h.body" 2>/dev/null || echo 0)
[ "$rc" = 28 ] && grep -q '^HTTP/1.1 200' "$E2E_TMP/h.head" && [ "$n" -ge 1 ] && [ "$n" -le 2 ] &&
	pass "httpsd slowloris: headers, $n octets in ${el} s, then curl's timeout" ||
	fail "httpsd slowloris" "curl $rc, $n octets in $el s"
# the map file: a test changes the mode of a host
H1=$(hh hostile)
expect_get "httpsd map: sts-hostile default ok" '200 text/plain [0-9]+' "$H" "$H1"
cp "$LAB_HTTPSD_MODES" "$E2E_TMP/modes.orig"
sed "s/^$H1=.*/$H1=notfound/" "$E2E_TMP/modes.orig" > "$LAB_HTTPSD_MODES.tmp"
mv "$LAB_HTTPSD_MODES.tmp" "$LAB_HTTPSD_MODES"
expect_get "httpsd map: sts-hostile rewritten to notfound" '404 text/plain [0-9]+' "$H" "$H1"
mv "$E2E_TMP/modes.orig" "$LAB_HTTPSD_MODES"
expect_get "httpsd map: sts-hostile restored" '200 text/plain [0-9]+' "$H" "$H1"
c=$(grep -c "request GET /.well-known/mta-sts.txt HTTP/1.1 host=$H1 sni=$H1 " "$LAB_HTTPSD_LOG") || true
[ "$c" -eq 3 ] && pass "httpsd log: one request line per fetch ($c)" ||
	fail "httpsd log: one request line per fetch" "$c for $H1, want 3"
"$PYTHON" "$E2E_FIXTURES/httpsd.py" --help 2>&1 | grep -q 'scripted hostile HTTPS server' &&
	pass "httpsd --help" || fail "httpsd --help" "no description"
m=$("$PYTHON" "$E2E_FIXTURES/httpsd.py" --list-modes | awk '{print $1}' | tr '\n' ' ') || true
[ "$m" = "ok redirect301 redirect302 notfound big wrongtype chunked slowloris crlf othername " ] &&
	pass "httpsd --list-modes" || fail "httpsd --list-modes" "'$m'"

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
