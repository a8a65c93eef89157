# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# module-before.patch: a changed function of a module, test_klp_build_mod,
# loaded before the patch (a klp_object named after the module).  The
# function counts its calls in a static local variable: the patched one
# must go on counting in the running module's (read twice before).
# changed lib/livepatch/test_klp_build_mod.c test_klp_build_mod_state (module test_klp_build_mod)
st=/sys/module/test_klp_build_mod/parameters/state
modprobe test_klp_build_mod
check "klp_module_before: target loaded, read twice" \
	"unpatched, read 1 times|unpatched, read 2 times" "$(cat $st)|$(cat $st)"
klp_load klp_module_before
check "klp_module_before: the patched function counts on in the module's variable" \
	"patched, read 3 times|patched, read 4 times" "$(cat $st)|$(cat $st)"
klp_disable klp_module_before
check "klp_module_before: disabled, the module's own function again" \
	"unpatched, read 5 times" "$(cat $st)"
klp_unload klp_module_before
rmmod test_klp_build_mod
