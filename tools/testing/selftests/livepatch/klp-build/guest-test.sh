#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the guest (make klp-build-test, klp.mode=klp-build): the guest half of
# the klp-build corpus.  /klp-build holds, for every case NAME of this
# directory (a NAME.sh check script), the module klp-build made for it
# (klp_NAME.ko, "-" in NAME made "_") and the script itself.  Each script
# is sourced here in turn, in name order, and uses the helpers below: it
# loads its module, checks the patched behaviour, disables the patch
# through sysfs, checks that the unpatched behaviour is back and unloads
# the module.  Prints TAP, then KLP-KB-DONE.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
n=0

# check DESC EXPECTED ACTUAL
check() {
	n=$((n + 1))
	if [[ $2 == "$3" ]]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		echo "#   expected: $2"
		echo "#   got:      $3"
	fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}
reads() { [[ -r $1 && $(cat "$1") == "$2" ]]; }
gone() { [[ ! -e $1 ]]; }

# klp_load MODULE: insmod /klp-build/MODULE.ko and wait for its transition
# to finish; checks both.
klp_load() {
	local p=/sys/kernel/livepatch/$1 rc=0
	insmod "$here/$1.ko" || rc=$?
	check "$1: insmod" "0" "$rc"
	wait_for 60 reads "$p/transition" 0
	check "$1: patch enabled, transition finished" "1 0" \
		"$(cat "$p/enabled" "$p/transition" 2>&1 | paste -sd ' ')"
}

# klp_disable MODULE: echo 0 > enabled, wait until its sysfs directory
# is gone (the transition back finished).
klp_disable() {
	local p=/sys/kernel/livepatch/$1
	echo 0 >"$p/enabled"
	wait_for 60 gone "$p"
	check "$1: echo 0 > enabled: $p gone" "gone" "$(gone "$p" && echo gone)"
}

# klp_unload MODULE: rmmod, checked.
klp_unload() {
	local rc=0
	rmmod "$1" || rc=$?
	check "$1: rmmod" "0" "$rc"
}

# patch_case MODULE WANT CMD...: the whole round for a patch whose effect
# CMD shows: CMD must print WANT (@ORIG@ in it stands for what CMD
# printed before) once MODULE is loaded, and what it printed before once
# the patch is disabled.
patch_case() {
	local mod=$1 want=$2 orig
	shift 2
	orig=$("$@")
	klp_load "$mod"
	check "$mod: $* prints the patched text" "${want//@ORIG@/$orig}" "$("$@")"
	klp_disable "$mod"
	check "$mod: $* prints the original again" "$orig" "$("$@")"
	klp_unload "$mod"
}

for case_script in "$here"/*.sh; do
	case ${case_script##*/} in
	guest-test.sh | run-tests.sh) continue ;;
	esac
	echo "# case ${case_script##*/}"
	# shellcheck source=/dev/null
	. "$case_script"
done
echo "1..$n"
echo "KLP-KB-DONE"
