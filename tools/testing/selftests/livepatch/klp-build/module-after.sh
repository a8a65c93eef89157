# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# module-after.patch: a changed function of a module, test_klp_build_mod,
# that is loaded after the patch: the livepatch core patches it when it
# comes (its livepatch relocation to the module's __this_module applied
# then), and the module can go and come again.
# changed lib/livepatch/test_klp_build_mod.c test_klp_build_mod_greeting (module test_klp_build_mod)
gr=/sys/module/test_klp_build_mod/parameters/greeting
klp_load klp_module_after
modprobe test_klp_build_mod
check "klp_module_after: the module loaded after the patch is patched" \
	"hello from test_klp_build_mod, patched before it was loaded" "$(cat $gr)"
rmmod test_klp_build_mod
modprobe test_klp_build_mod
check "klp_module_after: unloaded and loaded again, patched again" \
	"hello from test_klp_build_mod, patched before it was loaded" "$(cat $gr)"
klp_disable klp_module_after
check "klp_module_after: disabled, the module's own function again" \
	"hello from test_klp_build_mod" "$(cat $gr)"
klp_unload klp_module_after
rmmod test_klp_build_mod
