# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# global-rw.patch: the patched warn_count_show reads and writes
# panic_print, a global variable of vmlinux that is not exported: it must
# be the running kernel's (set to 40 through sysctl first), and what the
# patched code writes must be seen there (sysctl reads 41, then 42).
# changed kernel/panic.c warn_count_show
pp=/proc/sys/kernel/panic_print
saved=$(cat $pp)
echo 40 >$pp
klp_load klp_global_rw
check "klp_global_rw: reads of /sys/kernel/warn_count count in panic_print" \
	"0 panic_print=41|0 panic_print=42|42" \
	"$(cat /sys/kernel/warn_count)|$(cat /sys/kernel/warn_count)|$(cat $pp)"
klp_disable klp_global_rw
check "klp_global_rw: disabled, warn_count as before, panic_print left alone" \
	"0|42" "$(cat /sys/kernel/warn_count)|$(cat $pp)"
klp_unload klp_global_rw
echo "$saved" >$pp
