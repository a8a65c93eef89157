# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# new-global.patch: a new global variable, loadavg_proc_reads, which the
# module carries (zero at load): /proc/loadavg gains a sixth field that
# counts the reads of the patched function.
# changed fs/proc/loadavg.c loadavg_proc_show
sixth() { awk '{ print $6 }' /proc/loadavg; }
klp_load klp_new_global
check "klp_new_global: /proc/loadavg counts its reads in the new variable" \
	"reads=1|reads=2|reads=3" "$(sixth)|$(sixth)|$(sixth)"
klp_disable klp_new_global
check "klp_new_global: disabled, /proc/loadavg has five fields again" \
	"5" "$(awk '{ print NF }' /proc/loadavg)"
klp_unload klp_new_global
