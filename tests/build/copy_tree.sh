#!/bin/sh
# copy_tree.sh DIR: this source tree into DIR, as a build from scratch
# sees it: in a git checkout the files git tracks and the untracked ones
# it does not ignore; elsewhere (an unpacked tarball) everything, then
# `make clean` so that no binary of this tree is taken for a new build.
# For the tests that build a copy (tests/build/flags.sh, t_deb.sh).
set -eu
cd "$(dirname "$0")/../.."
mkdir -p "$1"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$1"
else
	tar --exclude=./.git -cf - . | tar -xf - -C "$1"
fi
make -s -C "$1" clean >/dev/null 2>&1 || true
