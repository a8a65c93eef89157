# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# static-ref.patch: the patched proc_tid_stat calls do_task_stat, a static
# function of the same file (a livepatch relocation), after writing
# "klp ": the third field of a thread's stat line is then the command,
# "(cut)", instead of its state, "R".
# changed fs/proc/array.c proc_tid_stat
patch_case klp_static_ref "(cut)" cut -d ' ' -f 3 /proc/thread-self/stat
