#!/bin/bash
# Every rule ID used in the tree is defined in doc/RULES.md.
#
# Used: a family letter (D M T B A S P X K Q Y) and one or two digits,
# standing alone as a word, in a text file of src/, sandbox/, tests/
# (without the fuzz corpus, certificates and crash artifacts), man/,
# doc/ or README.md.  A range written with its family letter twice and a
# dash or "..", such as the one in t_dns.sh's header, uses every ID in
# between.  Not rules, and ignored: hex fingerprints (AB:CD:...), long
# base64 or hex runs, dotted numbers (a letter, digits, ".", a digit:
# ANSI X9.62), command-line options (a dash after a space, a quote or
# the line's start: grep's -B1), and "X11" on a line about forwarding
# (ssh's X Window System forwarding).  Word boundaries keep SHA2, P256, TLSv1, hex
# digests and _25._tcp out.  This file is not scanned: its own test
# cases below are no uses.
#
# Defined: a line of doc/RULES.md that starts a heading ("### ID — ...")
# or a table row ("| ID |") with the ID.  An ID defined twice fails.
#
# Prints one PASS line per family in use, a FAIL line per undefined ID
# (with where it is used), "NOTE: rule ID is named by no test" for every
# defined rule that no file under tests/ names (not a failure), and a
# last line "# check_rules: N passed, M failed" for tests/run.sh.
# RULES_MD=FILE checks against another rulebook.
set -u
cd "$(dirname "$0")/../.."
T=rules
RULES=${RULES_MD:-doc/RULES.md}
FAMILIES="D M T B A S P X K Q Y"
npass=0
nfail=0

pass() {
	echo "PASS: $T: $1"
	npass=$((npass + 1))
}
fail() {
	echo "FAIL: $T: $1: $2"
	nfail=$((nfail + 1))
}
finish() {
	echo "# check_rules: $npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit
}

# The extractor: "file:line:ID" for each use, "file:line:ID:range" for
# the IDs a range adds between its two ends.
# shellcheck disable=SC2016 # perl code
extract='
	s/\b(?:[0-9A-Fa-f]{2}:){3,}[0-9A-Fa-f]{2}\b//g;
	s{[A-Za-z0-9+/=]{40,}}{}g;
	s/\bX11\b//g if /forward/i;
	while (/\b([DMTBASPXKQY])([0-9]{1,2})\s?(?:-|\xe2\x80\x93|\.\.)\s?\1([0-9]{1,2})\b/g) {
		print "$ARGV:$.:$1$_:range\n" for ($2 + 1) .. ($3 - 1);
	}
	while (/(?<![\s\x27"]-)(?<!^-)\b([DMTBASPXKQY][0-9]{1,2})\b(?!\.[0-9])/g) {
		print "$ARGV:$.:$1\n";
	}
	close ARGV if eof;
'
ids_in() { # ids_in TEXT -> the IDs the extractor finds in TEXT, one line
	printf '%s\n' "$1" | perl -ne "$extract" | cut -d: -f3 | tr '\n' ' ' |
		sed 's/ $//'
}

# --- the extractor on known cases ---
while IFS='|' read -r text want; do
	got=$(ids_in "$text")
	[ "$got" = "$want" ] && pass "pattern: '$text' -> '${want:-nothing}'" ||
		fail "pattern: '$text' -> '${want:-nothing}'" "got '$got'"
done <<'EOF'
TLS_AES_256_GCM_SHA384, SHA2-256 and SHA2-512 digests, P256, P-384|
TLSA 3 1 1 27d02b4bd156cc96 and _25._tcp.mx.secure.example|
fingerprint AB:CD:D5:A1:09 and curve X9.62, TLSv1.3|
forwarding of agent or X11, no tty|
X11Forwarding no, A9x, xA9, A123|
grep -B1 -m1 "^x(" f; head '-A3' -n2|
(M7) T3, D7; "P11 timeout" S10/A12|M7 T3 D7 P11 S10 A12
lookup rules (D1-D3, M1..M2)|D2 D1 D3 M1 M2
EOF

# --- the rulebook ---
if [ ! -s "$RULES" ]; then
	fail "$RULES" "missing or empty"
	finish
fi
defined=$(grep -oE '^(#{2,4} +|\| *)[DMTBASPXKQY][0-9]{1,2}\b' "$RULES" |
	grep -oE '[DMTBASPXKQY][0-9]{1,2}$' | sort)
dups=$(uniq -d <<<"$defined" | tr '\n' ' ')
defined=$(uniq <<<"$defined")
if [ -z "$defined" ]; then
	fail "$RULES" "no rule headings found"
	finish
fi
[ -z "$dups" ] && pass "no rule is defined twice in $RULES" ||
	fail "no rule is defined twice in $RULES" "$dups"

# --- the uses ---
mapfile -t files < <(find src sandbox tests man doc README.md -type f \
	-not -path 'tests/fuzz/corpus/*' -not -path 'tests/fuzz/certs/*' \
	-not -path 'tests/fuzz/crashes/*' -not -path '*/__pycache__/*' \
	-not -path tests/doc/check_rules.sh 2>/dev/null | sort | xargs -r grep -Il '')
uses=$(perl -ne "$extract" "${files[@]}")
if [ "${#files[@]}" -lt 10 ] || [ -z "$uses" ]; then
	fail "the scan finds rule IDs" "${#files[@]} text files, $(wc -l <<<"$uses") uses"
	finish
fi
used=$(cut -d: -f3 <<<"$uses" | sort -u)

for fam in $FAMILIES; do
	u=$(grep -E "^$fam[0-9]+$" <<<"$used")
	d=$(grep -cE "^$fam[0-9]+$" <<<"$defined")
	if [ -z "$u" ]; then
		[ "$d" -eq 0 ] && echo "NOTE: family $fam has no rules yet"
		continue
	fi
	bad=0
	for id in $u; do
		grep -qx "$id" <<<"$defined" && continue
		bad=1
		fail "$id is defined in $RULES" "it is not; used in $(grep -E ":$id(:range)?$" <<<"$uses" |
			cut -d: -f1,2 | head -3 | tr '\n' ' ' | sed 's/ $//')"
	done
	[ $bad -eq 0 ] &&
		pass "$fam: the $(wc -w <<<"$u") rules used are defined ($d defined)"
done

# --- rules that no test names (written out, not only inside a range) ---
named=$(grep -E '^tests/[^:]*:[0-9]+:[A-Z][0-9]+$' <<<"$uses" | cut -d: -f3 | sort -u)
for id in $defined; do
	grep -qx "$id" <<<"$named" || echo "NOTE: rule $id is named by no test"
done
finish
