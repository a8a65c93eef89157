// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_stress_big - replaces the functions test_klp_stress_f000 ..
 * f999 of test_klp_stress_target with version 2 (see test_klp_stress.h).
 * Module parameter nfuncs (1..1000, default all) patches only the first
 * nfuncs of them.
 */

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/string.h>
#include "test_klp_stress.h"

static unsigned int nfuncs = TEST_KLP_STRESS_NFUNCS;
module_param(nfuncs, uint, 0444);
MODULE_PARM_DESC(nfuncs, "how many of the 1000 functions to patch (default 1000)");

#define BIG_FUNC(a, b, c)						\
static u32 test_klp_stress_big_f##a##b##c(void)				\
{									\
	return TEST_KLP_STRESS_VAL(2, TEST_KLP_STRESS_IDX(a, b, c));	\
}

TEST_KLP_STRESS_FOR_EACH(BIG_FUNC)

#define BIG_ENTRY(a, b, c)						\
	{								\
		.old_name = TEST_KLP_STRESS_NAME(a, b, c),		\
		.new_func = test_klp_stress_big_f##a##b##c,		\
	},
static struct klp_func test_klp_stress_big_funcs[TEST_KLP_STRESS_NFUNCS + 1] = {
	TEST_KLP_STRESS_FOR_EACH(BIG_ENTRY)
	{ }
};

static struct klp_object test_klp_stress_big_objs[] = {
	{
		.name = "test_klp_stress_target",
		.funcs = test_klp_stress_big_funcs,
	},
	{ }
};

static struct klp_patch test_klp_stress_big_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_stress_big_objs,
};

static int __init test_klp_stress_big_init(void)
{
	if (!nfuncs || nfuncs > TEST_KLP_STRESS_NFUNCS)
		return -EINVAL;
	/* an empty entry ends the array */
	memset(&test_klp_stress_big_funcs[nfuncs], 0,
	       sizeof(test_klp_stress_big_funcs[0]));
	return klp_enable_patch(&test_klp_stress_big_patch);
}

static void __exit test_klp_stress_big_exit(void)
{
}

module_init(test_klp_stress_big_init);
module_exit(test_klp_stress_big_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: patch of up to 1000 functions of a module");
