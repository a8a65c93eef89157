#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# BPF tracing programs on a livepatched function: an fentry and an fexit
# program (klp_bpf_count.bpf.c, attached by klp_bpf, fentry first) on
# cmdline_proc_show(), which test_klp_livepatch replaces.  Every read of
# /proc/cmdline must show the text of whichever function is live, and the
# programs must see that call once each (fentry: entries; fexit: exits and
# the return value 0):
#  - the programs alone;
#  - the patch first, then the programs: adding the fexit program rebuilds
#    a trampoline that is attached already, to call the function through
#    the address the patch chose (6.1 broke ftrace's list of ops there:
#    harness/patches/bpf-trampoline-modify-share.patch);
#  - the programs first, then the patch, disabled under them; once as the
#    first patch (live patching's ftrace_ops is registered), once with
#    another patch enabled (the ops is running and its filter grows: 6.1
#    told the trampoline nothing there, and the fexit trampoline went on
#    calling the old body, bypassing the patch:
#    harness/patches/ftrace-ipmodify-share.patch).
# This implementation's calls file gives the function "handler shared"
# while the programs are attached, and what it read before once they are
# gone ("direct stub" for "direct": ftrace puts the call of the site's
# stub back where the site jumped to the replacement).
#
# Needs a kernel with BTF (CONFIG_DEBUG_INFO_BTF) and BPF trampolines
# (KCONFIG=distro has both); elsewhere a SKIP.  Each read of /proc/cmdline
# calls cmdline_proc_show() once, so the counts are exact; they are taken
# around the reads only, because insmod and rmmod (libkmod) read
# /proc/cmdline themselves.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

P=test_klp_livepatch
# Another patch (of getpid()), enabled through the last part.
OTHER=test_klp_syscall
HELPER=$(dirname "$0")/klp_bpf
OBJ=$(dirname "$0")/klp_bpf_count.bpf.o
BPFFS=/sys/fs/bpf
PIN=$BPFFS/klp_test_bpf
PROGS=(klp_entry klp_exit)

klp_setup
klp_require_mod "$P"
klp_require_mod "$OTHER"

[[ -r /sys/kernel/btf/vmlinux ]] ||
	skip "no BTF of the kernel (CONFIG_DEBUG_INFO_BTF): no fentry/fexit programs"
if ! grep -q " $BPFFS bpf " /proc/mounts; then
	mount -t bpf bpf "$BPFFS" 2> /dev/null || skip "cannot mount bpffs (CONFIG_BPF_SYSCALL)"
	klp_at_exit umount "$BPFFS"
fi
# The kernel can run the programs: not having built them is a failure.
[[ -x $HELPER && -r $OBJ ]] ||
	die "the kernel has BTF, but klp_bpf or klp_bpf_count.bpf.o was not built (clang and libbpf-dev on the build host)"
klp_patch_gone "$P" || die "patch $P is already loaded"

ORIG=$(cat /proc/cmdline)
PATCHED="$P: cmdline replaced"

# bpf_attach: load and attach the programs, pinned under $PIN.
bpf_attach() {
	mkdir -p "$PIN" || die "cannot make $PIN"
	"$HELPER" attach "$OBJ" "$PIN" > /dev/null ||
		die "klp_bpf could not attach the fentry and fexit programs"
}

# bpf_detach: (also at exit) detach the programs: their links' pins go;
# the map's pin goes too with "all".
# shellcheck disable=SC2317 # also run by klp_cleanup
bpf_detach() {
	local p
	for p in "${PROGS[@]}"; do
		rm -f "$PIN/$p"
	done
	[[ ${1:-} != all ]] && return 0
	rm -f "$PIN/klp_counts"
	rmdir "$PIN" 2> /dev/null
	return 0
}

# bpf_counts: "entries=N exits=N ret=N" in COUNTS.
bpf_counts() {
	COUNTS=$("$HELPER" show "$PIN") || die "klp_bpf cannot read the counts"
}

# check_seen N TEXT: N reads of /proc/cmdline, each giving TEXT, are N calls
# to both programs, the last one returning 0.  With N 0: one read, not seen.
check_seen() {
	local n=$1 reads=$1 e x i
	((reads)) || reads=1
	bpf_counts
	e=${COUNTS#entries=}
	e=${e%% *}
	x=${COUNTS#*exits=}
	x=${x%% *}
	for ((i = 0; i < reads; i++)); do
		check_file /proc/cmdline "$2"
	done
	bpf_counts
	check_eq "BPF counts after $reads read(s) of /proc/cmdline" \
		"entries=$((e + n)) exits=$((x + n)) ret=0" "$COUNTS"
}

# call_state: what the patched function's line of its object's calls file
# says (this implementation: how calls reach the replacement); "" without
# one.
CALLS=$KLP_SYSFS/$P/vmlinux/calls
call_state() {
	klp_call_mode "$CALLS:cmdline_proc_show,1" && echo "$REPLY"
}

# check_call_state TEXT: the calls file gives TEXT; stock has no calls file.
check_call_state() {
	if [[ -e $CALLS ]]; then
		check_call "$CALLS:cmdline_proc_show,1" "$1"
	else
		klp_lacks_part "no calls file $CALLS"
	fi
}

# programs_then_patch: the programs attached, then the patch enabled,
# disabled and unloaded under them, each step seen by them.
programs_then_patch() {
	bpf_attach
	check_seen 1 "$ORIG"
	load_lp "$P"
	check_seen 3 "$PATCHED"
	disable_lp "$P"
	check_seen 2 "$ORIG"
	unload_mod "$P"
	check_seen 1 "$ORIG"
	bpf_detach all
}

klp_at_exit bpf_detach all

# ---------------------------------------------------------------------------
start_test "fentry and fexit programs on a function that is not patched"
bpf_attach
check_seen 2 "$ORIG"
bpf_detach
check_seen 0 "$ORIG"
bpf_detach all

# ---------------------------------------------------------------------------
start_test "the patch first, then the programs"
load_lp "$P"
check_file /proc/cmdline "$PATCHED"
call_before=$(call_state)
bpf_attach
check_call_state "handler shared"
check_seen 3 "$PATCHED"
bpf_detach
# ftrace writes the call of the stub back where the site jumped before.
[[ $call_before == direct ]] && call_before="direct stub"
check_call_state "$call_before"
check_seen 0 "$PATCHED"
bpf_detach all
disable_lp "$P"
check_file /proc/cmdline "$ORIG"
unload_mod "$P"
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

# ---------------------------------------------------------------------------
start_test "the programs first, then the patch (the first), disabled under them"
programs_then_patch
check_log <<-EOF
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
EOF

# ---------------------------------------------------------------------------
start_test "the programs first, then the patch, while another patch is enabled"
# Live patching's ftrace_ops is running already (it serves $OTHER), so
# the patch adds cmdline_proc_show() to its filter rather than registering
# it: ftrace must tell the programs' trampoline then too.
load_lp "$OTHER"
programs_then_patch
disable_lp "$OTHER"
unload_mod "$OTHER"
check_log <<-EOF
	klptest: insmod $OTHER
	$(log_enable_lines "$OTHER")
	klptest: insmod $P
	$(log_enable_lines "$P")
	klptest: disable $P
	$(log_disable_lines "$P")
	klptest: rmmod $P
	klptest: disable $OTHER
	$(log_disable_lines "$OTHER")
	klptest: rmmod $OTHER
EOF

klp_pass
