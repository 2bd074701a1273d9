#!/bin/bash
# The documentation matches the program: the man page is clean under
# mandoc -Tlint, and every long option of --help is in the man page and
# the other way round.
set -u
cd "$(dirname "$0")/../.."
T=docs

# Every page under both formatters: mandoc -Tlint, and groff as man(1)
# on Debian runs it (a bare macro name inside .%T stops groff, not
# mandoc), with all its warnings; each section must come out in the text.
for page in man/*.[1-8]; do
	lint=$(mandoc -Tlint -W warning "$page" 2>&1)
	[ -z "$lint" ] && echo "PASS: $T: $page: mandoc -Tlint -W warning is clean" ||
		echo "FAIL: $T: $page: mandoc -Tlint -W warning is clean: $(echo "$lint" | head -3 | tr '\n' '|')"
	if ! command -v groff >/dev/null; then
		echo "FAIL: $T: $page: groff is installed: not found"
		continue
	fi
	warn=$(groff -ww -z -mandoc -Tutf8 "$page" 2>&1)
	[ -z "$warn" ] && echo "PASS: $T: $page: groff -ww is clean" ||
		echo "FAIL: $T: $page: groff -ww is clean: $(echo "$warn" | head -3 | tr '\n' '|')"
	text=$(groff -mandoc -Tutf8 "$page" 2>/dev/null | col -b)
	missing=""
	while read -r sec; do
		grep -qx "$sec" <<<"$text" || missing="$missing $sec"
	done < <(sed -n 's/^\.Sh //p' "$page" | tr -d '"')
	[ -z "$missing" ] && echo "PASS: $T: $page: groff renders every section" ||
		echo "FAIL: $T: $page: groff renders every section: missing$missing"
done

# (mdoc's Fl adds one dash: "Fl \-json" is --json; --option is the
# usage line's placeholder)
help=$(./mxclient --help | grep -o -- '--[a-z][a-z-]*' | grep -vx -- --option | sort -u)
man=$(grep -o 'Fl \\-[a-z\\-]*' man/mxclient.1 | sed 's/^Fl //; s/\\//g; s/^/-/' | sort -u)
[ -n "$help" ] && [ -n "$man" ] || echo "FAIL: $T: options found in --help and the man page"
for o in $help; do
	grep -qx -- "$o" <<<"$man" && echo "PASS: $T: $o of --help is in the man page" ||
		echo "FAIL: $T: $o of --help is in the man page: missing"
done
for o in $man; do
	grep -qx -- "$o" <<<"$help" && echo "PASS: $T: $o of the man page is in --help" ||
		echo "FAIL: $T: $o of the man page is in --help: missing"
done
n=$(./mxclient --help | wc -l)
w=$(./mxclient --help | awk 'length > 79' | wc -l)
[ "$n" -le 24 ] && [ "$w" -eq 0 ] && echo "PASS: $T: --help fits one screen ($n lines, 80 columns)" ||
	echo "FAIL: $T: --help fits one screen: $n lines, $w too wide"
./mxclient --no-such-option >/dev/null 2>"/tmp/docs.$$"
rc=$?
[ "$rc" = 64 ] && grep -q '^usage: mxclient' "/tmp/docs.$$" && [ "$(wc -l <"/tmp/docs.$$")" -le 3 ] &&
	echo "PASS: $T: a wrong option prints the usage line and exits 64" ||
	echo "FAIL: $T: a wrong option prints the usage line and exits 64: exit $rc, $(tr '\n' '|' <"/tmp/docs.$$")"
rm -f "/tmp/docs.$$"
