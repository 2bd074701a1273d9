#!/bin/bash
# MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) end to end: the lab's nginx
# serves the policy hosts of the sts-* domains (tests/lab/lab.sh,
# lab_sts), tests/fixtures/httpsd.py the hostile ones, Postfix is the MX;
# tests/fixtures/tlsrptd.py stands in for tlsrpt-collectd.
. tests/e2e/lib.sh

T=sts
RES=(--resolver "$LAB_RESOLVER" --ca-file "$LAB_CA_CERT")
tmp=$E2E_TMP
cache=$tmp/cache
I=insecure.example

# run NAME WANT DOMAIN [ARGS]: one delivery of a fresh message to
# rcpt@DOMAIN with the test cache; its Message-ID in $id, output in
# $tmp/out and $tmp/err, the exit status checked.
run() {
	local name=$1 want=$2 dom=$3 rc=0
	shift 3
	id=$(new_id sts)
	make_message "$id" "rcpt@$dom" >"$tmp/msg"
	timeout 120 "$MXCLIENT" "${RES[@]}" --sts-cache "$cache" "$@" \
	    -f a@example.org "rcpt@$dom" <"$tmp/msg" >"$tmp/out" 2>"$tmp/err" || rc=$?
	expect_eq "$T: $name: exit $want" "$want" "$rc" "$tmp"
}

# nginx_gets DOMAIN: policy requests nginx answered for mta-sts.DOMAIN
nginx_gets() {
	grep -c "host=mta-sts.$1 sni=mta-sts.$1 .*GET /.well-known/mta-sts.txt" \
	    "$LAB_NGINX_ACCESS_LOG" 2>/dev/null || true
}
httpsd_gets() {
	grep -c "request GET .* host=mta-sts.$1 " "$LAB_HTTPSD_LOG" 2>/dev/null || true
}

json() {
	"$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}

# got NAME REGEX [FILE=$tmp/out]: the output says so
got() {
	grep -Eq -- "$2" "${3:-$tmp/out}" && pass "$T: $1" ||
		fail "$T: $1" "$(tail -n 6 "${3:-$tmp/out}" "$tmp/err" | tr '\n' '|' | head -c 700)"
}
arrived() { wait_for_mail "$id" 10 >/dev/null && pass "$T: $1: delivered" || fail "$T: $1: delivered" "no mail"; }
not_arrived() { assert_no_mail "$id" 1 && pass "$T: $1: nothing delivered" || fail "$T: $1: nothing delivered" "mail arrived"; }

# --- enforce: fetched once, cached, verified -----------------------------
D=sts-enforce.$I
n0=$(nginx_gets "$D")
run "Y16 Y17 Y18 Y19 enforce policy, MX listed, certificate valid" 0 "$D" --json
arrived "Y19 enforce"
expect_eq "$T: Y18 enforce: verified by MTA-STS" "verified (MTA-STS)" \
    "$(json "$tmp/out" 'd["security"]' 2>&1)"
expect_eq "$T: Y17 the policy was fetched once, with SNI" 1 $(($(nginx_gets "$D") - n0))
[ -f "$cache/$D" ] && pass "$T: Y20 Y9 the cache file is named by the domain" ||
	fail "$T: Y20 Y9 the cache file is named by the domain" "$(ls "$cache" 2>&1)"
grep -q '^mode: enforce' "$cache/$D" && grep -q '^id lab1$' "$cache/$D" &&
	pass "$T: Y20 Y8 the cache holds the id and the verbatim policy" ||
	fail "$T: Y20 Y8 the cache holds the id and the verbatim policy" "$(head -c 300 "$cache/$D")"
run "Y20 a second delivery uses the cached policy" 0 "$D"
expect_eq "$T: Y17 Y20 same id, unexpired: no second fetch" 1 $(($(nginx_gets "$D") - n0))
got "Y20 the cached policy is named" "cached policy, mode enforce|verified by the MTA-STS policy"

# the TXT id differs from the cached one: fetched again
sed -i 's/^id lab1$/id lab0/' "$cache/$D"
run "Y17 a new id in the TXT record means a fetch" 0 "$D"
expect_eq "$T: Y17 the changed id was fetched" 2 $(($(nginx_gets "$D") - n0))
grep -q '^id lab1$' "$cache/$D" && pass "$T: Y20 the refetched policy replaced the cache entry" ||
	fail "$T: Y20 the refetched policy replaced the cache entry" "$(head -c 200 "$cache/$D")"

# a fetch that fails leaves the unexpired cached policy in force
pol=$LAB_STS_POLICY_DIR/mta-sts.$D/mta-sts.txt
mv "$pol" "$pol.away"
sed -i 's/^id lab1$/id lab0/' "$cache/$D"
run "Y20 a failed fetch keeps the cached policy" 0 "$D" --json
expect_eq "$T: Y20 after a failed fetch: still verified by MTA-STS" "verified (MTA-STS)" \
    "$(json "$tmp/out" 'd["security"]' 2>&1)"
mv "$pol.away" "$pol"
# a corrupt cache entry is ignored (warned about) and replaced
printf 'mxclient-sts-cache 1\ngarbage\n' >"$cache/$D"
run "Y8 Y20 a corrupt cache file is not trusted" 0 "$D"
got "Y20 the corrupt file is warned about" "ignoring the damaged MTA-STS cache entry" "$tmp/err"
grep -q '^id lab1$' "$cache/$D" && pass "$T: Y20 the corrupt entry was replaced" ||
	fail "$T: Y20 the corrupt entry was replaced" "$(head -c 200 "$cache/$D")"

# a failed TXT lookup (SERVFAIL) leaves the cached policy in force: the
# policy names the MX (delivered, verified), then another one (refused)
cache_entry() { # DOMAIN POLICY-TEXT [AGE]: an unexpired entry, fetched AGE s (60) ago
	local now=$(($(date +%s) - ${3:-60}))
	printf 'mxclient-sts-cache 1\nfetched %d\nexpires %d\nfailed 0\nused %d\nid lab1\ntext %d\n%s\nend\n' \
	    "$now" $((now + 604800)) "$now" "${#2}" "$2" >"$cache/$1"
}
cache_entry sts-txtfail.example $'version: STSv1\nmode: enforce\nmx: mx.sts-txtfail.example\nmax_age: 604800\n'
run "Y16 Y20 TXT SERVFAIL with a cached policy: it applies" 0 sts-txtfail.example --json
expect_eq "$T: Y20 TXT SERVFAIL: verified by the cached policy" "verified (MTA-STS)" \
    "$(json "$tmp/out" 'd["security"]' 2>&1)"
cache_entry sts-txtfail.example $'version: STSv1\nmode: enforce\nmx: mx.elsewhere.example\nmax_age: 604800\n'
run "Y16 Y20 TXT SERVFAIL, the cached policy excludes the MX" 75 sts-txtfail.example
not_arrived "Y20 TXT SERVFAIL, excluded"

# "MX changed but the id did not": a cached enforce policy (same id as the
# TXT record) that names no MX host is refetched once when older than a
# day, and the fresh one decides; a younger one is believed
stale=$'version: STSv1\nmode: enforce\nmx: mx.old-host.example\nmax_age: 604800\n'
cache_entry "$D" "$stale" 172800
n0=$(nginx_gets "$D")
run "Y19 a two-day-old policy that names no MX host is refetched" 0 "$D" --json
expect_eq "$T: Y19 the stale policy was fetched again once" 1 $(($(nginx_gets "$D") - n0))
expect_eq "$T: Y19 after the refetch: verified by the fresh policy" "verified (MTA-STS)" \
    "$(json "$tmp/out" 'd["security"]' 2>&1)"
cache_entry "$D" "$stale" 3600
n0=$(nginx_gets "$D")
run "Y19 an hour-old policy that names no MX host is believed" 75 "$D"
expect_eq "$T: Y19 no refetch within a day" 0 $(($(nginx_gets "$D") - n0))
rm -f "$cache/$D"

# --- enforce refusals: never 5xx, never a send ---------------------------
run "Y19 Y7 enforce, no MX host matches the policy" 75 "sts-mismatch.$I"
not_arrived "Y19 mismatch"
got "Y19 mismatch: the host is skipped, said in words" "not an MX host of the MTA-STS policy" "$tmp/err"
run "Y19 Y18 enforce, certificate not valid for the MX name" 75 "sts-badcert.$I" --json
not_arrived "Y18 badcert"
expect_eq "$T: Y18 Y21 badcert: result type" certificate-host-mismatch \
    "$(json "$tmp/out" 'd["tlsrpt_result_type"]' 2>&1)"
run "Y7 enforce with *.domain: two labels below do not match, one does" 0 "sts-wild.$I" -v
arrived "Y7 wildcard"
got "Y7 a.b.sts-wild is skipped" "a.b.sts-wild.$I is not an MX host"
start_fixture starttls --tls-cert "$LAB_STS_EXPIRED_CERT" --tls-key "$LAB_STS_EXPIRED_KEY" \
    --hostname "mx.sts-expired.$I"
run "Y18 enforce, expired MX certificate" 75 "sts-expired.$I" --json
expect_eq "$T: Y18 Y21 expired: result type" certificate-expired \
    "$(json "$tmp/out" 'd["tlsrpt_result_type"]' 2>&1)"
settle
grep -q 'C: MAIL' "$FIXTURE_TRANSCRIPT" && fail "$T: Y18 expired: no MAIL sent" "$(grep 'C:' "$FIXTURE_TRANSCRIPT" | tr '\n' '|')" ||
	pass "$T: Y18 expired: no MAIL sent"
stop_fixture
start_fixture plain --hostname "mx.sts-nostarttls.$I"
run "Y19 enforce, no STARTTLS offered" 75 "sts-nostarttls.$I"
settle
grep -q 'C: MAIL' "$FIXTURE_TRANSCRIPT" && fail "$T: Y19 nostarttls: nothing in clear" "$(grep 'C:' "$FIXTURE_TRANSCRIPT" | tr '\n' '|')" ||
	pass "$T: Y19 nostarttls: nothing in clear"
stop_fixture

# --- testing, none, no policy: delivered, not verified ----------------
run "Y19 testing: a bad certificate is reported, the mail goes" 0 "sts-testing.$I" --json
arrived "Y19 testing"
expect_eq "$T: Y19 testing: not verified" "encrypted (server not authenticated)" \
    "$(json "$tmp/out" 'd["security"]' 2>&1)"
run "Y19 mode none: opportunistic" 0 "sts-none.$I" --json
expect_eq "$T: Y19 none: not verified" "encrypted (server not authenticated)" \
    "$(json "$tmp/out" 'd["security"]' 2>&1)"
n0=$(nginx_gets "sts-nopolicy.$I")
run "Y11 a 404 policy: no policy, opportunistic" 0 "sts-nopolicy.$I"
run "Y17 a failed fetch is not retried within 5 minutes" 0 "sts-nopolicy.$I"
expect_eq "$T: Y17 one fetch for two deliveries after a 404" 1 $(($(nginx_gets "sts-nopolicy.$I") - n0))
run "Y17 Y18 policy host with a certificate for another name" 0 "sts-wrongname.$I" --json
expect_eq "$T: Y18 wrongname: fetch refused, not verified" "encrypted (server not authenticated)" \
    "$(json "$tmp/out" 'd["security"]' 2>&1)"

# --- DANE first ---------------------------------------------------------
run "Y19 DANE wins over a policy that names another MX" 0 sts-dane.example --json
arrived "Y19 DANE over MTA-STS"
expect_eq "$T: Y19 sts-dane: authenticated by DANE" "verified (DANE)" \
    "$(json "$tmp/out" 'd["security"]' 2>&1)"
run "Y19 a failed TLSA lookup is not rescued by MTA-STS" 75 sts-tlsafail.example
not_arrived "Y19 tlsafail"

# --- hostile policy hosts (httpsd.py) ------------------------------------
for m in h301 h302; do
	run "Y11 a redirect ($m) is not followed" 0 "sts-$m.$I" --json
	grep -q "request GET /redirect-target" "$LAB_HTTPSD_LOG" && fail "$T: Y11 $m: the target was never asked" "$(grep "request GET /redirect-target" "$LAB_HTTPSD_LOG" | head -2)" ||
		pass "$T: Y11 $m: the target was never asked"
	expect_eq "$T: Y11 $m: no policy, not verified" "encrypted (server not authenticated)" \
	    "$(json "$tmp/out" 'd["security"]' 2>&1)"
done
run "Y15 a policy body over 64 KiB is refused" 0 "sts-hbig.$I" -v
got "Y15 hbig: the size is named" "larger than"
run "Y13 a policy that is not text/plain is refused" 0 "sts-htype.$I" -v
got "Y13 htype: the type is named" "text/plain"
run "Y18 a policy host with another name's certificate is refused" 0 "sts-hother.$I" -v
start=$(date +%s%N)
run "Y17 a trickling policy host is cut off by --sts-timeout" 0 "sts-hslow.$I" --sts-timeout 2 -v
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 8000 ] && pass "$T: Y17 hslow: the fetch ended with its timeout ($ms ms)" ||
	fail "$T: Y17 hslow: the fetch ended with its timeout" "$ms ms"
for m in hok hchunked hcrlf; do
	run "Y14 Y3 a valid policy ($m) is taken" 0 "sts-$m.$I" --json
	expect_eq "$T: Y14 Y3 $m: verified by MTA-STS" "verified (MTA-STS)" \
	    "$(json "$tmp/out" 'd["security"]' 2>&1)"
done

# --- --probe, --require-auth, --sts-refresh ------------------------------
probe() {
	local name=$1 want=$2 rc=0
	shift 2
	timeout 120 "$MXCLIENT" "${RES[@]}" --sts-cache "${PCACHE:-$cache}" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	expect_eq "$T: $name: exit $want" "$want" "$rc" "$tmp"
}
probe "Y19 --probe of an enforce domain" 0 --probe "sts-enforce.$I"
got "Y19 --probe names each host's policy and the level it reached" \
    "probe: mx.sts-enforce.$I \[127.0.0.10\]: .*MTA-STS enforce: verified \(MTA-STS\)"
probe "Y19 --probe of a testing domain" 75 --probe "sts-testing.$I"
probe "--probe of a DANE domain" 0 --probe secure.example
got "--probe of a DANE domain: verified by TLSA" "probe: mx.secure.example .*: verified \(DANE\) by TLSA 3 1 1"
n=$(maildir_count)
probe "Y19 --probe of a domain with mode none" 75 --probe "sts-none.$I"
expect_eq "$T: --probe sends no mail" "$n" "$(maildir_count)"
run "Y19 --require-auth and only opportunistic TLS" 75 "sts-none.$I" --require-auth
not_arrived "--require-auth none"
run "Y19 --require-auth and an enforce policy" 0 "sts-enforce.$I" --require-auth
run "Y19 --require-auth and DANE" 0 secure.example --require-auth
n0=$(nginx_gets "$D")
probe "Y20 --sts-refresh fetches now" 0 --sts-refresh "$D"
expect_eq "$T: Y20 --sts-refresh: one fetch" 1 $(($(nginx_gets "$D") - n0))
probe "Y20 --sts-refresh of a domain without MTA-STS" 0 --sts-refresh secure.example
probe "--sts-cache that is a file is a configuration error" 78 --sts-cache /etc/passwd --probe "$D"

# Y20: the cache survives SIGKILL at any point: a refresh (fetch, then the
# parent writes) killed after 0-99 ms, 25 times; after each, the entry is
# absent or whole (a delivery reads it without a warning), and a later
# write leaves no temporary file behind
kc=$tmp/killcache
torn=0 kills=0
for i in $(seq 25); do
	"$MXCLIENT" "${RES[@]}" --sts-cache "$kc" --sts-refresh "$D" </dev/null >/dev/null 2>&1 &
	kpid=$!
	sleep "0.0$((RANDOM % 100))"
	kill -KILL "$kpid" 2>/dev/null && kills=$((kills + 1))
	wait "$kpid" 2>/dev/null
	if [ -e "$kc/$D" ]; then
		"$MXCLIENT" "${RES[@]}" --sts-cache "$kc" --probe "$D" </dev/null >/dev/null 2>"$tmp/kerr"
		grep -q 'damaged' "$tmp/kerr" && torn=$((torn + 1))
	fi
done
expect_eq "$T: Y20 SIGKILL during $kills of 25 refreshes: no torn cache entry" 0 "$torn"
PCACHE=$kc probe "Y20 after the kills a refresh still works" 0 --sts-refresh "$D"
expect_eq "$T: Y20 no temporary file left in the cache" "$D" "$(ls -A "$kc" | tr '\n' ' ' | sed 's/ $//')"

# --- TLS-RPT datagrams ------------------------------------------------------
sock=$tmp/tlsrpt.sock
"$PYTHON" "$E2E_FIXTURES/tlsrptd.py" --socket "$sock" --out "$tmp/rpt" \
    --ready-file "$tmp/rpt.ready" --max-seconds 60 &
E2E_FIXTURE_PIDS+=($!)
for _ in $(seq 100); do [ -s "$tmp/rpt.ready" ] && break; sleep 0.05; done
run "Y21 a failed MTA-STS delivery with --tlsrpt-socket" 75 "sts-badcert.$I" --tlsrpt-socket "$sock"
run "Y21 a verified delivery with --tlsrpt-socket" 0 "sts-enforce.$I" --tlsrpt-socket "$sock"
run "Y21 a DANE delivery with --tlsrpt-socket" 0 sts-dane.example --tlsrpt-socket "$sock"
sleep 0.3
rpt() {
	"$PYTHON" - "$tmp/rpt" "$1" <<-'EOF'
	import json, sys
	ds = [json.loads(l) for l in open(sys.argv[1])]
	d = [x for x in ds if x["d"] == sys.argv[2]][0]
	p = d["policies"][0]
	fd = p.get("failure-details", [{}])[0]
	print(d["dpv"], d["pr"].startswith("v=TLSRPTv1"), p["policy-type"],
	      p.get("policy-domain"), len(p.get("policy-string", [])) > 0,
	      p["t"], p["f"], fd.get("c"))
	EOF
}
expect_eq "$T: Y21 badcert datagram: sts policy, one failure, code 202" \
    "1 True 2 sts-badcert.$I True 1 1 202" "$(rpt "sts-badcert.$I" 2>&1)"
expect_eq "$T: Y21 enforce datagram: sts policy, success" \
    "1 True 2 sts-enforce.$I True 0 0 None" "$(rpt "sts-enforce.$I" 2>&1)"
expect_eq "$T: Y21 DANE datagram: tlsa policy of the MX host, success" \
    "1 True 1 mx.sts-dane.example True 0 0 None" "$(rpt sts-dane.example 2>&1)"
expect_eq "$T: Y21 the failure names the sending address" True \
    "$("$PYTHON" -c 'import json, sys, ipaddress
ds = [json.loads(l) for l in open(sys.argv[1])]
d = [x for x in ds if x["d"] == sys.argv[2]][0]
print(bool(ipaddress.ip_address(d["policies"][0]["failure-details"][0]["s"])))' "$tmp/rpt" "sts-badcert.$I" 2>&1)"
grep -q '^BAD' "$tmp/rpt" && fail "$T: Y21 every datagram is one JSON text" "$(grep -c BAD "$tmp/rpt") bad" ||
	pass "$T: Y21 every datagram is one JSON text"
run "Y21 a collector that is gone loses the report, not the mail" 0 "sts-enforce.$I" --tlsrpt-socket "$tmp/none.sock"
