# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# syscall.patch: the uname() system call (newuname) returns a new
# sysname: uname -s prints Linux-klp.  The changed function,
# __do_sys_newuname, is an out-of-line "static inline" of SYSCALL_DEFINE1
# and has no ftrace call site: its caller, the system call's entry
# __x64_sys_newuname, is patched and calls the module's copy.
# copied kernel/sys.c __do_sys_newuname (notrace: its callers patched)
# changed kernel/sys.c __x64_sys_newuname
patch_case klp_syscall "Linux-klp" uname -s
