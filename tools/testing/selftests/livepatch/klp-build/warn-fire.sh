# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# warn-fire.patch: a changed function of test_klp_build_mod warns (once)
# and goes on.  The warning is a trap (ud2) that the kernel looks up in the
# __bug_table of the code's module: without the entry klp-build carried
# into the patch module, it is an "invalid opcode" Oops, not a warning,
# and the read fails.  WARN_TAINT_ONCE with TAINT_TEST taints the kernel
# N, not W, which the host's verdict forbids; the host
# (harness/klp-build-test.sh) takes exactly this warning, named after the
# patch module, out of its search for splats.  The once-flag of the
# warning is a new static variable of the file, which renumbers the other
# function's static local (reads.1 becomes reads.2 in the patched object):
# that function, changed too, must still count in the running module's
# reads.1, and no function the fix leaves alone may count as changed.
# changed lib/livepatch/test_klp_build_mod.c test_klp_build_mod_state (module test_klp_build_mod)
# changed lib/livepatch/test_klp_build_mod.c test_klp_build_mod_greeting (module test_klp_build_mod)
gr=/sys/module/test_klp_build_mod/parameters/greeting
st=/sys/module/test_klp_build_mod/parameters/state
warned() {
	dmesg | grep -cE "WARNING: CPU: [0-9]+ PID: [0-9]+ at lib/livepatch/test_klp_build_mod.c:[0-9]+ .*\[klp_warn_fire\]$"
}
modprobe test_klp_build_mod
check "klp_warn_fire: target loaded, read twice" \
	"unpatched, read 1 times|unpatched, read 2 times" "$(cat $st)|$(cat $st)"
klp_load klp_warn_fire
check "klp_warn_fire: the patched function goes on after its warning, twice" \
	"hello from test_klp_build_mod, after a warning|hello from test_klp_build_mod, after a warning" \
	"$(cat $gr)|$(cat $gr)"
check "klp_warn_fire: one warning report naming the fix's file and line and the patch module, its message, no invalid opcode" \
	"1|1|0" "$(warned)|$(dmesg | grep -c 'klp-build: a warning from patched code')|$(dmesg | grep -c 'invalid opcode')"
tainted=$(cat /proc/sys/kernel/tainted)
check "klp_warn_fire: the warning tainted the kernel N (TAINT_TEST, bit 18), not W (bit 9)" \
	"1|0" "$(((tainted >> 18) & 1))|$(((tainted >> 9) & 1))"
check "klp_warn_fire: the other patched function counts on in the module's reads.1" \
	"warn-fire, read 3 times" "$(cat $st)"
klp_disable klp_warn_fire
check "klp_warn_fire: disabled, the module's own functions again" \
	"hello from test_klp_build_mod|unpatched, read 4 times" "$(cat $gr)|$(cat $st)"
klp_unload klp_warn_fire
rmmod test_klp_build_mod
