// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_build_mod - a module that fixes of the klp-build corpus
 * (tools/testing/selftests/livepatch/klp-build) change: live patches of a
 * module target, built by scripts/livepatch/klp-build.
 *
 * /sys/module/test_klp_build_mod/parameters/state
 *	test_klp_build_mod_state(): counts its calls in a static local
 *	variable and reports them
 * /sys/module/test_klp_build_mod/parameters/greeting
 *	test_klp_build_mod_greeting()
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>

static int test_klp_build_mod_state(char *buf, const struct kernel_param *kp)
{
	static unsigned int reads;

	reads++;
	return sysfs_emit(buf, "unpatched, read %u times\n", reads);
}

static const struct kernel_param_ops test_klp_build_mod_state_ops = {
	.get = test_klp_build_mod_state,
};
module_param_cb(state, &test_klp_build_mod_state_ops, NULL, 0444);
MODULE_PARM_DESC(state, "how often it was read");

static int test_klp_build_mod_greeting(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "hello from %s\n", THIS_MODULE->name);
}

static const struct kernel_param_ops test_klp_build_mod_greeting_ops = {
	.get = test_klp_build_mod_greeting,
};
module_param_cb(greeting, &test_klp_build_mod_greeting_ops, NULL, 0444);
MODULE_PARM_DESC(greeting, "a greeting");

static int __init test_klp_build_mod_init(void)
{
	return 0;
}

static void __exit test_klp_build_mod_exit(void)
{
}

module_init(test_klp_build_mod_init);
module_exit(test_klp_build_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch test: target of the klp-build corpus");
