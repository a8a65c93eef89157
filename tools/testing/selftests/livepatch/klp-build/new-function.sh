# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# new-function.patch: cmdline_proc_show calls a function the fix adds,
# which the module carries: it writes "klp: " before the command line.
# changed fs/proc/cmdline.c cmdline_proc_show
# new fs/proc/cmdline.c cmdline_show_line
patch_case klp_new_function "klp: @ORIG@" cat /proc/cmdline
