// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_cond_resched_patch - replaces test_klp_cond_resched_value() of
 * test_klp_cond_resched, whose kernel thread never sleeps: the transition
 * can only complete if that thread switches in cond_resched().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/livepatch.h>
#include <linux/module.h>

/* The original returns from + 1. */
static int livepatch_test_klp_cond_resched_value(int from)
{
	return from + 2;
}

static struct klp_func funcs[] = {
	{
		.old_name = "test_klp_cond_resched_value",
		.new_func = livepatch_test_klp_cond_resched_value,
	},
	{ }
};

static struct klp_object objs[] = {
	{
		.name = "test_klp_cond_resched",
		.funcs = funcs,
	},
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init test_klp_cond_resched_patch_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit test_klp_cond_resched_patch_exit(void)
{
}

module_init(test_klp_cond_resched_patch_init);
module_exit(test_klp_cond_resched_patch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch test: a patch that a busy kernel thread must switch to in cond_resched()");
