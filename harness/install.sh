#!/bin/bash
# Lay this project's files into a user's Linux 6.1 tree.
# Usage: install.sh /path/to/linux (or KSRC=/path/to/linux)
set -euo pipefail
KLP_IMPL=ours
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ksrc=${1:-${KSRC:-}}
[[ -n $ksrc ]] || die "usage: make install KSRC=/path/to/linux-6.1"
[[ -f $ksrc/Makefile ]] || die "$ksrc/Makefile not found: KSRC must be a Linux source tree"
ksrc=$(cd "$ksrc" && pwd)
case $ksrc/ in "$KLP_CACHE"/*) die "refusing to install into the harness cache ($ksrc)" ;; esac
version=$(awk '$1 == "VERSION" && $2 == "=" { print $3 }' "$ksrc/Makefile")
patchlevel=$(awk '$1 == "PATCHLEVEL" && $2 == "=" { print $3 }' "$ksrc/Makefile")
[[ $version == 6 && $patchlevel == 1 ]] ||
	die "$ksrc is Linux ${version:-?}.${patchlevel:-?}, not 6.1.x; this subsystem is for 6.1 only"
[[ -f $KLP_REPO/kernel/livepatch/core.c ]] ||
	die "$KLP_REPO has no kernel/livepatch/core.c; nothing to install"

info "installing into $ksrc"
# The patches first: a tree they do not fit is refused before any change.
patched=$(patch_tree_in_place "$ksrc")
changes=$(lay_files "$ksrc")
verify_files "$ksrc"
[[ -n $changes ]] && echo "$changes"
[[ -n $patched ]] && echo "$patched"
[[ -n $changes || $patched == patched* ]] || info "already up to date"
info "done; build with CONFIG_LIVEPATCH=y (see harness/configs/base.config)"
