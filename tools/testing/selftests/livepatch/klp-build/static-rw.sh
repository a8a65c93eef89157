# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# static-rw.patch: the patched oops_count_show reads and writes oops_limit,
# a static variable of kernel/exit.c: it must be the running kernel's (set
# to 4321 through sysctl first, 10000 at boot), and what the patched code
# writes must be seen there.
# changed kernel/exit.c oops_count_show
ol=/proc/sys/kernel/oops_limit
saved=$(cat $ol)
echo 4321 >$ol
klp_load klp_static_rw
check "klp_static_rw: reads of /sys/kernel/oops_count count in oops_limit" \
	"0 oops_limit=4322|0 oops_limit=4323|4323" \
	"$(cat /sys/kernel/oops_count)|$(cat /sys/kernel/oops_count)|$(cat $ol)"
klp_disable klp_static_rw
check "klp_static_rw: disabled, oops_count as before, oops_limit left alone" \
	"0|4323" "$(cat /sys/kernel/oops_count)|$(cat $ol)"
klp_unload klp_static_rw
echo "$saved" >$ol
