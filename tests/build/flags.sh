#!/bin/bash
# The build as a package builds it: a copy of the tree built with
# dpkg-buildflags' CPPFLAGS, CFLAGS and LDFLAGS on the make command line
# (they must add to the Makefile's flags, not replace them), then the
# hardening that is on by default checked in the binaries (PIE, full
# RELRO, stack protector, fortified calls), HARDEN_*= turning it off,
# and --version carrying git describe when built from git.
cd "$(dirname "$0")/../.." || exit 1
T=build
pass=0 fail=0
ok() { echo "PASS: $T: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $T: $1: $2"; fail=$((fail + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the tree as a fresh build sees it (copy_tree.sh)
tests/build/copy_tree.sh "$tmp"
F=(CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS 2>/dev/null || echo -D_FORTIFY_SOURCE=2)"
   CFLAGS="$(dpkg-buildflags --get CFLAGS 2>/dev/null || echo -O2 -g)"
   LDFLAGS="$(dpkg-buildflags --get LDFLAGS 2>/dev/null || echo -Wl,-z,relro)")
if make -C "$tmp" -j2 mxclient mxqueue "${F[@]}" >"$tmp/build.log" 2>&1; then
	ok "mxclient and mxqueue build with dpkg-buildflags on the command line"
else
	bad "mxclient and mxqueue build with dpkg-buildflags on the command line" "$(tail -3 "$tmp/build.log" | tr '\n' '|')"
fi
for b in mxclient mxqueue; do
	f=$tmp/$b
	[ -x "$f" ] || { bad "$b was built" missing; continue; }
	readelf -h "$f" | grep -q 'Type:.*DYN' && ok "$b is a position-independent executable" ||
		bad "$b is a position-independent executable" "$(readelf -h "$f" | grep Type)"
	readelf -d "$f" | grep -q 'FLAGS.*BIND_NOW\|FLAGS_1.*NOW' && readelf -l "$f" | grep -q GNU_RELRO &&
		ok "$b has full RELRO" || bad "$b has full RELRO" "no BIND_NOW or GNU_RELRO"
	nm -D "$f" | grep -q __stack_chk_fail && ok "$b has the stack protector" ||
		bad "$b has the stack protector" "no __stack_chk_fail"
	nm -D "$f" | grep -q '__[a-z]*_chk@' && ok "$b has fortified calls" ||
		bad "$b has fortified calls" "no __*_chk"
done
"$tmp/mxclient" --version | grep -q '^mxclient 0\.[0-9]*$' && ok "outside git, --version is the release number" ||
	bad "outside git, --version is the release number" "$("$tmp/mxclient" --version)"
# HARDEN_CFLAGS= HARDEN_LDFLAGS= : off (what a developer may want); the
# compiler's own defaults (PIE on Debian) stay, -z now goes
rm -f "$tmp/mxclient"
if ! make -C "$tmp" mxclient HARDEN_CFLAGS= HARDEN_LDFLAGS= >"$tmp/build2.log" 2>&1; then
	bad "HARDEN_CFLAGS= HARDEN_LDFLAGS= builds" "$(tail -3 "$tmp/build2.log" | tr '\n' '|')"
elif readelf -d "$tmp/mxclient" | grep -q 'BIND_NOW\|FLAGS_1.*NOW'; then
	bad "HARDEN_LDFLAGS= turns the hardening off" "still BIND_NOW"
else
	ok "HARDEN_LDFLAGS= turns the hardening off"
fi
if git rev-parse --git-dir >/dev/null 2>&1; then
	d=$(git describe --tags --always --dirty)
	v=$(make -s version)
	[ "$v" = "0.1+git.$d" ] && ok "from git, the version carries git describe ($v)" ||
		bad "from git, the version carries git describe" "$v, want 0.1+git.$d"
fi
echo "# flags.sh: $pass passed, $fail failed"
[ "$fail" = 0 ]
