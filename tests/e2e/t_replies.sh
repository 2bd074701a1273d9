#!/bin/bash
# Every odd reply code to EHLO, HELO and STARTTLS, on a DANE host and on an
# opportunistic one (the client cases of the NO STARTTLS paper, EAST
# others/{ehlo,helo,starttls}/<code>): only 250 answers EHLO and HELO,
# only 220 starts TLS (P3, S3, S7; RFC 5321 §4.1.1.1, §4.2.5; RFC 3207
# §4); 221 and 421 mean the server is closing (no QUIT then, RFC 5321
# §3.8); a refusal (another 4xx or 5xx) may lead to HELO or cleartext
# only on an opportunistic host; anything else is a protocol error.
# Never a MAIL FROM on a connection whose EHLO, HELO or STARTTLS failed,
# and never one in clear on a DANE host (S1, S10).
. tests/e2e/lib.sh

T=replies
RES=(--resolver "$LAB_RESOLVER" --timeout ehlo=5 --timeout starttls=5 --timeout quit=2)
TLS=(--tls-cert "$LAB_MX_CERT" --tls-key "$LAB_MX_KEY")
tmp=$E2E_TMP/replies
mkdir -p "$tmp"
CODES="220 221 354 421 500 501 502 530 554"

# text CODE: a reply line with that code
text() {
	case $1 in
	221) echo "221 2.0.0 Bye" ;;
	354) echo "354 Go ahead" ;;
	421) echo "421 4.3.2 Service not available, closing channel" ;;
	*) echo "$1 reply $1 for the test" ;;
	esac
}

# verbs: the client's command verbs, "clear" or "tls" before each
verbs() {
	sed -E 's/^[0-9.]+ //' "$FIXTURE_TRANSCRIPT" |
	    awk '{ c = $1 } / \*: TLS established/ { tls[c] = 1 }
	    $2 == "C:" { printf "%s%s %s", sep, (tls[c] ? "tls" : "clear"), toupper($3); sep = " " }'
}

# case NAME WANT_RC WANT_VERBS DOMAIN MODE [smtpd.py ARGS]: one run against
# a fresh fixture; the exit code and the exact command sequence checked
case_() {
	local name=$1 want=$2 wverbs=$3 dom=$4 mode=$5 rc got
	shift 5
	stop_fixture 2>/dev/null
	start_fixture "$mode" "$@" || { fail "$T: $name: fixture" "see above"; return; }
	make_message "$(new_id replies)" "rcpt@$dom" >"$tmp/msg"
	timeout 60 "$MXCLIENT" "${RES[@]}" -f a@example.org "rcpt@$dom" \
	    <"$tmp/msg" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	settle
	expect_eq "$T: $name: exit" "$want" "$rc" "$tmp"
	got=$(verbs)
	[ "$got" = "$wverbs" ] && pass "$T: $name: commands" ||
		fail "$T: $name: commands" "got '$got', want '$wverbs'"
}

DELIVERY="clear EHLO clear STARTTLS tls EHLO tls MAIL tls RCPT tls DATA tls QUIT"
for code in $CODES; do
	line=$(text "$code")
	quit=" clear QUIT"
	case $code in 221 | 421) quit="" ;; esac

	# EHLO on a DANE host: no HELO (it cannot lead to TLS), never 5xx-final
	case_ "S10 EHLO $code on a DANE host" 75 "clear EHLO$quit" \
	    dane-fixture.example starttls "${TLS[@]}" --reply "ehlo=$line"

	# EHLO on an opportunistic host
	case $code in
	5*) case_ "S7 EHLO $code on an opportunistic host: HELO" 0 \
	        "clear EHLO clear HELO clear MAIL clear RCPT clear DATA clear QUIT" \
	        slow.example plain --reply "ehlo=$line" ;;
	221 | 421) case_ "P5 EHLO $code: the server is closing, no HELO, no QUIT" 75 \
	        "clear EHLO" slow.example plain --reply "ehlo=$line" ;;
	*) case_ "P3 EHLO $code is no success: protocol error" 76 \
	        "clear EHLO clear QUIT" slow.example plain --reply "ehlo=$line" ;;
	esac

	# HELO (after EHLO was refused) on an opportunistic host
	case $code in
	5*) want=69 ;;
	221 | 421) want=75 ;;
	*) want=76 ;;
	esac
	case_ "S7 HELO $code after a refused EHLO" "$want" "clear EHLO clear HELO$quit" \
	    slow.example plain --reply "ehlo=502 5.5.1 EHLO not implemented" \
	    --reply "helo=$line"

	# STARTTLS on a DANE host
	if [ "$code" = 220 ]; then
		case_ "S3 STARTTLS 220 on a DANE host: TLS, delivered" 0 "$DELIVERY" \
		    dane-fixture.example starttls "${TLS[@]}"
	else
		case_ "S2 STARTTLS $code on a DANE host: next MX, 75" 75 \
		    "clear EHLO clear STARTTLS$quit" dane-fixture.example starttls \
		    "${TLS[@]}" --reply "starttls=$line"
	fi

	# STARTTLS on an opportunistic host
	case $code in
	220) case_ "S3 STARTTLS 220 on an opportunistic host: TLS" 0 "$DELIVERY" \
	        slow.example starttls "${TLS[@]}" ;;
	5*) case_ "S9 STARTTLS $code on an opportunistic host: on in cleartext" 0 \
	        "clear EHLO clear STARTTLS clear MAIL clear RCPT clear DATA clear QUIT" \
	        slow.example starttls "${TLS[@]}" --reply "starttls=$line" ;;
	221 | 421) case_ "S3 STARTTLS $code: the server is closing, nothing in clear" 75 \
	        "clear EHLO clear STARTTLS" slow.example starttls "${TLS[@]}" \
	        --reply "starttls=$line" ;;
	*) case_ "S3 STARTTLS $code: a protocol error, nothing in clear" 76 \
	        "clear EHLO clear STARTTLS clear QUIT" slow.example starttls \
	        "${TLS[@]}" --reply "starttls=$line" ;;
	esac
done
