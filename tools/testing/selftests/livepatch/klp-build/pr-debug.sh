# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# pr-debug.patch: a pr_debug() added to param_attr_show (the read of a
# module parameter in sysfs), in the place of a blank line: kernel/params.c
# has pr_debug() calls in other functions and code with __LINE__ in it
# below (a line more would change param_sysfs_init, an __init function).
# Its dynamic debug descriptor (__dyndbg) goes with the function into the
# module, alone: turned on through dynamic_debug/control (module
# klp_pr_debug), each read of a parameter logs a line; disabled, none.
# changed kernel/params.c param_attr_show
ctl=/sys/kernel/debug/dynamic_debug/control
param=/sys/module/printk/parameters/time
logged() { dmesg | grep -c 'time read by cat$'; }
klp_load klp_pr_debug
check "klp_pr_debug: the module's pr_debug is listed in dynamic_debug/control" \
	"kernel/params.c:574 [klp_pr_debug]param_attr_show =_ \"%s read by %s\\n\"" \
	"$(grep '\[klp_pr_debug\]' $ctl)"
before=$(logged)
cat $param >/dev/null
check "klp_pr_debug: off by default, nothing logged" "$before" "$(logged)"
echo 'module klp_pr_debug +p' >$ctl
cat $param >/dev/null
cat $param >/dev/null
check "klp_pr_debug: +p, two reads logged two lines" "$((before + 2))" "$(logged)"
klp_disable klp_pr_debug
cat $param >/dev/null
check "klp_pr_debug: disabled, the original function logs nothing" "$((before + 2))" "$(logged)"
klp_unload klp_pr_debug
check "klp_pr_debug: unloaded, its descriptor is gone from control" \
	"" "$(grep '\[klp_pr_debug\]' $ctl)"
