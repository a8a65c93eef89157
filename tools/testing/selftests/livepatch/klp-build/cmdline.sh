# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# cmdline.patch: a changed vmlinux function that prints a new string
# literal instead of the command line.
# changed fs/proc/cmdline.c cmdline_proc_show
patch_case klp_cmdline "this has been live patched by klp-build" cat /proc/cmdline
