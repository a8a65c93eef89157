# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# warn-static-key.patch: show_softirqs gains a WARN_ON_ONCE() (its
# __bug_table entry goes into the module) and a branch on a static key,
# housekeeping_overridden (off: no CPU is isolated in this guest; without
# CONFIG_JUMP_LABEL a static key is read like a variable and there is no
# __jump_table).  The header line of /proc/softirqs starts with "klp".
# changed fs/proc/softirqs.c show_softirqs
head3() { head -n 1 /proc/softirqs | cut -c 1-3; }
patch_case klp_warn_static_key "klp" head3
