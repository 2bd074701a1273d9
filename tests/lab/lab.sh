#!/bin/bash
# lab.sh - the mxclient test lab: DNSSEC-signed DNS, a validating resolver
# and a real Postfix MX, all on loopback addresses.
#
# Usage:
#   tests/lab/lab.sh start DIR    build and start the lab in DIR
#   tests/lab/lab.sh stop DIR     stop everything started in DIR, and wait
#   tests/lab/lab.sh status DIR   exit 0 if all lab daemons in DIR run
#
# It MUST run inside a private network and mount namespace, e.g.
#   tests/lab/netns.sh tests/lab/lab.sh start "$(mktemp -d)"
# (netns.sh = `unshare -n -m`, `mount --make-rprivate /`, `ip link set lo up`).
# It refuses to run unless the network namespace is private (not PID 1's,
# no interface but lo). Inside it, it adds 127.0.0.2, .3, .4, .5, .10, .11
# (/32) to lo (Postfix wants its listen address on an interface). It never
# touches the host's /etc/resolv.conf, /etc or network; all files live under
# DIR (made mode 755; it must be reachable by uid nobody, so not under /root):
#
#   DIR/lab.env          shell variables describing the lab (source it)
#   DIR/resolv.conf      "nameserver 127.0.0.1" + "options edns0 trust-ad"
#   DIR/resolv-novalidate.conf  the same for 127.0.0.4
#   DIR/tls/             ca.key, ca.crt (the lab CA), mx.key, mx.crt (signed
#                        by the CA; CN mx.secure.example), mx-chain.crt
#                        (mx.crt + ca.crt, what Postfix presents), mx.tlsa;
#                        MTA-STS: sts.key/.crt/-chain.crt (every policy
#                        host), other.key/.crt/-chain.crt (another name:
#                        mta-sts.elsewhere.example), expired.key/.crt
#                        (mx.sts-expired.insecure.example, expired), ca-db/
#   DIR/dns/             zone sources (*.zone), keys/, *.zone.signed, *.ds
#   DIR/trust-anchor.ds  DS of the lab root KSK (Unbound's trust anchor);
#   DIR/trust-anchor.dnskey  the root KSK itself
#   DIR/nsd/             nsd.conf, pid, state         log: DIR/nsd.log
#   DIR/unbound/         unbound.conf, root.ds, pid   log: DIR/unbound.log
#   DIR/unbound-novalidate/  unbound.conf, pid      log: DIR/unbound-novalidate.log
#   DIR/dnsd/            dnsd.pid              query log: DIR/dnsd.log
#   DIR/postfix/         main.cf, master.cf           log: DIR/postfix.log
#   DIR/postfix-queue/   Postfix queue_directory
#   DIR/postfix-data/    Postfix data_directory
#   DIR/mail/            Maildir (new/ cur/ tmp/) receiving all lab mail
#   DIR/nginx/           nginx.conf, nginx.pid, access.log (one line per
#                        request: host=, sni=), error.log, tmp/, and
#                        policies/mta-sts.DOMAIN/mta-sts.txt (see lab_sts)
#   DIR/httpsd/          httpsd.pid, modes (HOST=MODE, re-read per
#                        connection)              log: DIR/httpsd/httpsd.log
#
# Addresses:
#   127.0.0.1:53   Unbound, validating, trust anchor = lab root KSK
#   127.0.0.2:53   NSD, authoritative for "." and "example." (and any zone
#                  added in lab_zones below)
#   127.0.0.3:53   tests/fixtures/dnsd.py, authoritative for the unsigned
#                  brokentlsa.example. (fails TLSA queries on purpose)
#   127.0.0.4:53   Unbound, NOT validating (never sets AD)
#   127.0.0.5:53   dnsd.py again: silent.brokentlsa.example. (its own zone
#                  and address, so its timeouts spoil no other name)
#   127.0.0.10:25  Postfix (STARTTLS), final destination for every lab
#                  mail domain (LAB_MAIL_DOMAINS below)
#   127.0.0.11     free for tests/fixtures/smtpd.py (mx.slow.example)
#   127.0.0.12     nothing listens (mx1.multi.example: connection refused)
#   127.0.0.30:443 nginx (Debian's), HTTPS: the MTA-STS policy hosts
#                  mta-sts.DOMAIN of lab_sts, one server block (SNI) each
#   127.0.0.31:443 tests/fixtures/httpsd.py: the hostile policy hosts of
#                  lab_sts ("hostile" lines), one mode per host name
#
# The daemons outlive the caller: always run `stop` (e.g. from a trap).
# LAB_TIMEOUT=SECONDS at start adds a watchdog that runs `stop` by itself
# after that long. LAB_TIMING=1 prints the duration of each start step.
set -eu

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lab/ns.sh
. "$LAB_SRC/ns.sh"

# ---------------------------------------------------------------------------
# The DNS tree. One line per zone:  zone NAME TEMPLATE MODE
#   NAME      absolute zone name ("." for the root)
#   TEMPLATE  file in tests/lab/zones/ (placeholders @TLSA@ ... see subst)
#   MODE      signed    signed, DS in the parent        -> secure
#             unsigned  not signed, no DS in the parent -> insecure
#             bogus     signed, but the parent's DS is of another key -> bogus
#             expired   signed with signatures that expired a week ago (past
#                       Unbound's one-day clock skew allowance) -> bogus
# The parent (nearest enclosing zone in this list) gets the delegation
# "NAME NS ns.NAME" with glue "ns.NAME A 127.0.0.2" (plus DS by MODE)
# appended automatically; a child template must define "ns" A 127.0.0.2.
# All zones are served by the one NSD on 127.0.0.2. The root must be signed.
# A template may serve several zones if its names are relative (no $ORIGIN).
#
#   delegate NAME ADDR   an insecure delegation (NS ns.NAME, glue ADDR, no
#                        DS) to a server that is not NSD
#   badsig OWNER TYPE    after signing, corrupt the RRSIG of that RRset, so
#                        it alone is bogus in an otherwise secure zone
# ---------------------------------------------------------------------------
lab_zones() {
	zone .                  root.zone      signed
	zone example.           example.zone   signed
	zone insecure.example.  insecure.zone  unsigned
	zone bogus.example.     bogus.zone     bogus
	zone expired.example.   bogus.zone     expired
	delegate brokentlsa.example. "$DNSD_ADDR"
	badsig _25._tcp.mx.tlsa-bogus.example. TLSA
	badsig _25._tcp.mx.sts-tlsafail.example. TLSA
	badsig _mta-sts.sts-txtfail.example. TXT
}

# Domains that the Postfix MX accepts mail for (all into DIR/mail). Also the
# domains whose mail must NOT arrive, so that a wrong delivery shows up in
# the Maildir instead of as a relay refusal.
LAB_MAIL_DOMAINS="secure.example nomx.example multi.example
	equal.example mx-nxhost.example mx-nxhost-backup.example
	mx-ipliteral.example mx-ipliteral-backup.example
	bogus-host.example bogus-host-only.example bogus.example expired.example
	cname-secure.example cname-secure-orig.example cname-insecure.example
	cname-insecure-bad.example cname-from-insecure.example cname-to-broken.example
	wrongtlsa.example wrongtlsa-backup.example tlsa-bogus.example
	tlsa-bogus-backup.example tlsa-unusable.example tlsa-cname.example
	tlsa-cname-insecure.example
	dane-ta.example dane-ta-spki.example dane-ta-wild.example
	dane-ta-nexthop.example dane-ta-badname.example
	insecure.example trusted.insecure.example
	brokentlsa.example servfail.brokentlsa.example refused.brokentlsa.example
	notimp.brokentlsa.example silent.brokentlsa.example bigtlsa.example delayed.example
	ee301.example ee312.example ee300.example agility.example ta200.example
	silent-backup.example manymx.example longcname.example
	tlsa-33.example tlsa-33-bad.example tlsa-bigcert.example
	tlsa-bigcert-ok.example tlsa-full-bad.example tlsa-full-bad-ok.example
	scripted.example
	sts-enforce.insecure.example sts-mismatch.insecure.example
	sts-testing.insecure.example sts-none.insecure.example
	sts-wild.insecure.example sts-badcert.insecure.example
	sts-expired.insecure.example sts-nostarttls.insecure.example
	sts-nopolicy.insecure.example sts-wrongname.insecure.example
	sts-dane.example sts-tlsafail.example sts-txtfail.example
	sts-hostile.insecure.example sts-h301.insecure.example
	sts-h302.insecure.example sts-h404.insecure.example
	sts-hbig.insecure.example sts-htype.insecure.example
	sts-hslow.insecure.example sts-hother.insecure.example
	sts-hok.insecure.example sts-hchunked.insecure.example
	sts-hcrlf.insecure.example"
# shellcheck disable=SC2086,SC2116 # one line, single spaces
LAB_MAIL_DOMAINS=$(echo $LAB_MAIL_DOMAINS)

# ---------------------------------------------------------------------------
# MTA-STS (RFC 8461): the policy hosts mta-sts.DOMAIN. Their DNS records
# (MX, _mta-sts TXT, mta-sts A, _smtp._tls TXT) are in the zone templates;
# which MX names the Postfix certificate holds is MX_SANS_STS below.
#   sts DOMAIN MODE MX...   nginx (127.0.0.30) serves mta-sts.DOMAIN with
#                           the policy "version: STSv1", "mode: MODE", one
#                           "mx:" line per MX pattern, "max_age: 86400"
#                           (LF line ends) from the file
#                           DIR/nginx/policies/mta-sts.DOMAIN/mta-sts.txt,
#                           read for every request: a test may rewrite it
#   sts DOMAIN -            a server block without a policy file: 404
#   sts_wrongname DOMAIN MODE MX...
#                           as sts, but with the certificate of another
#                           name (other.crt: mta-sts.elsewhere.example)
#   hostile DOMAIN MODE     tests/fixtures/httpsd.py (127.0.0.31) serves
#                           mta-sts.DOMAIN in MODE (see its --list-modes);
#                           the map is DIR/httpsd/modes, re-read for every
#                           connection: a test may rewrite it
# Every policy host except sts_wrongname's and httpsd.py's othername is
# named by sts.crt (signed by the lab CA).
# ---------------------------------------------------------------------------
lab_sts() {
	sts sts-enforce.insecure.example     enforce mx.sts-enforce.insecure.example
	sts sts-mismatch.insecure.example    enforce mx.not-the-mx.insecure.example
	sts sts-testing.insecure.example     testing mx.sts-testing.insecure.example
	sts sts-none.insecure.example        none    mx.sts-none.insecure.example
	sts sts-wild.insecure.example        enforce '*.sts-wild.insecure.example'
	sts sts-badcert.insecure.example     enforce mx.sts-badcert.insecure.example
	sts sts-expired.insecure.example     enforce mx.sts-expired.insecure.example
	sts sts-nostarttls.insecure.example  enforce mx.sts-nostarttls.insecure.example
	sts sts-nopolicy.insecure.example    -
	sts_wrongname sts-wrongname.insecure.example enforce mx.sts-wrongname.insecure.example
	sts sts-dane.example                 enforce mx.not-the-mx.example
	sts sts-tlsafail.example             enforce mx.sts-tlsafail.example
	hostile sts-hostile.insecure.example  ok
	hostile sts-h301.insecure.example     redirect301
	hostile sts-h302.insecure.example     redirect302
	hostile sts-h404.insecure.example     notfound
	hostile sts-hbig.insecure.example     big
	hostile sts-htype.insecure.example    wrongtype
	hostile sts-hslow.insecure.example    slowloris
	hostile sts-hother.insecure.example   othername
	hostile sts-hok.insecure.example      ok
	hostile sts-hchunked.insecure.example chunked
	hostile sts-hcrlf.insecure.example    crlf
}

NS_ADDR=127.0.0.2
DNSD_ADDR=127.0.0.3
NOVALIDATE_ADDR=127.0.0.4
DNSD_SILENT_ADDR=127.0.0.5
RESOLVER_ADDR=127.0.0.1
MX_ADDR=127.0.0.10
MX_NAME=mx.secure.example
FIXTURE_ADDR=127.0.0.11
REFUSED_ADDR=127.0.0.12
NGINX_ADDR=127.0.0.30
HTTPSD_ADDR=127.0.0.31
MAIL_UID=65534          # nobody: owner of the delivered mail files
MAIL_GID=65534

POSTFIX_DAEMON_DIR=$(postconf -dh daemon_directory 2>/dev/null || echo /usr/lib/postfix/sbin)

die() { echo "lab.sh: error: $*" >&2; exit 1; }
say() { echo "lab: $*"; }
# LAB_TIMING=1: print how long each start-up step took
T_LAST=$EPOCHREALTIME
step() {
	[ "${LAB_TIMING:-0}" = 1 ] || return 0
	local now=$EPOCHREALTIME
	awk -v a="$T_LAST" -v b="$now" -v s="$1" 'BEGIN{printf "lab: timing %-10s %.3f s\n", s, b-a}' >&2
	T_LAST=$now
}

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

check_namespace() {
	refuse_outside_netns "$@"
	# lo must be up for 127.0.0.0/8 to work; harmless in a private netns.
	ip link set lo up 2>/dev/null || true
	# Postfix insists that inet_interfaces addresses exist on an interface
	local a
	# (nginx and httpsd.py bind theirs without: 127.0.0.0/8 is local)
	for a in $NS_ADDR $DNSD_ADDR $NOVALIDATE_ADDR $DNSD_SILENT_ADDR $MX_ADDR $FIXTURE_ADDR; do
		ip -4 addr show dev lo | grep -q "inet $a/" ||
			ip addr add "$a/32" dev lo 2>/dev/null ||
			die "cannot add $a to lo (not root? not in a private netns?)"
	done
}

check_tools() {
	local t missing=""
	for t in openssl ldns-keygen ldns-signzone ldns-key2ds nsd unbound \
		postfix postconf drill ip python3 setsid sha256sum nginx; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] || die "missing tools:$missing (apt-get install nsd unbound postfix ldnsutils openssl iproute2 nginx)"
}

# pid_alive PID
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# read_pid FILE -> first word of FILE or nothing
read_pid() { [ -s "$1" ] && awk '{print $1; exit}' "$1" 2>/dev/null || true; }

# lab_pids DIR -> pids of lab daemons belonging to DIR: an nsd/unbound/
# nginx/Postfix binary whose cwd is inside DIR or whose command line names
# DIR, and a python running dnsd.py or httpsd.py whose command line names DIR.
lab_pids() {
	local dir=$1 pid
	find /proc -mindepth 2 -maxdepth 2 \( -name exe -o -name cwd \) \
		-printf '%h\t%f\t%l\n' 2>/dev/null |
	awk -F'\t' -v dir="$dir" -v pfx="$POSTFIX_DAEMON_DIR/" -v self=$$ '
		$1 ~ /^\/proc\/[0-9]+$/ {
			pid = substr($1, 7)
			if ($2 == "exe") exe[pid] = $3; else cwd[pid] = $3
		}
		END {
			for (p in exe) {
				e = exe[p]
				if (p == self) continue
				if (e ~ /\/python[0-9.]*$/) { print "!" p; continue }
				if (e !~ /\/(nsd|unbound|nginx)$/ && index(e, pfx) != 1) continue
				c = cwd[p]
				if (c == dir || index(c, dir "/") == 1) print p
				else print "?" p
			}
		}' |
	while read -r pid; do
		case "$pid" in
		\?*)	pid=${pid#?}
			tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null |
				grep -qF -- "$dir/" && echo "$pid" ;;
		!*)	pid=${pid#?}
			tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null |
				grep -F -- "$dir/" 2>/dev/null | grep -qE '/(dnsd|httpsd)\.py' && echo "$pid" ;;
		*)	echo "$pid" ;;
		esac
	done
	return 0
}

show_logs() {
	local f
	for f in "$DIR/nsd.log" "$DIR/unbound.log" "$DIR/unbound-novalidate.log" \
		"$DIR/dnsd.log" "$DIR/postfix.log" "$DIR/nginx/error.log" \
		"$DIR/httpsd/httpsd.log" "$DIR/start.log"; do
		[ -s "$f" ] || continue
		echo "---- tail $f" >&2
		tail -n 25 "$f" >&2
	done
}

# ---------------------------------------------------------------------------
# TLS: a small lab CA, and the MX key + certificate signed by it; the TLSA
# data: 3 1 1 of the MX key (DANE-EE), 2 0 1 / 2 1 1 of the CA (DANE-TA)
# ---------------------------------------------------------------------------
# Subject alternative names of the MX certificate (DANE-TA name checks).
MX_SANS="DNS:$MX_NAME,DNS:mx.dane-ta.example,DNS:mx.dane-ta-spki.example,DNS:*.dane-ta-wild.example,DNS:dane-ta-nexthop.example,DNS:mx.ta200.example"
# ... and the MX hosts of MTA-STS domains that must pass PKIX (WebPKI name
# checks against the lab CA); the others (mx.sts-testing, mx.sts-badcert,
# mx.sts-none, mx.sts-nopolicy, mx.sts-wrongname, and the MX of every
# hostile domain but sts-hok, sts-hchunked, sts-hcrlf) are deliberately
# missing. mx.sts-expired and mx.sts-nostarttls are on 127.0.0.11: there a
# smtpd.py with this certificate is the control that passes.
MX_SANS_STS="DNS:mx.sts-enforce.insecure.example,DNS:mx.sts-mismatch.insecure.example"
MX_SANS_STS+=",DNS:a.b.sts-wild.insecure.example,DNS:mx.sts-wild.insecure.example"
MX_SANS_STS+=",DNS:mx.sts-expired.insecure.example,DNS:mx.sts-nostarttls.insecure.example"
MX_SANS_STS+=",DNS:mx.sts-dane.example,DNS:mx.sts-tlsafail.example"
MX_SANS_STS+=",DNS:mx.sts-txtfail.example"
MX_SANS_STS+=",DNS:mx.sts-hok.insecure.example,DNS:mx.sts-hchunked.insecure.example"
MX_SANS_STS+=",DNS:mx.sts-hcrlf.insecure.example"
MX_SANS="$MX_SANS,$MX_SANS_STS"

# sha256_hex < DER -> lower-case hex digest
sha256_hex() { sha256sum | awk '{print $1}'; }
sha512_hex() { sha512sum | awk '{print $1}'; }
hex() { od -An -v -tx1 | tr -d ' \n'; }

make_tls() {
	local d=$DIR/tls
	mkdir -p "$d"
	# (openssl req only: "openssl x509" takes some 40 ms to start)
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 3650 \
			-subj "/CN=mxclient lab CA" \
			-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout "$d/mx.key" -out "$d/mx.crt" -days 3650 \
			-CA "$d/ca.crt" -CAkey "$d/ca.key" -subj "/CN=$MX_NAME" \
			-addext "subjectAltName=$MX_SANS" \
			-addext "basicConstraints=critical,CA:FALSE" \
			-addext "keyUsage=critical,digitalSignature" \
			-addext "extendedKeyUsage=serverAuth"
	} >>"$DIR/start.log" 2>&1 || die "openssl failed to make the lab certificates (see $DIR/start.log)"
	chmod 600 "$d/mx.key" "$d/ca.key"
	# the MTA-STS certificates, while the digests below are computed
	make_sts_tls & local sts_tls_pid=$!
	cat "$d/mx.crt" "$d/ca.crt" > "$d/mx-chain.crt"
	openssl pkey -in "$d/mx.key" -pubout -outform DER | sha256_hex > "$d/mx.tlsa"
	read -r TLSA_HEX < "$d/mx.tlsa"
	CA201_HEX=$(sed '/^-----/d' "$d/ca.crt" | base64 -d | sha256_hex)
	CA211_HEX=$(openssl pkey -in "$d/ca.key" -pubout -outform DER | sha256_hex)
	# the other DANE-EE forms of the same key, and the CA in full (2 0 0)
	EE301_HEX=$(sed '/^-----/d' "$d/mx.crt" | base64 -d | sha256_hex)
	EE312_HEX=$(openssl pkey -in "$d/mx.key" -pubout -outform DER | sha512_hex)
	EE300_HEX=$(sed '/^-----/d' "$d/mx.crt" | base64 -d | hex)
	CA200_HEX=$(sed '/^-----/d' "$d/ca.crt" | base64 -d | hex)
	# a certificate of some 20 KB (400 names): larger than any record cap
	# a client might have (tlsa-bigcert.example)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$d/big.key" -out "$d/big.crt" -days 3650 \
		-subj "/CN=big.example" -addext "subjectAltName=$(seq -f \
		'DNS:name-%03g.a-certificate-with-many-names.example' -s , 1 400)" \
		>>"$DIR/start.log" 2>&1 || die "openssl failed to make big.crt"
	BIGCERT_HEX=$(sed '/^-----/d' "$d/big.crt" | base64 -d | hex)
	# matches no key of the lab: a TLSA record that authenticates nothing
	BADTLSA_HEX=$(printf 'mxclient lab: a key that does not exist' | sha256_hex)
	[ ${#TLSA_HEX} -eq 64 ] && [ ${#CA201_HEX} -eq 64 ] && [ ${#CA211_HEX} -eq 64 ] ||
		die "could not compute TLSA digests"
	wait "$sts_tls_pid" || die "openssl failed to make the MTA-STS certificates (see $DIR/start.log)"
}

# leaf_cert NAME CN SANS: a key (NAME.key) and a certificate (NAME.crt)
# signed by the lab CA for the server names SANS, and NAME-chain.crt (leaf
# + CA)
leaf_cert() {
	local d=$DIR/tls
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$d/$1.key" -out "$d/$1.crt" -days 3650 \
		-CA "$d/ca.crt" -CAkey "$d/ca.key" -subj "/CN=$2" \
		-addext "subjectAltName=$3" \
		-addext "basicConstraints=critical,CA:FALSE" \
		-addext "keyUsage=critical,digitalSignature" \
		-addext "extendedKeyUsage=serverAuth" >>"$DIR/start.log" 2>&1 || return 1
	chmod 600 "$d/$1.key"
	cat "$d/$1.crt" "$d/ca.crt" > "$d/$1-chain.crt"
}

# make_sts_tls: sts.crt (every policy host but the wrong-name ones),
# other.crt (mta-sts.elsewhere.example), and expired.crt for
# mx.sts-expired.insecure.example: signed by the lab CA, valid from 37 to
# 7 days ago (openssl ca: "req -x509" cannot date a certificate back)
make_sts_tls() {
	local d=$DIR/tls sans="" i pids=() p
	read_sts
	for i in "${!STS_DOMAINS[@]}"; do
		[ "${STS_KINDS[$i]}" != wrongname ] || continue
		[ "${STS_MODES[$i]}" != othername ] || continue
		sans+=${sans:+,}DNS:mta-sts.${STS_DOMAINS[$i]}
	done
	leaf_cert sts "mta-sts.${STS_DOMAINS[0]}" "$sans" & pids+=($!)
	leaf_cert other "$STS_OTHER_NAME" "DNS:$STS_OTHER_NAME" & pids+=($!)
	mkdir -p "$d/ca-db"
	: > "$d/ca-db/index.txt"
	cat > "$d/ca-db/ca.cnf" <<-EOF
	[ca]
	default_ca = lab
	[lab]
	database = $d/ca-db/index.txt
	new_certs_dir = $d/ca-db
	serial = $d/ca-db/serial
	rand_serial = yes
	certificate = $d/ca.crt
	private_key = $d/ca.key
	default_md = sha256
	policy = anything
	unique_subject = no
	copy_extensions = none
	x509_extensions = leaf
	[anything]
	commonName = supplied
	[leaf]
	subjectAltName = DNS:$STS_EXPIRED_NAME
	basicConstraints = critical,CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = serverAuth
	EOF
	{
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/expired.key" -subj "/CN=$STS_EXPIRED_NAME" |
		openssl ca -batch -notext -config "$d/ca-db/ca.cnf" -in /dev/stdin \
			-out "$d/expired.crt" \
			-startdate "$(date -u -d '-37 days' +%Y%m%d%H%M%SZ)" \
			-enddate "$(date -u -d '-7 days' +%Y%m%d%H%M%SZ)"
	} >>"$DIR/start.log" 2>&1 || return 1
	chmod 600 "$d/expired.key"
	cat "$d/expired.crt" "$d/ca.crt" > "$d/expired-chain.crt"
	for p in "${pids[@]}"; do wait "$p" || return 1; done
}

# ---------------------------------------------------------------------------
# MTA-STS tables (lab_sts) -> arrays, one entry per policy host
# ---------------------------------------------------------------------------
STS_OTHER_NAME=mta-sts.elsewhere.example     # other.crt's only name
STS_EXPIRED_NAME=mx.sts-expired.insecure.example
STS_DOMAINS=()          # DOMAIN (policy host mta-sts.DOMAIN)
STS_KINDS=()            # nginx | wrongname | nopolicy | hostile
STS_MODES=()            # policy mode (nginx), httpsd.py mode (hostile)
STS_POLICIES=()         # the policy file's text (nginx)
sts_add() {
	local kind=$1 dom=$2 mode=$3 body="" mx
	shift 3
	if [ "$mode" = - ]; then
		kind=nopolicy
	else
		body="version: STSv1"$'\n'"mode: $mode"$'\n'
		for mx in "$@"; do body+="mx: $mx"$'\n'; done
		body+="max_age: 86400"$'\n'
	fi
	STS_DOMAINS+=("$dom"); STS_KINDS+=("$kind"); STS_MODES+=("$mode")
	STS_POLICIES+=("$body")
}
sts() { sts_add nginx "$@"; }
sts_wrongname() { sts_add wrongname "$@"; }
hostile() {
	STS_DOMAINS+=("$1"); STS_KINDS+=(hostile); STS_MODES+=("$2"); STS_POLICIES+=("")
}
read_sts() {
	STS_DOMAINS=(); STS_KINDS=(); STS_MODES=(); STS_POLICIES=()
	lab_sts
}

# ---------------------------------------------------------------------------
# DNS: templates -> zone files -> keys -> signed zones, deepest zone first
# ---------------------------------------------------------------------------
ZONE_NAMES=()
ZONE_TEMPLATES=()
ZONE_MODES=()
DELEGATIONS=()          # "NAME ADDR"
BADSIGS=()              # "OWNER TYPE"
zone() {
	case "$1" in *.) ;; *) die "zone name must be absolute: $1" ;; esac
	case "$3" in signed|unsigned|bogus|expired) ;; *) die "zone $1: bad mode $3" ;; esac
	[ -f "$LAB_SRC/zones/$2" ] || die "zone $1: no template $LAB_SRC/zones/$2"
	ZONE_NAMES+=("$1"); ZONE_TEMPLATES+=("$2"); ZONE_MODES+=("$3")
}
# read_zones -> the arrays above, from lab_zones
read_zones() {
	ZONE_NAMES=(); ZONE_TEMPLATES=(); ZONE_MODES=(); DELEGATIONS=(); BADSIGS=()
	lab_zones
}
delegate() {
	case "$1" in *.) ;; *) die "delegate: name must be absolute: $1" ;; esac
	DELEGATIONS+=("$1 $2")
}
badsig() {
	case "$1" in *.) ;; *) die "badsig: owner must be absolute: $1" ;; esac
	BADSIGS+=("$1 $2")
}

# stem_of NAME -> $STEM, the file stem for a zone name: "." -> root,
# "a.example." -> a.example (a variable, not output: no subshell)
stem_of() { if [ "$1" = . ]; then STEM=root; else STEM=${1%.}; fi; }

# label count: "." -> 0, "example." -> 1
zone_depth() { if [ "$1" = . ]; then echo 0; else local s=${1//[^.]/}; echo ${#s}; fi; }

# parent_zone NAME -> nearest enclosing zone from the list (or nothing)
parent_zone() {
	local n=$1 z best="" bestd=-1 d
	for z in "${ZONE_NAMES[@]}"; do
		[ "$z" != "$n" ] || continue
		if [ "$z" = . ] || [ "${n%."$z"}" != "$n" ]; then
			if [ "$z" = . ]; then d=0; else d=${z//[^.]/}; d=${#d}; fi
			if [ "$d" -gt "$bestd" ]; then best=$z; bestd=$d; fi
		fi
	done
	echo "$best"
}

# subst < template > zone : replace @NAME@ placeholders
subst() {
	sed -e "s|@TLSA@|$TLSA_HEX|g" -e "s|@BADTLSA@|$BADTLSA_HEX|g" \
		-e "s|@TLSA31@|${TLSA_HEX:0:62}|g" \
		-e "s|@CA201@|$CA201_HEX|g" -e "s|@CA211@|$CA211_HEX|g" \
		-e "s|@EE301@|$EE301_HEX|g" -e "s|@EE312@|$EE312_HEX|g" \
		-e "s|@EE300@|$EE300_HEX|g" -e "s|@CA200@|$CA200_HEX|g" \
		-e "s|@BAD512@|${BADTLSA_HEX}${BADTLSA_HEX}|g" \
		-e "s|@BIGCERT@|$BIGCERT_HEX|g"
}

# corrupt_rrsig FILE OWNER TYPE -> change one character in the middle of
# the signature of every RRSIG covering OWNER/TYPE in the signed zone FILE
# (it stays valid base64 of the same length, but no longer verifies)
corrupt_rrsig() {
	local f=$1
	awk -v o="$2" -v t="$3" 'BEGIN { OFS = "\t" }
		tolower($1) == tolower(o) && $4 == "RRSIG" && $5 == t {
			s = $NF; i = int(length(s) / 2); c = substr(s, i, 1)
			$NF = substr(s, 1, i - 1) (c == "A" ? "B" : "A") substr(s, i + 1)
			n++
		}
		{ print }
		END { exit n == 0 }' "$f" > "$f.tmp" || die "badsig $2 $3: no such RRSIG in $f"
	mv "$f.tmp" "$f"
}

# keygen ZONE [-k] -> basename of a new ECDSAP256SHA256 key (in $DIR/dns/keys)
keygen() {
	(cd "$DIR/dns/keys" && ldns-keygen -r /dev/urandom -a ECDSAP256SHA256 "$@") 2>>"$DIR/start.log" ||
		die "ldns-keygen $* failed"
}

# make_keys -> all zone keys at once, in parallel (it runs while make_tls
# does): DIR/dns/keys/STEM.ksk, .zsk, .decoy hold the key basenames
make_keys() {
	local k=$DIR/dns/keys i z stem pids=()
	mkdir -p "$k"
	read_zones
	for i in "${!ZONE_NAMES[@]}"; do
		z=${ZONE_NAMES[$i]}; stem_of "$z"; stem=$STEM
		[ "${ZONE_MODES[$i]}" != unsigned ] || continue
		keygen -k "$z" > "$k/$stem.ksk" & pids+=($!)
		keygen "$z" > "$k/$stem.zsk" & pids+=($!)
		[ "${ZONE_MODES[$i]}" != bogus ] || { keygen -k "$z" > "$k/$stem.decoy" & pids+=($!); }
	done
	for i in "${pids[@]}"; do wait "$i" || die "ldns-keygen failed (see $DIR/start.log)"; done
}

make_dns() {
	local d=$DIR/dns i j z stem mode parent ksk zsk decoy now inc exp
	mkdir -p "$d/keys"
	read_zones
	# keys made by make_keys (or now, if it did not run)
	[ -s "$d/keys/root.ksk" ] || make_keys
	# 1. zone sources from templates
	for i in "${!ZONE_NAMES[@]}"; do
		stem_of "${ZONE_NAMES[$i]}"; stem=$STEM
		subst < "$LAB_SRC/zones/${ZONE_TEMPLATES[$i]}" > "$d/$stem.zone"
	done
	[ "${ZONE_NAMES[0]}" = . ] && [ "${ZONE_MODES[0]}" = signed ] ||
		die "the first zone in lab_zones must be the signed root"
	now=$(date +%s)
	# insecure delegations to other servers go into the parent before signing
	for j in "${DELEGATIONS[@]}"; do
		z=${j% *}
		parent=$(parent_zone "$z")
		[ -n "$parent" ] || die "delegation $z has no parent zone in lab_zones"
		stem_of "$parent"
		{
			echo "; insecure delegation to $z at ${j#* }, added by lab.sh"
			echo "$z 3600 IN NS ns.$z"
			echo "ns.$z 3600 IN A ${j#* }"
		} >> "$d/$STEM.zone"
	done
	# 2. deepest first: sign, then append delegation (+DS) to the parent
	for i in $(for j in "${!ZONE_NAMES[@]}"; do
			echo "$(zone_depth "${ZONE_NAMES[$j]}") $j"; done | sort -rn | cut -d' ' -f2); do
		z=${ZONE_NAMES[$i]}; mode=${ZONE_MODES[$i]}; stem_of "$z"; stem=$STEM
		inc=$((now - 86400)); exp=$((now + 90 * 86400))
		[ "$mode" != expired ] || { inc=$((now - 37 * 86400)); exp=$((now - 7 * 86400)); }
		if [ "$mode" = unsigned ]; then
			cp "$d/$stem.zone" "$d/$stem.zone.signed"
		else
			read -r ksk < "$d/keys/$stem.ksk"; read -r zsk < "$d/keys/$stem.zsk"
			ldns-signzone -o "$z" -i "$inc" -e "$exp" -f "$d/$stem.zone.signed" \
				"$d/$stem.zone" "$d/keys/$ksk" "$d/keys/$zsk" 2>>"$DIR/start.log" ||
				die "ldns-signzone $z failed (see $DIR/start.log)"
			ldns-key2ds -n -2 "$d/keys/$ksk.key" > "$d/$stem.ds"
			cp "$d/keys/$ksk.key" "$d/$stem.dnskey"
			if [ "$mode" = bogus ]; then
				# the parent gets the DS of a key that signs nothing
				read -r decoy < "$d/keys/$stem.decoy"
				ldns-key2ds -n -2 "$d/keys/$decoy.key" > "$d/$stem.ds"
			fi
			for j in "${BADSIGS[@]}"; do
				[ "$(parent_zone "${j% *}")" = "$z" ] || [ "${j% *}" = "$z" ] || continue
				corrupt_rrsig "$d/$stem.zone.signed" "${j% *}" "${j#* }"
			done
		fi
		parent=$(parent_zone "$z")
		if [ -z "$parent" ]; then
			[ "$z" = . ] || die "zone $z has no parent zone in lab_zones"
			continue
		fi
		stem_of "$parent"
		{
			echo "; delegation to $z (mode $mode), added by lab.sh"
			echo "$z 3600 IN NS ns.$z"
			echo "ns.$z 3600 IN A $NS_ADDR"
			[ "$mode" = unsigned ] || cat "$d/$stem.ds"
		} >> "$d/$STEM.zone"
	done
	# trust anchor: DS (and DNSKEY) of the root KSK
	cp "$d/root.ds" "$DIR/trust-anchor.ds"
	cp "$d/root.dnskey" "$DIR/trust-anchor.dnskey"
}

# ---------------------------------------------------------------------------
# NSD on 127.0.0.2:53
# ---------------------------------------------------------------------------
start_nsd() {
	local d=$DIR/nsd z stem
	mkdir -p "$d/xfr"
	{
		cat <<-EOF
		# generated by tests/lab/lab.sh
		server:
		    ip-address: $NS_ADDR
		    port: 53
		    do-ip4: yes
		    do-ip6: no
		    username: ""
		    chroot: ""
		    zonesdir: "$DIR/dns"
		    database: ""
		    zonelistfile: "$d/zone.list"
		    xfrdfile: "$d/xfrd.state"
		    xfrdir: "$d/xfr"
		    pidfile: "$d/nsd.pid"
		    logfile: "$DIR/nsd.log"
		    server-count: 1
		    reuseport: no
		    hide-version: yes
		    verbosity: 1
		remote-control:
		    control-enable: no
		EOF
		for z in "${ZONE_NAMES[@]}"; do
			stem_of "$z"; stem=$STEM
			printf 'zone:\n    name: "%s"\n    zonefile: "%s.zone.signed"\n' "$z" "$stem"
		done
	} > "$d/nsd.conf"
	nsd-checkconf "$d/nsd.conf" >>"$DIR/start.log" 2>&1 || die "bad nsd.conf (see $DIR/start.log)"
	nsd -c "$d/nsd.conf" >>"$DIR/start.log" 2>&1 || die "nsd failed to start"
}

# ---------------------------------------------------------------------------
# Unbound on 127.0.0.1:53, validating with the lab root as trust anchor, and
# a second one on 127.0.0.4:53 that does not validate (never sets AD)
# ---------------------------------------------------------------------------
# start_unbound NAME ADDR validate|novalidate   (files DIR/NAME/, DIR/NAME.log)
start_unbound() {
	local name=$1 addr=$2 d=$DIR/$1 modules anchor=""
	mkdir -p "$d"
	if [ "$3" = validate ]; then
		cp "$DIR/trust-anchor.ds" "$d/root.ds"
		modules="validator iterator"
		anchor="trust-anchor-file: \"$d/root.ds\""
	else
		modules="iterator"
	fi
	cat > "$d/unbound.conf" <<-EOF
	# generated by tests/lab/lab.sh
	server:
	    interface: $addr
	    port: 53
	    do-ip4: yes
	    do-ip6: no
	    do-udp: yes
	    do-tcp: yes
	    access-control: 127.0.0.0/8 allow
	    username: ""
	    chroot: ""
	    directory: "$d"
	    pidfile: "$d/unbound.pid"
	    logfile: "$DIR/$name.log"
	    use-syslog: no
	    log-time-ascii: yes
	    verbosity: 1
	    do-daemonize: yes
	    num-threads: 1
	    so-reuseport: no
	    outgoing-range: 64
	    num-queries-per-thread: 32
	    do-not-query-localhost: no
	    module-config: "$modules"
	    $anchor
	    val-log-level: 2
	    harden-dnssec-stripped: yes
	    # small caches and TTL caps: a lab lives for seconds
	    msg-cache-size: 1m
	    rrset-cache-size: 1m
	    key-cache-size: 1m
	    neg-cache-size: 256k
	    cache-max-ttl: 300
	    cache-max-negative-ttl: 60
	    # dnsd.py on $DNSD_SILENT_ADDR never answers TLSA queries: give up on
	    # one after about 1 s (SERVFAIL), not 10 s; that marks the server
	    # down, so forget that after 1 s (it answers all other queries)
	    infra-keep-probing: yes
	    infra-host-ttl: 1
	    infra-cache-max-rtt: 400
	stub-zone:
	    name: "."
	    stub-addr: $NS_ADDR
	remote-control:
	    control-enable: no
	EOF
	# (no unbound-checkconf: unbound itself refuses a bad file, and says why)
	unbound -c "$d/unbound.conf" >>"$DIR/start.log" 2>&1 ||
		die "unbound ($name) failed to start (see $DIR/start.log)"
}

# ---------------------------------------------------------------------------
# tests/fixtures/dnsd.py on 127.0.0.3:53: the unsigned brokentlsa.example.
# It exits on SIGTERM (lab.sh stop), when NSD (its pid file) is gone, or
# after LAB_TIMEOUT + 10 s (a day without LAB_TIMEOUT).
# ---------------------------------------------------------------------------
start_dnsd() {
	local d=$DIR/dnsd py=python3 max=86400
	[ ! -x /usr/bin/python3 ] || py=/usr/bin/python3    # not a pyenv shim: faster
	mkdir -p "$d"
	if [ "${LAB_TIMEOUT:-0}" -gt 0 ] 2>/dev/null; then max=$((LAB_TIMEOUT + 10)); fi
	setsid "$py" "$LAB_SRC/../fixtures/dnsd.py" --listen "$DNSD_ADDR" --port 53 \
		--origin brokentlsa.example. --child silent="$DNSD_SILENT_ADDR" --mx-addr "$MX_ADDR" \
		--log "$DIR/dnsd.log" --ready-file "$d/dnsd.pid" --watch-pidfile "$DIR/nsd/nsd.pid" \
		--max-seconds "$max" \
		</dev/null >>"$DIR/start.log" 2>&1 &
}

# ---------------------------------------------------------------------------
# Postfix on 127.0.0.10:25, final destination for the lab mail domains
# ---------------------------------------------------------------------------
write_postfix_config() {
	local c=$DIR/postfix q=$DIR/postfix-queue dd=$DIR/postfix-data domains pf_dirs
	mapfile -t pf_dirs < <(postconf -dh command_directory meta_directory shlib_directory)
	[ ${#pf_dirs[@]} -eq 3 ] || die "postconf -dh failed"
	domains=${LAB_MAIL_DOMAINS// /, }
	mkdir -p "$c" "$dd" "$DIR/mail/new" "$DIR/mail/cur" "$DIR/mail/tmp"
	chown -R "$MAIL_UID:$MAIL_GID" "$DIR/mail"
	chmod 700 "$DIR/mail"
	chown postfix: "$dd"; chmod 700 "$dd"
	# the queue: directories as in /etc/postfix/postfix-files
	# (one mkdir/chown/chmod per group of directories: each fork counts)
	local sub private=()
	for sub in active bounce corrupt defer deferred flush hold incoming private saved trace; do
		private+=("$q/$sub")
	done
	mkdir -p "$q/pid" "${private[@]}" "$q/maildrop" "$q/public"
	chown root: "$q" "$q/pid"; chmod 755 "$q" "$q/pid"
	chown postfix: "${private[@]}"; chmod 700 "${private[@]}"
	chown postfix:postdrop "$q/maildrop" "$q/public"
	chmod 730 "$q/maildrop"; chmod 710 "$q/public"

	cat > "$c/main.cf" <<-EOF
	# generated by tests/lab/lab.sh - private Postfix instance of the lab
	compatibility_level = 3.6
	queue_directory = $q
	data_directory = $dd
	command_directory = ${pf_dirs[0]}
	daemon_directory = $POSTFIX_DAEMON_DIR
	meta_directory = ${pf_dirs[1]}
	shlib_directory = ${pf_dirs[2]}
	mail_owner = postfix
	setgid_group = postdrop
	maillog_file = $DIR/postfix.log
	maillog_file_prefixes = $DIR
	import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME

	myhostname = $MX_NAME
	mydomain = secure.example
	myorigin = \$myhostname
	mydestination =
	# a final-destination MX: no client is trusted to relay
	mynetworks = 127.0.0.1/32
	smtpd_relay_restrictions = reject_unauth_destination
	inet_interfaces = $MX_ADDR
	inet_protocols = ipv4
	smtpd_banner = \$myhostname ESMTP lab
	smtpd_peername_lookup = no
	# messages of up to 512 MiB (SIZE 536870912): make bench sends 100 MB
	# and needs room to 256 MB; t_bounds' 1 GB message is still refused.
	# The delivery agents' own caps (per Maildir file) must not be smaller.
	message_size_limit = 536870912
	mailbox_size_limit = 536870912
	virtual_mailbox_limit = 536870912
	biff = no
	notify_classes =

	# nothing leaves: no local delivery, no outbound SMTP
	alias_maps =
	alias_database =
	local_recipient_maps =
	local_transport = error:local delivery is disabled in the lab
	default_transport = error:outbound mail is disabled in the lab
	relay_transport = error:outbound mail is disabled in the lab

	# every recipient of a lab domain goes to the Maildir $DIR/mail/
	virtual_mailbox_domains = $domains
	virtual_mailbox_base = $DIR
	virtual_mailbox_maps = static:mail/
	virtual_uid_maps = static:$MAIL_UID
	virtual_gid_maps = static:$MAIL_GID
	virtual_minimum_uid = 100

	smtpd_tls_security_level = may
	# key, leaf (signed by the lab CA), CA: the CA is a DANE-TA trust anchor
	smtpd_tls_chain_files = $DIR/tls/mx.key, $DIR/tls/mx-chain.crt
	smtpd_tls_loglevel = 1
	smtpd_tls_received_header = yes
	EOF

	# master.cf: as Debian's, minus optional services; nothing chrooted
	cat > "$c/master.cf" <<-'EOF'
	# generated by tests/lab/lab.sh; chroot column is n everywhere
	# service  type  private unpriv  chroot  wakeup  maxproc command + args
	smtp       inet  n       -       n       -       -       smtpd
	pickup     unix  n       -       n       60      1       pickup
	cleanup    unix  n       -       n       -       0       cleanup
	qmgr       unix  n       -       n       300     1       qmgr
	tlsmgr     unix  -       -       n       1000?   1       tlsmgr
	rewrite    unix  -       -       n       -       -       trivial-rewrite
	bounce     unix  -       -       n       -       0       bounce
	defer      unix  -       -       n       -       0       bounce
	trace      unix  -       -       n       -       0       bounce
	verify     unix  -       -       n       -       1       verify
	flush      unix  n       -       n       1000?   0       flush
	proxymap   unix  -       -       n       -       -       proxymap
	proxywrite unix  -       -       n       -       1       proxymap
	smtp       unix  -       -       n       -       -       smtp
	relay      unix  -       -       n       -       -       smtp
	showq      unix  n       -       n       -       -       showq
	error      unix  -       -       n       -       -       error
	retry      unix  -       -       n       -       -       error
	discard    unix  -       -       n       -       -       discard
	local      unix  -       n       n       -       -       local
	virtual    unix  -       n       n       -       -       virtual
	lmtp       unix  -       -       n       -       -       lmtp
	anvil      unix  -       -       n       -       1       anvil
	scache     unix  -       -       n       -       1       scache
	postlog    unix-dgram n  -       n       -       1       postlogd
	EOF
}

start_postfix() {
	write_postfix_config; step pf-config
	# Postfix waits ("lets it cool down") while main.cf is < 2 s old:
	# back-date the generated files so start-up does not pause.
	touch -d '-1 minute' "$DIR/postfix/main.cf" "$DIR/postfix/master.cf"
	# quick-start: skip postfix-script's slow integrity checks; the queue
	# was just built above with the right owners and modes.
	touch "$DIR/postfix-queue/quick-start"
	postfix -c "$DIR/postfix" start >>"$DIR/start.log" 2>&1 ||
		die "postfix failed to start (see $DIR/start.log, $DIR/postfix.log)"
}

# ---------------------------------------------------------------------------
# MTA-STS policy hosts: nginx on 127.0.0.30:443 (Debian's nginx, a config
# of its own: nothing of /etc/nginx is read) and httpsd.py on 127.0.0.31:443
# ---------------------------------------------------------------------------
write_nginx_config() {
	local n=$DIR/nginx t=$DIR/tls i host cert dirs=()
	read_sts
	for i in "${!STS_DOMAINS[@]}"; do
		[ "${STS_KINDS[$i]}" = hostile ] || dirs+=("$n/policies/mta-sts.${STS_DOMAINS[$i]}")
	done
	mkdir -p "$n/tmp" "${dirs[@]}"
	{
		cat <<-EOF
		# generated by tests/lab/lab.sh - private nginx of the lab
		# (workers run as root: tests write the policy files with any umask)
		user root root;
		worker_processes 1;
		pid $n/nginx.pid;
		error_log $n/error.log info;
		events {
		    worker_connections 256;
		}
		http {
		    client_body_temp_path $n/tmp/body;
		    proxy_temp_path $n/tmp/proxy;
		    fastcgi_temp_path $n/tmp/fastcgi;
		    uwsgi_temp_path $n/tmp/uwsgi;
		    scgi_temp_path $n/tmp/scgi;
		    # one line per request, written at once (no buffer)
		    log_format sts '\$msec host=\$host sni=\$ssl_server_name addr=\$remote_addr '
		                   '"\$request" \$status \$body_bytes_sent "\$sent_http_content_type"';
		    access_log $n/access.log sts;
		    server_tokens off;
		    types { }
		    default_type text/plain;
		    keepalive_timeout 5s;
		    ssl_protocols TLSv1.2 TLSv1.3;
		    # no SNI, or a name no server block has: the other certificate, 404
		    server {
		        listen $NGINX_ADDR:443 ssl default_server;
		        server_name _;
		        ssl_certificate $t/other-chain.crt;
		        ssl_certificate_key $t/other.key;
		        location / { return 404; }
		    }
		EOF
		# (printf, not a here-document: no fork per server block)
		for i in "${!STS_DOMAINS[@]}"; do
			host=mta-sts.${STS_DOMAINS[$i]} cert=sts
			case "${STS_KINDS[$i]}" in
			hostile) continue ;;
			wrongname) cert=other ;;
			esac
			[ "${STS_KINDS[$i]}" = nopolicy ] ||
				printf '%s' "${STS_POLICIES[$i]}" > "$n/policies/$host/mta-sts.txt"
			printf '%s\n' "    server {" \
				"        listen $NGINX_ADDR:443 ssl;" \
				"        server_name $host;" \
				"        ssl_certificate $t/$cert-chain.crt;" \
				"        ssl_certificate_key $t/$cert.key;" \
				"        location = /.well-known/mta-sts.txt {" \
				"            alias $n/policies/$host/mta-sts.txt;" \
				"        }" \
				"        location / { return 404; }" \
				"    }"
		done
		echo "}"
	} > "$n/nginx.conf"
}

# In the background (it takes some 0.1 s, loading a certificate per server
# block): cmd_start waits for its port. Started in DIR/nginx: its cwd (and
# the workers') marks it as the lab's (lab_pids); -e: the log before the
# config is read.
start_nginx() {
	write_nginx_config
	(cd "$DIR/nginx" && exec nginx -p "$DIR/nginx/" -c "$DIR/nginx/nginx.conf" \
		-e "$DIR/nginx/error.log") </dev/null >>"$DIR/start.log" 2>&1 &
}

# tests/fixtures/httpsd.py: the hostile policy hosts. It exits on SIGTERM
# (lab.sh stop), when NSD (its pid file) is gone, or after LAB_TIMEOUT +
# 10 s (a day without LAB_TIMEOUT).
start_httpsd() {
	local d=$DIR/httpsd py=python3 max=86400 i
	[ ! -x /usr/bin/python3 ] || py=/usr/bin/python3
	mkdir -p "$d"
	read_sts
	{
		echo "# httpsd.py modes: HOST=MODE, re-read for every connection"
		echo "# (write a new file and rename it over this one)"
		for i in "${!STS_DOMAINS[@]}"; do
			[ "${STS_KINDS[$i]}" = hostile ] || continue
			echo "mta-sts.${STS_DOMAINS[$i]}=${STS_MODES[$i]}"
		done
	} > "$d/modes"
	if [ "${LAB_TIMEOUT:-0}" -gt 0 ] 2>/dev/null; then max=$((LAB_TIMEOUT + 10)); fi
	setsid "$py" "$LAB_SRC/../fixtures/httpsd.py" --listen "$HTTPSD_ADDR" --port 443 \
		--cert "$DIR/tls/sts-chain.crt" --key "$DIR/tls/sts.key" \
		--other-cert "$DIR/tls/other-chain.crt" --other-key "$DIR/tls/other.key" \
		--map-file "$d/modes" --log "$d/httpsd.log" --ready-file "$d/httpsd.pid" \
		--watch-pidfile "$DIR/nsd/nsd.pid" --max-seconds "$max" \
		</dev/null >>"$DIR/start.log" 2>&1 &
}

# ---------------------------------------------------------------------------
# readiness
# ---------------------------------------------------------------------------

# tcp_open ADDR PORT -> 0 if something listens
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_until SECONDS WHAT CMD... -> poll CMD every 50 ms
wait_until() {
	local n=$(( $1 * 20 )) what=$2; shift 2
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || { show_logs; die "timed out waiting for $what"; }
		sleep 0.05
	done
}

dns_answer() { drill -Q @"$1" "$2" "$3" 2>/dev/null | grep -q .; }
dns_secure() { drill -D @"$RESOLVER_ADDR" "$1" "$2" 2>/dev/null | grep -q '^;; flags:.* ad[ ;]'; }
dnsd_ready() { [ -s "$DIR/dnsd/dnsd.pid" ]; }
httpsd_ready() { [ -s "$DIR/httpsd/httpsd.pid" ]; }

# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

cmd_start() {
	local t0 t1
	t0=$(date +%s.%N)
	check_tools
	if pid_alive "$(read_pid "$DIR/nsd/nsd.pid")" ||
		pid_alive "$(read_pid "$DIR/unbound/unbound.pid")" ||
		pid_alive "$(read_pid "$DIR/unbound-novalidate/unbound.pid")" ||
		pid_alive "$(read_pid "$DIR/dnsd/dnsd.pid")" ||
		pid_alive "$(read_pid "$DIR/nginx/nginx.pid")" ||
		pid_alive "$(read_pid "$DIR/httpsd/httpsd.pid")" ||
		pid_alive "$(read_pid "$DIR/postfix-queue/pid/master.pid")"; then
		say "lab in $DIR is running; stopping it first"
		cmd_stop
	fi
	mkdir -p "$DIR"
	chmod 755 "$DIR"          # Postfix daemons (uid postfix/nobody) walk it
	# the virtual delivery agent runs as $MAIL_UID and opens $DIR/mail/...
	if command -v setpriv >/dev/null 2>&1 &&
		! setpriv --reuid="$MAIL_UID" --regid="$MAIL_GID" --clear-groups test -x "$DIR"; then
		die "uid $MAIL_UID cannot reach $DIR (a parent directory is not searchable); use a DIR under /tmp"
	fi
	# a fresh state every time: nothing of a previous run in DIR survives
	rm -rf "$DIR/tls" "$DIR/dns" "$DIR/nsd" "$DIR/unbound" "$DIR/unbound-novalidate" \
		"$DIR/dnsd" "$DIR/postfix" "$DIR/postfix-queue" "$DIR/postfix-data" "$DIR/mail" \
		"$DIR/nginx" "$DIR/httpsd"
	rm -f "$DIR/start.log" "$DIR/nsd.log" "$DIR/unbound.log" "$DIR/postfix.log" \
		"$DIR/unbound-novalidate.log" "$DIR/dnsd.log" "$DIR/lab.env" "$DIR/resolv.conf" \
		"$DIR/resolv-novalidate.conf" "$DIR/trust-anchor.ds" "$DIR/trust-anchor.dnskey"
	: > "$DIR/start.log"
	local a
	for a in "$RESOLVER_ADDR 53" "$NS_ADDR 53" "$DNSD_ADDR 53" "$DNSD_SILENT_ADDR 53" \
		"$NOVALIDATE_ADDR 53" "$MX_ADDR 25" "$NGINX_ADDR 443" "$HTTPSD_ADDR 443"; do
		# shellcheck disable=SC2086 # "ADDR PORT"
		! tcp_open $a || die "${a% *} port ${a#* } is in use (another lab in this namespace?)"
	done

	step checks
	# zone keys in the background while the certificates are made
	mkdir -p "$DIR/dns/keys"
	make_keys & local keys_pid=$!
	make_tls; step tls
	wait "$keys_pid" || die "could not make the zone keys (see $DIR/start.log)"
	step keys
	make_dns; step dns
	printf 'nameserver %s\noptions edns0 trust-ad\n' "$RESOLVER_ADDR" > "$DIR/resolv.conf"
	printf 'nameserver %s\noptions edns0 trust-ad\n' "$NOVALIDATE_ADDR" > "$DIR/resolv-novalidate.conf"

	start_nsd; step nsd
	start_dnsd; step dnsd
	start_unbound unbound "$RESOLVER_ADDR" validate; step unbound
	start_unbound unbound-novalidate "$NOVALIDATE_ADDR" novalidate; step unbound-nv
	start_postfix; step postfix
	start_nginx; step nginx
	start_httpsd; step httpsd

	wait_until 10 "NSD on $NS_ADDR:53" dns_answer "$NS_ADDR" SOA .
	step nsd-ready
	wait_until 10 "Unbound on $RESOLVER_ADDR:53 (secure answer)" dns_secure MX secure.example
	step ub-ready
	wait_until 10 "Unbound on $NOVALIDATE_ADDR:53" dns_answer "$NOVALIDATE_ADDR" MX secure.example
	step ubnv-ready
	wait_until 10 "dnsd.py on $DNSD_ADDR:53" dnsd_ready
	step dnsd-ready
	wait_until 10 "Postfix on $MX_ADDR:25" tcp_open "$MX_ADDR" 25
	step pf-ready
	wait_until 10 "nginx on $NGINX_ADDR:443" tcp_open "$NGINX_ADDR" 443
	wait_until 10 "httpsd.py on $HTTPSD_ADDR:443" httpsd_ready
	step sts-ready

	read_sts
	cat > "$DIR/lab.env" <<-EOF
	# generated by tests/lab/lab.sh; source it
	LAB_DIR='$DIR'
	LAB_RESOLVER=$RESOLVER_ADDR
	LAB_NS=$NS_ADDR
	LAB_MX_ADDR=$MX_ADDR
	LAB_MX_NAME=$MX_NAME
	LAB_FIXTURE_ADDR=$FIXTURE_ADDR
	LAB_REFUSED_ADDR=$REFUSED_ADDR
	LAB_MAILDIR='$DIR/mail'
	LAB_RESOLV_CONF='$DIR/resolv.conf'
	LAB_TRUST_ANCHOR='$DIR/trust-anchor.ds'
	LAB_MX_CERT='$DIR/tls/mx.crt'
	LAB_MX_KEY='$DIR/tls/mx.key'
	LAB_MX_TLSA='3 1 1 $TLSA_HEX'
	LAB_MAIL_DOMAINS='$LAB_MAIL_DOMAINS'
	# resolver that does not validate (never AD), and a resolv.conf for it
	LAB_NOVALIDATE_RESOLVER=$NOVALIDATE_ADDR
	LAB_NOVALIDATE_RESOLV_CONF='$DIR/resolv-novalidate.conf'
	# tests/fixtures/dnsd.py: the unsigned brokentlsa.example. zone
	LAB_DNSD_ADDR=$DNSD_ADDR
	LAB_DNSD_SILENT_ADDR=$DNSD_SILENT_ADDR
	LAB_DNSD_LOG='$DIR/dnsd.log'
	LAB_BROKEN_ZONE=brokentlsa.example
	# the lab CA (DANE-TA) and the chain Postfix presents (mx.crt + ca.crt)
	LAB_CA_CERT='$DIR/tls/ca.crt'
	LAB_MX_CHAIN='$DIR/tls/mx-chain.crt'
	LAB_CA_TLSA='2 0 1 $CA201_HEX'
	LAB_CA_SPKI_TLSA='2 1 1 $CA211_HEX'
	# a TLSA record that matches no lab key
	LAB_BAD_TLSA='3 1 1 $BADTLSA_HEX'
	# MTA-STS: nginx serving the policy hosts mta-sts.DOMAIN (lab_sts);
	# the policy of DOMAIN is \$LAB_STS_POLICY_DIR/mta-sts.DOMAIN/mta-sts.txt
	LAB_NGINX_ADDR=$NGINX_ADDR
	LAB_NGINX_DIR='$DIR/nginx'
	LAB_STS_POLICY_DIR='$DIR/nginx/policies'
	LAB_NGINX_ACCESS_LOG='$DIR/nginx/access.log'
	LAB_NGINX_ERROR_LOG='$DIR/nginx/error.log'
	# tests/fixtures/httpsd.py, the hostile policy hosts: HOST=MODE map, log
	LAB_HTTPSD_ADDR=$HTTPSD_ADDR
	LAB_HTTPSD_MODES='$DIR/httpsd/modes'
	LAB_HTTPSD_LOG='$DIR/httpsd/httpsd.log'
	# certificates (lab CA: LAB_CA_CERT): every policy host; another name
	# (sts-wrongname, httpsd.py othername); mx.sts-expired.insecure.example,
	# expired 7 days ago (for smtpd.py on 127.0.0.11)
	LAB_STS_CERT='$DIR/tls/sts-chain.crt'
	LAB_STS_KEY='$DIR/tls/sts.key'
	LAB_STS_OTHER_CERT='$DIR/tls/other-chain.crt'
	LAB_STS_OTHER_KEY='$DIR/tls/other.key'
	LAB_STS_OTHER_NAME=$STS_OTHER_NAME
	LAB_STS_EXPIRED_CERT='$DIR/tls/expired-chain.crt'
	LAB_STS_EXPIRED_KEY='$DIR/tls/expired.key'
	LAB_STS_DOMAINS='${STS_DOMAINS[*]}'
	EOF

	if [ "${LAB_TIMEOUT:-0}" -gt 0 ] 2>/dev/null; then
		# watchdog in its own process group: stops the lab after LAB_TIMEOUT s
		setsid bash -c 'echo $$ > "$3/watchdog.pid"; sleep "$1" & wait; exec "$2" stop "$3"' \
			watchdog "$LAB_TIMEOUT" "$LAB_SRC/lab.sh" "$DIR" </dev/null >/dev/null 2>&1 &
	fi

	t1=$(date +%s.%N)
	say "started in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s; dir $DIR (variables: $DIR/lab.env)"
	say "  resolver  $RESOLVER_ADDR:53 unbound (trust anchor $DIR/trust-anchor.ds)  log $DIR/unbound.log"
	say "  auth DNS  $NS_ADDR:53 nsd, zones: ${ZONE_NAMES[*]}  log $DIR/nsd.log"
	say "  auth DNS  $DNSD_ADDR:53 dnsd.py, zone brokentlsa.example. (unsigned, broken TLSA)  log $DIR/dnsd.log"
	say "  resolver  $NOVALIDATE_ADDR:53 unbound, NOT validating  log $DIR/unbound-novalidate.log"
	say "  MX        $MX_ADDR:25 postfix ($MX_NAME, STARTTLS, TLSA 3 1 1 ${TLSA_HEX:0:16}...)  log $DIR/postfix.log"
	say "  MTA-STS   $NGINX_ADDR:443 nginx  policies $DIR/nginx/policies  log $DIR/nginx/access.log"
	say "  MTA-STS   $HTTPSD_ADDR:443 httpsd.py (hostile)  modes $DIR/httpsd/modes  log $DIR/httpsd/httpsd.log"
	say "  maildir   $DIR/mail  resolv.conf $DIR/resolv.conf"
}

cmd_stop() {
	local pid pids n
	# the LAB_TIMEOUT watchdog (unless it is what runs this stop)
	pid=$(read_pid "$DIR/watchdog.pid")
	if pid_alive "$pid" && [ "$(ps -o pgid= -p $$ | tr -d ' ')" != "$pid" ]; then
		kill -- "-$pid" 2>/dev/null || true
	fi
	rm -f "$DIR/watchdog.pid"
	# Postfix: master kills its process group on SIGTERM
	pid=$(read_pid "$DIR/postfix-queue/pid/master.pid")
	if pid_alive "$pid"; then
		postfix -c "$DIR/postfix" stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
	fi
	for pid in "$(read_pid "$DIR/nsd/nsd.pid")" "$(read_pid "$DIR/unbound/unbound.pid")" \
		"$(read_pid "$DIR/unbound-novalidate/unbound.pid")" "$(read_pid "$DIR/dnsd/dnsd.pid")" \
		"$(read_pid "$DIR/nginx/nginx.pid")" "$(read_pid "$DIR/httpsd/httpsd.pid")"; do
		pid_alive "$pid" && kill "$pid" 2>/dev/null || true
	done
	# wait for everything of this lab, then force
	n=100
	while pids=$(lab_pids "$DIR") && [ -n "$pids" ]; do
		n=$((n - 1))
		if [ $n -eq 0 ]; then
			echo "lab.sh: killing leftover processes:" $pids >&2
			kill -9 $pids 2>/dev/null || true
		elif [ $n -lt 0 ]; then
			[ $n -gt -40 ] || die "processes would not die: $pids"
		fi
		sleep 0.05
	done
	rm -f "$DIR/nsd/nsd.pid" "$DIR/unbound/unbound.pid" "$DIR/unbound-novalidate/unbound.pid" \
		"$DIR/dnsd/dnsd.pid" "$DIR/postfix-queue/pid/master.pid" "$DIR/nginx/nginx.pid" \
		"$DIR/httpsd/httpsd.pid"
	say "stopped ($DIR)"
}

cmd_status() {
	local ok=0
	pid_alive "$(read_pid "$DIR/nsd/nsd.pid")" || { echo "nsd: not running"; ok=1; }
	pid_alive "$(read_pid "$DIR/unbound/unbound.pid")" || { echo "unbound: not running"; ok=1; }
	pid_alive "$(read_pid "$DIR/unbound-novalidate/unbound.pid")" || { echo "unbound-novalidate: not running"; ok=1; }
	pid_alive "$(read_pid "$DIR/dnsd/dnsd.pid")" || { echo "dnsd.py: not running"; ok=1; }
	pid_alive "$(read_pid "$DIR/postfix-queue/pid/master.pid")" || { echo "postfix: not running"; ok=1; }
	pid_alive "$(read_pid "$DIR/nginx/nginx.pid")" || { echo "nginx: not running"; ok=1; }
	pid_alive "$(read_pid "$DIR/httpsd/httpsd.pid")" || { echo "httpsd.py: not running"; ok=1; }
	[ $ok -ne 0 ] || echo "lab in $DIR: running"
	return $ok
}

[ $# -eq 2 ] || usage
DIR=$(realpath -m -- "$2")
[ "$DIR" != / ] || die "DIR must not be /"
case "$1" in
start)
	check_namespace "$@"
	# shellcheck disable=SC2154
	trap 'rc=$?; if [ $rc -ne 0 ]; then show_logs; echo "lab.sh: start failed; stopping" >&2; cmd_stop >/dev/null 2>&1 || true; fi' EXIT
	cmd_start "$@"
	trap - EXIT
	;;
stop)   cmd_stop ;;
status) cmd_status ;;
*)      usage ;;
esac
