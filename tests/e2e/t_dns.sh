#!/bin/bash
# RFC 7672 / RFC 5321 lookup rules (PROTOCOL.md D1-D7, M1-M10, T1-T7,
# B1-B3) against the lab's signed, unsigned, bogus and broken zones.
# Two levels: tests/proc/dnsdrv runs the real dns_main() over socketpairs
# and prints its decisions; mxclient runs end to end for exit codes, the
# security level reached and connections that must not be made.
. tests/e2e/lib.sh

T=dns
DNSDRV=${DNSDRV:-$PWD/tests/proc/dnsdrv}
RES=(--resolver "$LAB_RESOLVER")
tmp=$(mktemp -d)

# send NAME WANT_RC DOMAIN [ARGS]: mxclient end to end, exit code checked;
# the connect() calls of all processes are in $tmp/trace
send() {
	local name=$1 want=$2 dom=$3
	shift 3
	make_message "$(new_id dns)" "rcpt@$dom" >"$tmp/msg"
	strace -f -qq -e trace=connect -o "$tmp/trace" timeout 120 \
	    "$MXCLIENT" "${RES[@]}" "$@" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	expect_eq "$T: $name" "$want" "$?" "$tmp"
}

# out_has NAME REGEX: mxclient's stdout or stderr matches
out_has() {
	grep -Eq -- "$2" "$tmp/out" "$tmp/err" && pass "$T: $1" ||
		fail "$T: $1" "$(cat "$tmp/out" "$tmp/err" | tail -n 8 | tr '\n' '|')"
}

# no_connect NAME ADDR: no process connected to ADDR port 25
no_connect() {
	if grep -q "sin_port=htons(25), sin_addr=inet_addr(\"$2\")" "$tmp/trace"; then
		fail "$T: $1" "connected to $2:25"
	else
		pass "$T: $1"
	fi
}

# --- D: DNS and DNSSEC foundations ---
decide secure.example
has "D2 secure MX RRset is secure" '^mx ok secure=1 validating=1'
has "D2 secure A RRset with secure TLSA: DANE required" \
    '^host mx.secure.example .*policy=DANE required base=mx.secure.example .*addrsecure=1'
decide insecure.example
has "D2 insecure zone: MX insecure, not an error" '^mx ok secure=0'
has "D2 insecure address: opportunistic, no TLSA lookup (T1)" \
    '^host mx.insecure.example .*policy=opportunistic TLS .*is insecure: no TLSA lookup$'
decide nxdomain.example
has "D2 secure NXDOMAIN is a definite answer" '^mx NXDOMAIN secure=1'
decide nx.insecure.example
has "D2 insecure NXDOMAIN is a definite answer" '^mx NXDOMAIN secure=0'
decide bogus.example
has "D2 bogus zone (wrong DS): lookup error" '^mx temporary failure'
decide expired.example
has "D2 expired signatures: lookup error" '^mx temporary failure'
send "D7 M2 bogus MX RRset exits 75, no fallback to A" 75 bogus.example
no_connect "D7 bogus MX: no connection at all" 127.0.0.10

# D3: the queries ask for DNSSEC: the non-validating resolver never sets AD,
# the validating one does, so AD/DO reach it (and CD would have made it
# skip validation: bogus answers come back as SERVFAIL, not data).
decide secure.example -r "$LAB_NOVALIDATE_RESOLVER"
has "D6 resolver without validation: warning" 'log warning: DNSSEC validation may be unavailable'
has "D6 resolver without validation: never DANE required" \
    '^host mx.secure.example .*policy=opportunistic TLS'
has "D1 AD bits only from the configured resolver: none, none trusted" '^mx ok secure=0 validating=0'
decide bogus.example
has "D3 CD clear: the validator refuses bogus data" '^mx temporary failure'
send "D6 --dane-only with a non-validating resolver exits 78" 78 secure.example \
    --resolver "$LAB_NOVALIDATE_RESOLVER" --dane-only
RES=(--resolver "$LAB_NOVALIDATE_RESOLVER")
send "D6 non-validating resolver: delivered without DANE" 0 secure.example
out_has "D6 non-validating resolver: never verified" 'encrypted \(server not authenticated\)'
send "D6 -q with a non-validating resolver: delivered" 0 secure.example -q
grep -q '^mxclient: warning: DNSSEC validation may be unavailable' "$tmp/err" &&
	pass "$T: D6 -q never hides the warning (stderr)" ||
	fail "$T: D6 -q never hides the warning (stderr)" "$(head -c 300 "$tmp/err")"
RES=(--resolver 10.0.0.53 --dns-timeout 1)
send "D6 -q with a resolver off this host (unreachable): 75" 75 secure.example -q
grep -q '^mxclient: warning: resolver 10.0.0.53 is not on this host' "$tmp/err" &&
	pass "$T: D6 -q never hides the remote-resolver warning" ||
	fail "$T: D6 -q never hides the remote-resolver warning" "$(head -c 300 "$tmp/err")"
RES=(--resolver "$LAB_RESOLVER")

# D4: CNAME chains (the first link's security from a CNAME query)
decide cname-insecure.example
has "D4 T2 secure CNAME to an insecure target: TLSA at the original name" \
    '^host mx.cname-insecure.example .*policy=DANE required base=mx.cname-insecure.example .*cname=1 addrsecure=0'
decide cname-from-insecure.example
has "D4 T2 insecure first link: no TLSA, opportunistic" \
    '^host to-wrongtlsa.insecure.example .*policy=opportunistic TLS .*cname=1'
send "D4 insecure CNAME into a secure zone with a wrong TLSA still delivers" 0 cname-from-insecure.example
send "D4 secure CNAME to insecure target, wrong TLSA at the original: exits 75" 75 cname-insecure-bad.example
out_has "D4 wrong TLSA at the original name: authentication failed" 'DANE authentication failed'

# D5: a TLSA RRset larger than the EDNS buffer comes over TCP
strace -f -qq -e trace=socket -o "$tmp/socks" timeout 60 "$DNSDRV" bigtlsa.example >"$DECISIONS" 2>&1
has "D5 truncated TLSA answer fetched over TCP: all 25 records" \
    '^host mx.bigtlsa.example .*policy=DANE required .*tlsa=25'
grep -q 'SOCK_STREAM' "$tmp/socks" && pass "$T: D5 a TCP socket was used after TC" ||
	fail "$T: D5 a TCP socket was used after TC" "$(cat "$tmp/socks")"
send "D5 delivery through the big TLSA RRset" 0 bigtlsa.example
out_has "D5 big TLSA RRset: verified" ', verified by TLSA 3 1 1'

# D7: a failed address or TLSA lookup makes that host unreachable
decide bogus-host.example
has "D7 bogus host address: unreachable" '^host mx.bogus.example .*policy=unreachable'
has "D7 next MX still tried" '^host mx.secure.example .*policy=DANE required'
send "D7 bogus first MX host, good second: delivered" 0 bogus-host.example
send "D7 only MX host bogus: exits 75" 75 bogus-host-only.example
decide tlsa-bogus.example
has "D7 T3 B3 bogus TLSA in a secure zone: unreachable, never 'no TLSA'" \
    '^host mx.tlsa-bogus.example .*policy=unreachable .*TLSA lookup .* failed'
send "D7 bogus TLSA: exits 75" 75 tlsa-bogus.example
no_connect "D7 bogus TLSA: no connection to the host" 127.0.0.10
send "D7 bogus TLSA on the first MX, good second: delivered" 0 tlsa-bogus-backup.example

# --- M: MX resolution ---
printf 'nameserver %s\nsearch example\noptions edns0 trust-ad\n' "$LAB_RESOLVER" >"$tmp/resolv.conf"
if mount --bind "$tmp/resolv.conf" /etc/resolv.conf 2>/dev/null; then
	RES=()
	send "M1 no search domains: rcpt@secure is NXDOMAIN, not secure.example" 68 secure
	umount /etc/resolv.conf
	RES=(--resolver "$LAB_RESOLVER")
else
	fail "$T: M1 no search domains" "cannot bind-mount resolv.conf"
fi
send "M2 NXDOMAIN exits 68" 68 nxdomain.example
send "M10 an address-literal recipient exits 64, no lookup" 64 '[127.0.0.10]'
no_connect "M10 address literal: no connection" 127.0.0.10
decide nomx.example
has "M2 NODATA: implicit MX, the domain itself" '^host nomx.example pref=0 '
send "M2 no MX and no address exits 68" 68 noaddr.example
send "M3 null MX exits 68" 68 nullmx.example
no_connect "M3 null MX: no connection" 127.0.0.10
# M4: equal preferences in random order
orders=$(for _ in $(seq 16); do decide equal.example; grep '^host' "$DECISIONS" | head -1 | cut -d' ' -f2; done | sort -u | wc -l)
expect_eq "$T: M4 equal preferences shuffled: both orders seen in 16 runs" 2 "$orders"
decide multi.example
first=$(grep '^host' "$DECISIONS" | head -1 | cut -d' ' -f2)
expect_eq "$T: M5 the better MX without TLSA comes before the worse one with TLSA" mx1.multi.example "$first"
send "M6 insecure MX, DANE host: delivered" 0 trusted.insecure.example
out_has "M6 insecure MX with DANE is 'trusted (insecure MX)', never verified" \
    'trusted \(insecure MX\) by TLSA 3 1 1'
send "M6 T7 --dane-only with an insecure MX exits 75" 75 trusted.insecure.example --dane-only
decide mx-ipliteral-backup.example
has "M7 an MX target that is an IP address is skipped" 'log skipping MX 127.0.0.11: not a host name'
send "M7 IP-literal MX skipped, next MX used" 0 mx-ipliteral-backup.example
no_connect "M7 no connection to the IP-literal target" 127.0.0.11
send "M9 no usable MX target exits 69" 69 mx-ipliteral.example
send "M9 MX to a name that does not exist exits 68" 68 mx-nxhost.example
send "M8 MX to a name that does not exist, next MX delivers" 0 mx-nxhost-backup.example

# --- T: TLSA ---
decide cname-secure.example
has "T2 T3 secure CNAME chain: the expanded name is the base domain" \
    '^host mx.cname-secure.example .*policy=DANE required base=real.cname-secure.example'
send "T2 DANE via the expanded name: delivered" 0 cname-secure.example
decide cname-secure-orig.example
has "T3 no TLSA at the expanded name: the original name is tried" \
    '^host mx.cname-secure-orig.example .*policy=DANE required base=mx.cname-secure-orig.example'
decide tlsa-cname.example
has "T4 TLSA behind a CNAME keeps the base domain" \
    '^host mx.tlsa-cname.example .*policy=DANE required base=mx.tlsa-cname.example'
send "T4 delivered with the TLSA behind a CNAME" 0 tlsa-cname.example
decide tlsa-unusable.example
has "T5 A11 only unusable records: TLS required without authentication" \
    '^host mx.tlsa-unusable.example .*policy=TLS required, no authentication .*tlsa=7'
send "T5 only unusable records: delivered over TLS" 0 tlsa-unusable.example
out_has "T5 only unusable records: encrypted, not authenticated" 'encrypted \(server not authenticated\)'
start_fixture plain --save "$tmp/saved"
send "T6 secure TLSA, server without STARTTLS: exits 75" 75 tlsa-unusable-fixture.example
grep -q 'C: MAIL' "$FIXTURE_TRANSCRIPT" && fail "$T: T6 no MAIL FROM in clear" "$(grep '^C:' "$FIXTURE_TRANSCRIPT")" ||
	pass "$T: T6 no MAIL FROM in clear to a host with TLSA records"
stop_fixture
send "T5 A7 TLSA that does not match: exits 75" 75 wrongtlsa.example
send "T5 A10 wrong TLSA on the first MX, good second: delivered" 0 wrongtlsa-backup.example
send "T7 --dane-only to a DANE host delivers" 0 secure.example --dane-only
send "T7 --dane-only refuses an opportunistic host" 75 nomx.example --dane-only

# --- B: broken nameservers of unsigned zones ---
: >"$LAB_DNSD_LOG"
for kind in servfail refused notimp silent; do
	start=$(date +%s%N)
	send "B1 B2 $kind on TLSA queries in an unsigned zone: mail goes out" 0 "$kind.brokentlsa.example"
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$ms" -lt 20000 ] && pass "$T: B1 $kind: not held up by the broken server ($ms ms)" ||
		fail "$T: B1 $kind: not held up by the broken server" "$ms ms"
done
grep -q ' TLSA ' "$LAB_DNSD_LOG" && fail "$T: B2 no TLSA query reaches the broken server" "$(grep ' TLSA ' "$LAB_DNSD_LOG")" ||
	pass "$T: B2 no TLSA query reaches the broken server"
decide cname-to-broken.example
has "B2 T2 secure CNAME into the broken zone: TLSA at the original name" \
    '^host mx.cname-to-broken.example .*policy=DANE required base=mx.cname-to-broken.example'
send "B2 secure CNAME into the broken zone: delivered with DANE" 0 cname-to-broken.example

# --- round trips (waves) of a DANE delivery ---
decide secure.example
has "waves: MX, then A+AAAA+TLSA: 2 resolver round trips for DANE" \
    '^host mx.secure.example .*policy=DANE required .*waves=2 '
send "waves: -v prints the round trips" 0 secure.example -v
out_has "waves: -v prints the round trips" '^dns: 2 resolver round trips so far'
rm -rf "$tmp"
