# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# version.patch: the patched function reads linux_proc_banner, a global
# variable of vmlinux that is not exported (a livepatch relocation).
# changed fs/proc/version.c version_proc_show
patch_case klp_version "[live patched] @ORIG@" cat /proc/version
