# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# shadow-callbacks.patch: a fix written with the helper header of
# klp-build (<linux/livepatch_helpers.h>): four callbacks of the vmlinux
# klp_object, declared with KLP_*_CALLBACK(), and a shadow variable of
# kernel_kobj that counts the reads of /sys/kernel/fscaps (post_patch
# starts it at 100; post_unpatch frees it).
# callback pre_patch kernel/ksysfs.c fscaps_pre_patch
# callback post_patch kernel/ksysfs.c fscaps_post_patch
# callback pre_unpatch kernel/ksysfs.c fscaps_pre_unpatch
# callback post_unpatch kernel/ksysfs.c fscaps_post_unpatch
# changed kernel/ksysfs.c fscaps_show
fix_log() { dmesg | sed -n 's/^\[[ 0-9.]*\] fscaps fix: //p' | paste -sd '|'; }
orig=$(cat /sys/kernel/fscaps)
klp_load klp_shadow_callbacks
check "klp_shadow_callbacks: pre_patch and post_patch ran" \
	"pre_patch|post_patch, reads start at 100" "$(fix_log)"
check "klp_shadow_callbacks: the shadow variable counts the reads" \
	"$orig reads=101|$orig reads=102" \
	"$(cat /sys/kernel/fscaps)|$(cat /sys/kernel/fscaps)"
klp_disable klp_shadow_callbacks
check "klp_shadow_callbacks: pre_unpatch saw 102 reads, post_unpatch freed the variable" \
	"pre_patch|post_patch, reads start at 100|pre_unpatch, reads at 102|post_unpatch, shadow variables freed: yes" \
	"$(fix_log)"
check "klp_shadow_callbacks: /sys/kernel/fscaps as before" "$orig" "$(cat /sys/kernel/fscaps)"
klp_unload klp_shadow_callbacks
