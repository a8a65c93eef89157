#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks of klp-build (make klp-build-test).
#
#	run-tests.sh SRCTREE OBJTREE [GUESTDIR]
#
# SRCTREE/OBJTREE: a configured and built 6.1 kernel (the harness's
# KLP_SRC and KLP_OUT).  First every case of the corpus (a NAME.sh guest
# check script, see guest-test.sh) goes through klp-build: its patches
# (NAME.patch, or those of a "# klp-build: PATCH..." line) make module
# klp_NAME ("-" made "_"), whose report must list exactly the
# "# changed|new|copied|callback ..." lines of the script and which must have no
# .klp.ref marker left; the module and the script are copied to GUESTDIR
# for the guest.  Then each fixture patch of this directory is checked
# in detail: what klp-build prints, its exit code, the module it makes
# (sections, symbols) and what it leaves behind, with exact values.
# Prints TAP and "N passed, N failed"; exits 1 when a check failed.
# KLP_BUILD names the tool (default: scripts/livepatch/klp-build of the
# repository this directory is in); KLP_BUILD_ONLY="CASE..." checks only
# those cases of the corpus.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kb=${KLP_BUILD:-$here/../../../../../scripts/livepatch/klp-build}
src=${1:?usage: run-tests.sh SRCTREE OBJTREE [GUESTDIR]}
obj=${2:?usage: run-tests.sh SRCTREE OBJTREE [GUESTDIR]}
guest=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/klp-build-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
failed=0
start=$SECONDS

pass() {
	n=$((n + 1))
	echo "ok $n - $1"
}

fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	printf '#   %s\n' "$@"
}

# check DESC EXPECTED ACTUAL
check() {
	if [[ $2 == "$3" ]]; then
		pass "$1"
	else
		fail "$1" "expected: $(printf '%q' "$2")" "got:      $(printf '%q' "$3")"
	fi
}

# kb CASE ARGS...: klp-build with a private TMPDIR and output directory;
# sets rc, out (stdout), err (stderr), dir (the case's directory).
kb() {
	dir=$work/$1
	shift
	mkdir -p "$dir/tmp" "$dir/out"
	rc=0
	TMPDIR=$dir/tmp "$kb" --srctree "$src" --objtree "$obj" --output "$dir/out" "$@" \
		>"$dir/stdout" 2>"$dir/stderr" || rc=$?
	echo "$rc" >"$dir/rc"
	out=$(cat "$dir/stdout")
	err=$(cat "$dir/stderr")
}

# built NAME: was the corpus case NAME built (not left out by KLP_BUILD_ONLY)?
built() { [[ -d $work/case-$1 ]]; }

# use_case NAME: rc, out, err and dir of the corpus case NAME's build.
use_case() {
	dir=$work/case-$1
	rc=$(cat "$dir/rc")
	out=$(cat "$dir/stdout")
	err=$(cat "$dir/stderr")
}

# leftovers: what the case left in its output and scratch directories.
leftovers() {
	(cd "$dir" && find out tmp -mindepth 1 | sort | tr '\n' ' ')
}

fix() { echo "$here/$1.patch"; }

# section_sum OBJ SECTION: sha256 of SECTION's bytes, "missing" when OBJ
# has no such section or it is empty (objcopy writes to a file of its
# own: given /dev/stdout, it would replace that symlink with a file).
section_sum() {
	local bin=$work/section.bin
	rm -f "$bin"
	objcopy -O binary --only-section="$2" "$1" "$bin" 2>/dev/null
	if [[ -s $bin ]]; then
		sha256sum <"$bin" | cut -d ' ' -f 1
	else
		echo missing
	fi
}

# --- the corpus -----------------------------------------------------------------
for sh in "$here"/*.sh; do
	c=${sh##*/}
	c=${c%.sh}
	case $c in guest-test | run-tests) continue ;; esac
	[[ -z ${KLP_BUILD_ONLY:-} || " $KLP_BUILD_ONLY " == *" $c "* ]] || continue
	mod=klp_${c//-/_}
	read -r -a pl <<<"$(sed -n 's/^# klp-build: //p' "$sh")"
	((${#pl[@]})) || pl=("$c.patch")
	want=$(sed -nE 's/^# ((changed|new|copied) [^ ]*\/.*|callback .*)/\1/p' "$sh")
	kb "case-$c" --name "$mod" "${pl[@]/#/$here/}"
	markers=$( ( readelf -sW "$dir/out/$mod.ko" 2>&1 || echo "no module" ) >"$dir/syms"
		grep -c -e ' \.klp\.ref\.' -e '^no module$' "$dir/syms")
	check "$c: $mod built from ${pl[*]}, its report as the case lists, no .klp.ref marker left" \
		"0|$want|$dir/out/$mod.ko|0|" \
		"$rc|$(grep -E '^(changed|new|copied|callback) ' <<<"$out")|$(tail -n 1 <<<"$out")|$markers|$err"
	if [[ -n $guest && $rc == 0 ]]; then
		cp "$dir/out/$mod.ko" "$guest/"
		cp "$sh" "$guest/"
	fi
done

# klp_relocs KO: its livepatch relocation sections and symbols, one line.
klp_relocs() {
	{
		readelf -SW "$1" | sed 's/^ *\[ *[0-9]*\] //' | awk '$1 ~ /^\.klp\.rela\./ { print $1 }'
		readelf -sW "$1" | awk '$NF ~ /^\.klp\.sym\./ { print $4, $NF }'
	} 2>&1 | paste -sd ' '
}

# The running module's name for the static local of
# test_klp_build_mod_state(): gcc numbers it (reads.0, reads.1, ...)
# differently from one configuration to the next.
reads=$(readelf -sW "$obj/lib/livepatch/test_klp_build_mod.o" 2>/dev/null |
	awk '$4 == "OBJECT" && $NF ~ /^reads\.[0-9]+$/ { print $NF; exit }')
built module-before && use_case module-before &&
	check "module-before: the module's function and its static local ($reads), relocated against the module" \
	".klp.rela.test_klp_build_mod..text.test_klp_build_mod_state OBJECT .klp.sym.test_klp_build_mod.${reads:-reads.?},0" \
	"$(klp_relocs "$dir/out/klp_module_before.ko")"
built module-after && use_case module-after &&
	check "module-after: THIS_MODULE of the fix is the target's __this_module (a livepatch relocation)" \
	".klp.rela.test_klp_build_mod..text.test_klp_build_mod_greeting NOTYPE .klp.sym.test_klp_build_mod.__this_module,0" \
	"$(klp_relocs "$dir/out/klp_module_after.ko")"
built pr-debug && use_case pr-debug &&
	check "pr-debug: one dynamic debug descriptor (40 bytes; the file has five), none of the kernel's" \
	"__dyndbg 000028|.klp.rela.vmlinux..text.param_attr_show OBJECT .klp.sym.vmlinux.param_lock,0" \
	"$(readelf -SW "$dir/out/klp_pr_debug.ko" | sed 's/^ *\[ *[0-9]*\] //' |
		awk '$1 == "__dyndbg" { print $1, $5 }')|$(klp_relocs "$dir/out/klp_pr_debug.ko")"
built warn-static-key && use_case warn-static-key &&
	check "warn-static-key: the WARN_ON_ONCE's __bug_table entry (12 bytes) on the code and the file name" \
	"__bug_table 00000c|R_X86_64_PC32 .text.show_softirqs R_X86_64_PC32 .rodata.show_softirqs.str1.1" \
	"$(readelf -SW "$dir/out/klp_warn_static_key.ko" | sed 's/^ *\[ *[0-9]*\] //' |
		awk '$1 == "__bug_table" { print $1, $5 }')|$(readelf -rW "$dir/out/klp_warn_static_key.ko" |
		awk '/^Relocation section .\.rela__bug_table/ { on = 1; next } /^Relocation section/ { on = 0 }
			on && $3 ~ /^R_/ { print $3, $5 }' | paste -sd ' ')"
built warn-fire && use_case warn-fire &&
	check "warn-fire: the renumbered static local of the patched object is the running module's $reads; one __bug_table entry" \
	".klp.rela.test_klp_build_mod..text.test_klp_build_mod_state .klp.rela.test_klp_build_mod..text.test_klp_build_mod_greeting OBJECT .klp.sym.test_klp_build_mod.${reads:-reads.?},0 NOTYPE .klp.sym.test_klp_build_mod.__this_module,0|__bug_table 00000c" \
	"$(klp_relocs "$dir/out/klp_warn_fire.ko")|$(readelf -SW "$dir/out/klp_warn_fire.ko" |
		sed 's/^ *\[ *[0-9]*\] //' | awk '$1 == "__bug_table" { print $1, $5 }')"
built syscall && use_case syscall &&
	check "syscall: the copy of __do_sys_newuname calls the kernel's override_release, uses its uts_sem" \
	".klp.rela.vmlinux..text.__do_sys_newuname FUNC .klp.sym.vmlinux.override_release,0 OBJECT .klp.sym.vmlinux.uts_sem,0" \
	"$(klp_relocs "$dir/out/klp_syscall.ko")"

# KLP_BUILD_ONLY="CASE...": those cases of the corpus and the checks of
# their modules above, nothing else.
if [[ -n ${KLP_BUILD_ONLY:-} ]]; then
	echo "$((n - failed)) passed, $failed failed"
	((failed == 0))
	exit
fi

# --- change detection ---------------------------------------------------------
kb list-cmdline --list "$(fix cmdline)"
check "cmdline.patch: reports cmdline_proc_show changed" \
	"0|changed fs/proc/cmdline.c cmdline_proc_show|" "$rc|$out|$err"

kb line-shift --list "$(fix line-shift)"
check "line-shift.patch (comment above a function): no function changed" \
	"0|klp-build: no function changed||" "$rc|$out|$err|$(leftovers)"

kb line-shift-warn --list --keep "$(fix line-shift-warn)"
check "line-shift-warn.patch (WARN/BUG lines move): no function changed" \
	"0|klp-build: no function changed" "$rc|$out"
scratch=$(sed -n 's/^klp-build: scratch directory kept: //p' <<<"$err")
bug_before=$(section_sum "$scratch/before/fs/proc/generic.o.o" __bug_table)
bug_after=$(section_sum "$scratch/after/fs/proc/generic.o.o" __bug_table)
if [[ $bug_before != missing && $bug_after != missing && $bug_before != "$bug_after" ]]; then
	pass "line-shift-warn.patch: its __bug_table line numbers did change"
else
	fail "line-shift-warn.patch: its __bug_table line numbers did change" \
		"__bug_table before and after are the same ($bug_before)"
fi

kb string --list --keep "$(fix string)"
check "string.patch (a string of the same length): devinfo_show changed" \
	"0|changed fs/proc/devices.c devinfo_show" "$rc|$out"
scratch=$(sed -n 's/^klp-build: scratch directory kept: //p' <<<"$err")
text_before=$(section_sum "$scratch/before/fs/proc/devices.o.o" .text.devinfo_show)
text_after=$(section_sum "$scratch/after/fs/proc/devices.o.o" .text.devinfo_show)
if [[ $text_before != missing && $text_before == "$text_after" ]]; then
	pass "string.patch: devinfo_show's bytes are the same (only a relocation's target differs)"
else
	fail "string.patch: devinfo_show's bytes are the same (only a relocation's target differs)" \
		"before: $text_before" "after:  $text_after"
fi

kb sympos --list "$(fix sympos)"
check "sympos.patch: c_next of consoles.c is the second c_next of vmlinux" \
	"0|changed fs/proc/consoles.c c_next (old_sympos 2)|" "$rc|$out|$err"

# --- modules ------------------------------------------------------------------
use_case cmdline
check "cmdline.patch: module built" \
	"0|changed fs/proc/cmdline.c cmdline_proc_show
klp-build: klp_cmdline: 1 function, replace
$dir/out/klp_cmdline.ko|" "$rc|$out|$err"
ko=$dir/out/klp_cmdline.ko
check "cmdline.patch: modinfo livepatch=Y, name klp_cmdline" \
	"Y klp_cmdline" "$(modinfo -F livepatch "$ko" 2>&1) $(modinfo -F name "$ko" 2>&1)"
check "cmdline.patch: the new cmdline_proc_show and its alias are in the module" \
	"FUNC LOCAL cmdline_proc_show
FUNC GLOBAL klp_new_0_0" \
	"$(readelf -sW "$ko" 2>&1 | awk '$8 ~ /^(cmdline_proc_show|klp_new_0_0)$/ { print $4, $5, $8 }')"
check "cmdline.patch: no livepatch relocation needed" \
	"" "$(readelf -SW "$ko" | grep -o '\.klp\.rela\.[^ ]*')"
check "cmdline.patch: the new string is in the module" \
	"this has been live patched by klp-build" \
	"$(strings "$ko" | grep -x 'this has been live patched by klp-build')"

orc_entries() {
	readelf -rW "$1" | awk '/^Relocation section .\.rela\.orc_unwind_ip/ { on = 1; next }
		/^Relocation section/ { on = 0 }
		on && $5 ~ /^\.text\./ { n[$5]++ }
		END { for (s in n) print s, n[s] }' | sort | paste -sd ' '
}

use_case new-function
check "new-function.patch: the changed function and the new one it calls" \
	"0|changed fs/proc/cmdline.c cmdline_proc_show
new fs/proc/cmdline.c cmdline_show_line
klp-build: klp_new_function: 1 function, replace
$dir/out/klp_new_function.ko|" "$rc|$out|$err"
ko=$dir/out/klp_new_function.ko
check "new-function.patch: both in the module, with their ORC entries (objtool ran)" \
	"FUNC LOCAL cmdline_proc_show FUNC LOCAL cmdline_show_line|.text.cmdline_proc_show 2 .text.cmdline_show_line 6" \
	"$(readelf -sW "$ko" | awk '$8 ~ /^cmdline_(proc_show|show_line)$/ { print $4, $5, $8 }' |
		sort | paste -sd ' ')|$(orc_entries "$ko")"

use_case static-ref
check "static-ref.patch: module built" \
	"0|changed fs/proc/array.c proc_tid_stat
klp-build: klp_static_ref: 1 function, replace
$dir/out/klp_static_ref.ko|" "$rc|$out|$err"
ko=$dir/out/klp_static_ref.ko
check "static-ref.patch: livepatch relocation section for the call of do_task_stat" \
	".klp.rela.vmlinux..text.proc_tid_stat RELA AIo" \
	"$(readelf -SW "$ko" | sed 's/^ *\[ *[0-9]*\] //' |
		awk '$1 ~ /^\.klp\.rela\./ { print $1, $2, $(NF - 3) }')"
check "static-ref.patch: SHN_LIVEPATCH symbol .klp.sym.vmlinux.do_task_stat,0" \
	"FUNC GLOBAL [0xff20] .klp.sym.vmlinux.do_task_stat,0" \
	"$(readelf -sW "$ko" | awk '$NF ~ /^\.klp\.sym\./ { print $4, $5, $(NF - 1), $NF }')"

use_case version
check "version.patch: module built" \
	"0|changed fs/proc/version.c version_proc_show
klp-build: klp_version: 1 function, replace
$dir/out/klp_version.ko|" "$rc|$out|$err"
ko=$dir/out/klp_version.ko
check "version.patch: livepatch relocation for linux_proc_banner (global, not exported)" \
	".klp.rela.vmlinux..text.version_proc_show NOTYPE GLOBAL [0xff20] .klp.sym.vmlinux.linux_proc_banner,0" \
	"$(readelf -SW "$ko" | grep -o '\.klp\.rela\.[^ ]*') $(readelf -sW "$ko" |
		awk '$NF ~ /^\.klp\.sym\./ { print $4, $5, $(NF - 1), $NF }')"

kb static-local --name klp_static_local "$(fix static-local)"
check "static-local.patch: module built" \
	"0|changed kernel/reboot.c hw_protection_shutdown
klp-build: klp_static_local: 1 function, replace
$dir/out/klp_static_local.ko|" "$rc|$out|$err"
ko=$dir/out/klp_static_local.ko
check "static-local.patch: the static local and the file's statics are the kernel's (poweroff_work is the first of two)" \
	"OBJECT GLOBAL [0xff20] .klp.sym.vmlinux.allow_proceed.0,0
OBJECT GLOBAL [0xff20] .klp.sym.vmlinux.hw_failure_emergency_poweroff_work,0
OBJECT GLOBAL [0xff20] .klp.sym.vmlinux.poweroff_force,0
OBJECT GLOBAL [0xff20] .klp.sym.vmlinux.poweroff_work,1" \
	"$(readelf -sW "$ko" | awk '$NF ~ /^\.klp\.sym\./ { print $4, $5, $(NF - 1), $NF }' | sort)"
check "static-local.patch: hw_protection_shutdown and its .cold part, relocated by livepatch" \
	".klp.rela.vmlinux..text.hw_protection_shutdown .klp.rela.vmlinux..text.unlikely.hw_protection_shutdown" \
	"$(readelf -SW "$ko" | grep -o '\.klp\.rela\.[^ ]*' | sort | paste -sd ' ')"

kb inline-header --list "$(fix inline-header)"
check "inline-header.patch (a static inline of fs/proc/fd.h): its callers changed" \
	"0|changed fs/proc/fd.c proc_fd_link
changed fs/proc/fd.c seq_show
changed fs/proc/fd.c tid_fd_revalidate|" "$rc|$out|$err"

kb cumulative --name klp_cum --no-replace --keep "$(fix cmdline)" "$(fix static-ref)"
check "cmdline.patch + static-ref.patch: one cumulative module, no replace" \
	"0|changed fs/proc/array.c proc_tid_stat
changed fs/proc/cmdline.c cmdline_proc_show
klp-build: klp_cum: 2 functions, no replace
$dir/out/klp_cum.ko" "$rc|$out"
scratch=$(sed -n 's/^klp-build: scratch directory kept: //p' <<<"$err")
check "cumulative: klp_func entries and .replace in the generated source" \
	'.old_name = "proc_tid_stat",|.old_name = "cmdline_proc_show",|.replace = false,' \
	"$(grep -hoE '\.old_name = "[a-z_]+",|\.replace = [a-z]+,' "$scratch/mod/klp-patch.c" 2>&1 |
		paste -sd '|')"
check "cumulative: no .klp.ref marker left, its livepatch relocation there" \
	"0|.klp.sym.vmlinux.do_task_stat,0" \
	"$(readelf -sW "$dir/out/klp_cum.ko" >"$work/cum.syms"; grep -c ' \.klp\.ref\.' "$work/cum.syms")|$(grep -oE '\.klp\.sym\.vmlinux\.do_task_stat,[0-9]+' "$work/cum.syms" | sort -u)"

# --- refusals -------------------------------------------------------------------
refusal() {
	kb "refuse-$1" "$(fix "$1")"
	check "$1.patch: refused, exit 2, nothing left behind" \
		"2||klp-build: error: $2|" "$rc|$out|$err|$(leftovers)"
}
refusal asm "arch/x86/lib/clear_page_64.S: assembler files cannot be live patched"
refusal init "fs/proc/cmdline.c: proc_cmdline_init: __init function changed; init code is gone after boot"
refusal notrace "kernel/extable.c: core_kernel_text: function has no ftrace call site (notrace); it cannot be patched"
refusal global-init "kernel/panic.c: panic_timeout: changes the initial value of a variable; a patch cannot change data"
# A static inline of include/linux/errname.h, found through the include
# path: its caller pointer() is in lib/vsprintf.c, built without ftrace.
refusal inline-include "lib/vsprintf.c: pointer: function has no ftrace call site (notrace); it cannot be patched"
refusal struct "fs/proc/internal.h: struct proc_dir_entry: changes a struct layout (members or their types); a live patch cannot change data layout"

echo "# klp-build-test took $((SECONDS - start))s"
echo "$((n - failed)) passed, $failed failed"
((failed == 0))
