// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_stress_consist - version 2 of the consistency pair of
 * test_klp_stress_target (a caller and a callee that only work together,
 * see test_klp_stress.h) and of test_klp_stress_mod2_val() of
 * test_klp_stress_target2, which is loaded and unloaded while this patch
 * is enabled.
 */

#include <linux/livepatch.h>
#include <linux/module.h>
#include "test_klp_stress.h"

static u32 test_klp_stress_consist_caller(struct test_klp_stress_req *req)
{
	return test_klp_stress_new_caller(req, 2, TEST_KLP_STRESS_SHADOW_V2);
}

static u32 test_klp_stress_consist_callee(struct test_klp_stress_req *req)
{
	return test_klp_stress_new_callee(req, 2, TEST_KLP_STRESS_SHADOW_V2);
}

static u32 test_klp_stress_consist_mod2_val(void)
{
	return TEST_KLP_STRESS_VAL(2, TEST_KLP_STRESS_MOD2);
}

static struct klp_func test_klp_stress_consist_funcs[] = {
	{
		.old_name = "test_klp_stress_caller",
		.new_func = test_klp_stress_consist_caller,
	},
	{
		.old_name = "test_klp_stress_callee",
		.new_func = test_klp_stress_consist_callee,
	},
	{ }
};

static struct klp_func test_klp_stress_consist_funcs2[] = {
	{
		.old_name = "test_klp_stress_mod2_val",
		.new_func = test_klp_stress_consist_mod2_val,
	},
	{ }
};

static struct klp_object test_klp_stress_consist_objs[] = {
	{
		.name = "test_klp_stress_target",
		.funcs = test_klp_stress_consist_funcs,
	},
	{
		.name = "test_klp_stress_target2",
		.funcs = test_klp_stress_consist_funcs2,
	},
	{ }
};

static struct klp_patch test_klp_stress_consist_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_stress_consist_objs,
};

static int __init test_klp_stress_consist_init(void)
{
	return klp_enable_patch(&test_klp_stress_consist_patch);
}

static void __exit test_klp_stress_consist_exit(void)
{
}

module_init(test_klp_stress_consist_init);
module_exit(test_klp_stress_consist_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: stress patch of two interdependent functions");
