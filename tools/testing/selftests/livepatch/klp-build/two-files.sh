# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# two-files.patch: one fix in fs/proc/version.c and fs/proc/cmdline.c:
# both patched functions call a global function that the fix adds to
# version.c (cmdline.c's object refers to it by name, the module's link
# resolves it).
# changed fs/proc/cmdline.c cmdline_proc_show
# changed fs/proc/version.c version_proc_show
# new fs/proc/version.c proc_klp_tag
cmdline_orig=$(cat /proc/cmdline)
version_orig=$(cat /proc/version)
klp_load klp_two_files
check "klp_two_files: /proc/cmdline and /proc/version tagged by the new function" \
	"[cmdline, patched in two files] $cmdline_orig|[version, patched in two files] $version_orig" \
	"$(cat /proc/cmdline)|$(cat /proc/version)"
klp_disable klp_two_files
check "klp_two_files: disabled, both as before" \
	"$cmdline_orig|$version_orig" "$(cat /proc/cmdline)|$(cat /proc/version)"
klp_unload klp_two_files
