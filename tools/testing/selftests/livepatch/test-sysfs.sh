#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sysfs interface of a patch: files, modes and contents under
# /sys/kernel/livepatch/<patch>/, the <object>/<function,sympos> directories,
# and the errors of invalid writes.

# shellcheck source=functions.sh
. "$(dirname "$0")/functions.sh"

P=test_klp_sysfs
T=test_klp_target
D=test_klp_dups
DIR=$KLP_SYSFS/$P

klp_setup
klp_require_mod "$P" "$T" "$D"
if klp_mod_loaded "$T" || klp_mod_loaded "$D"; then
	die "$T or $D is already loaded"
fi
ORIG=$(cat /proc/cmdline)

start_test "files and modes of a patch with three objects"
load_mod "$T"
load_mod "$D"
check_file "/proc/$D" "$D: first copy
$D: second copy"
load_lp "$P"

check_mode "$KLP_SYSFS" 755
check_mode "$DIR" 755
check_mode "$DIR/enabled" 644
check_mode "$DIR/transition" 444
check_mode "$DIR/force" 200
for obj in vmlinux "$T" "$D"; do
	check_mode "$DIR/$obj" 755
	check_mode "$DIR/$obj/patched" 444
	check_file "$DIR/$obj/patched" 1
done
# A function directory is named <function>,<sympos>; sympos 0 shows as 1.
check_mode "$DIR/vmlinux/cmdline_proc_show,1" 755
check_mode "$DIR/$T/test_klp_target_greeting,1" 755
check_mode "$DIR/$D/test_klp_dup_show,2" 755
# This implementation adds a "calls" file to each object (6.1 has none):
# a line per function, how its calls are served (test-direct.sh).
calls=""
if [[ -e $DIR/vmlinux/calls ]]; then
	calls="calls "
	for obj in vmlinux "$T" "$D"; do
		check_mode "$DIR/$obj/calls" 444
	done
	check_file "$DIR/vmlinux/calls" "$(klp_calls_line direct cmdline_proc_show,1)"
	check_file "$DIR/$T/calls" "$(klp_calls_line direct test_klp_target_greeting,1)"
	check_file "$DIR/$D/calls" "$(klp_calls_line direct test_klp_dup_show,2)"
	check_write "$DIR/vmlinux/calls" x EACCES
	# Read 7 bytes at a time: the same as one read.
	check_eq "$DIR/$T/calls read 7 bytes at a time" \
		"$(klp_calls_line direct test_klp_target_greeting,1)" \
		"$(dd if="$DIR/$T/calls" bs=7 2> /dev/null)"
else
	klp_lacks_part "no calls file in $DIR/vmlinux"
fi
check_eq "entries of $DIR/vmlinux" "${calls}cmdline_proc_show,1 patched" \
	"$(cd "$DIR/vmlinux" && echo *)"
check_eq "entries of $DIR/$D" "${calls}patched test_klp_dup_show,2" \
	"$(cd "$DIR/$D" && echo *)"
check_eq "entries of $DIR/vmlinux/cmdline_proc_show,1" "" \
	"$(shopt -s nullglob && cd "$DIR/vmlinux/cmdline_proc_show,1" && echo *)"
for f in enabled transition force vmlinux "$T" "$D"; do
	[[ -e $DIR/$f ]] || die "$DIR/$f missing"
done

check_file "$DIR/enabled" 1
check_file "$DIR/transition" 0
check_file /proc/cmdline "$P: cmdline replaced"
check_file "/proc/$T/greeting" "$P: patched greeting"
# old_sympos = 2 replaced only the second copy of test_klp_dup_show()
check_file "/proc/$D" "$D: first copy
$P: second copy replaced"

start_test "invalid writes and reads"
check_write "$DIR/enabled" 1 EINVAL
check_write "$DIR/enabled" garbage EINVAL
check_write "$DIR/enabled" 2 EINVAL
check_write "$DIR/force" 1 EINVAL
check_write "$DIR/transition" 1 EACCES
check_write "$DIR/vmlinux/patched" 0 EACCES
err=$(cat "$DIR/force" 2>&1) && die "reading $DIR/force succeeded: '$err'"
check_eq "error reading $DIR/force" EACCES "$(klp_errno_of "$err")"
check_file "$DIR/enabled" 1
check_file "$DIR/transition" 0
check_file /proc/cmdline "$P: cmdline replaced"
check_log <<EOF
EOF

start_test "an object's patched file follows its module"
unload_mod "$D"
check_file "$DIR/$D/patched" 0
check_file "$DIR/vmlinux/patched" 1
check_file "$DIR/$T/patched" 1
check_file "$DIR/enabled" 1
load_mod "$D"
check_file "$DIR/$D/patched" 1
check_file "/proc/$D" "$D: first copy
$P: second copy replaced"
check_log <<EOF
klptest: rmmod $D
$D: module unloaded
livepatch: reverting patch '$P' on unloading module '$D'
klptest: insmod $D
livepatch: applying patch '$P' to loading module '$D'
$D: module loaded
EOF

start_test "disabling removes the patch directory"
disable_lp "$P"
[[ -e $DIR ]] && die "$DIR still exists"
check_file /proc/cmdline "$ORIG"
check_file "/proc/$T/greeting" "$T: unpatched greeting"
check_file "/proc/$D" "$D: first copy
$D: second copy"
unload_mod "$P"
unload_mod "$D"
unload_mod "$T"
check_log <<EOF
klptest: disable $P
$(log_disable_lines "$P")
klptest: rmmod $P
klptest: rmmod $D
$D: module unloaded
klptest: rmmod $T
$T: module unloaded
EOF

klp_pass
