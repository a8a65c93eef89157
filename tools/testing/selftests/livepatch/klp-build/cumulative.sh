# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Two fixes, cmdline.patch and version.patch, in one cumulative module
# (atomic replace, the default), loaded over klp_cmdline, an earlier patch
# of one of them: it takes klp_cmdline's place; disabled, both files read
# as before.
# klp-build: cmdline.patch version.patch
# changed fs/proc/cmdline.c cmdline_proc_show
# changed fs/proc/version.c version_proc_show
cmdline_orig=$(cat /proc/cmdline)
version_orig=$(cat /proc/version)
klp_load klp_cmdline
klp_load klp_cumulative
wait_for 60 gone /sys/kernel/livepatch/klp_cmdline
check "klp_cumulative: klp_cmdline replaced (its sysfs directory gone)" "gone" \
	"$(gone /sys/kernel/livepatch/klp_cmdline && echo gone)"
check "klp_cumulative: /proc/cmdline and /proc/version patched" \
	"this has been live patched by klp-build|[live patched] $version_orig" \
	"$(cat /proc/cmdline)|$(cat /proc/version)"
klp_unload klp_cmdline
klp_disable klp_cumulative
check "klp_cumulative: disabled, /proc/cmdline and /proc/version as before" \
	"$cmdline_orig|$version_orig" "$(cat /proc/cmdline)|$(cat /proc/version)"
klp_unload klp_cumulative
