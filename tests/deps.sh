#!/bin/sh
# Install what mxclient needs to build and to run its tests, on Debian
# or Ubuntu.  Only missing packages are fetched.  Postfix is preseeded
# with "No configuration" so that no system instance is set up: the
# tests run private instances of their own.
set -eu

PKGS="build-essential pkg-config libtls-dev libseccomp-dev libldns-dev
libssl-dev ldnsutils nsd unbound postfix swaks mandoc python3 openssl
iproute2 util-linux procps strace clang libclang-rt-14-dev valgrind
openssh-client openssh-server microsocks curl"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: everything is installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root (apt-get) to install:$missing" >&2
	exit 1
fi
echo "deps: installing:$missing"
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Package scripts may start system daemons; the tests need none of them.
for s in nsd unbound postfix ssh microsocks; do
	if command -v service >/dev/null 2>&1; then
		service "$s" stop >/dev/null 2>&1 || true
	fi
done
echo "deps: done"
