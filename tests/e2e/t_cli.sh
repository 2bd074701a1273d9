#!/bin/bash
# Command line and message checks that must stop mxclient before it
# sends anything (P12-P19, M10): the right exit code, a clear message,
# and not one network socket opened (strace proves it).
. tests/e2e/lib.sh

T=cli
tmp=$(mktemp -d)
make_message "cli-$$@mxclient.test" >"$tmp/msg"

# run_nosend NAME WANT_RC STDIN ARGS...: exit code, and no socket made.
run_nosend() {
	local name=$1 want=$2 input=$3 rc
	shift 3
	strace -f -qq -e trace=socket,connect -o "$tmp/trace" \
	    "$MXCLIENT" --resolver 127.0.0.1 "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$T: $name" "exit $rc, want $want: $(head -c 300 "$tmp/err")"
	elif grep -q 'socket(AF_INET' "$tmp/trace"; then
		fail "$T: $name" "a network socket was created"
	elif [ "$want" != 0 ] && [ ! -s "$tmp/err" ]; then
		fail "$T: $name" "no error message"
	else
		pass "$T: $name"
	fi
}

long64=$(printf 'a%.0s' $(seq 64))
long65=$(printf 'a%.0s' $(seq 65))
label64=$(printf 'b%.0s' $(seq 64))

# Bad recipients: every one exits 64 before any I/O (P17, P18, P19, M10).
i=0
for bad in $'a\rb@secure.example' $'a\nb@secure.example' $'a\tb@secure.example' \
    'a<b@secure.example' 'a>b@secure.example' '<a@secure.example>' \
    'a b@secure.example' 'a@b@secure.example' '@secure.example' 'a@' 'a' \
    'a..b@secure.example' '.a@secure.example' 'a.@secure.example' \
    "$long65@secure.example" "a@$label64.example" 'a@-x.example' \
    'a@x-.example' 'a@under_score.example' 'a@secure.example.' \
    'a@[127.0.0.10]' $'r\xc3\xa9@secure.example' '"unterminated@secure.example' \
    'a@secure..example' ''; do
	i=$((i + 1))
	run_nosend "P17 bad recipient #$i $(printf %q "$bad") exits 64" 64 "$tmp/msg" -f a@example.org "$bad"
done

# Bad senders, same rule.
for bad in $'a\r@example.org' 'a<b>@example.org' 'a b@example.org' 'nodomain'; do
	run_nosend "P17 bad sender $(printf %q "$bad") exits 64" 64 "$tmp/msg" -f "$bad" rcpt@secure.example
done

# Usage errors.
run_nosend "no recipient exits 64" 64 "$tmp/msg" -f a@example.org
run_nosend "two recipients exit 64" 64 "$tmp/msg" -f a@example.org a@secure.example b@secure.example
run_nosend "unknown option exits 64" 64 "$tmp/msg" -X -f a@example.org a@secure.example
run_nosend "bad --resolver exits 78" 78 "$tmp/msg" --resolver '127.0.0.1#99999' -f a@example.org a@secure.example
run_nosend "bad --helo exits 64" 64 "$tmp/msg" --helo 'bad name' -f a@example.org a@secure.example
run_nosend "--version exits 0" 0 /dev/null --version
"$MXCLIENT" --version | grep -q '^mxclient [0-9]' && pass "$T: --version prints the version" ||
	fail "$T: --version prints the version" "$("$MXCLIENT" --version)"

# Messages that cannot be sent faithfully: 65, naming the line (P12, P14).
printf 'Subject: x\n\nok\nbad\0nul\n' >"$tmp/nul"
run_nosend "P15 NUL octet exits 65" 65 "$tmp/nul" -f a@example.org rcpt@secure.example
grep -q 'line 4: NUL' "$tmp/err" && pass "$T: NUL error names line 4" || fail "$T: NUL error names line 4" "$(cat "$tmp/err")"
printf 'Subject: x\n\nbare\rcr\n' >"$tmp/cr"
run_nosend "P12 bare CR exits 65" 65 "$tmp/cr" -f a@example.org rcpt@secure.example
{ printf 'Subject: x\n\n'; printf 'x%.0s' $(seq 999); printf '\n'; } >"$tmp/long"
run_nosend "P14 line of 999 octets exits 65" 65 "$tmp/long" -f a@example.org rcpt@secure.example
grep -q 'line 3: line longer than 998' "$tmp/err" && pass "$T: long-line error names line 3" ||
	fail "$T: long-line error names line 3" "$(cat "$tmp/err")"
: >"$tmp/empty"
run_nosend "empty input exits 65" 65 "$tmp/empty" -f a@example.org rcpt@secure.example

# Sendmail options are accepted: -i, -oi, -oem, -F name.
id="sendmail-opts-$$-$RANDOM@mxclient.test"
make_message "$id" | "$MXCLIENT" --resolver 127.0.0.1 -i -oi -oem -F 'Some Name' -f a@example.org rcpt@secure.example >"$tmp/out" 2>&1
expect_eq "$T: sendmail options -i -oi -oem -F accepted" 0 "$?" "$tmp"
rm -rf "$tmp"
