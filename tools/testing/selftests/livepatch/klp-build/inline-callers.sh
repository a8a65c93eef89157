# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# inline-callers.patch: get_task_state(), a static inline of
# fs/proc/array.c, changed: both its callers are patched, task_state
# (the State: line of /proc/PID/status) and do_task_stat (/proc/PID/stat,
# whose state letter stays "R" for a running task).
# changed fs/proc/array.c do_task_stat
# changed fs/proc/array.c proc_pid_status
state() { grep '^State:' /proc/self/status; }
patch_case klp_inline_callers "State:	R (running, live patched)" state
