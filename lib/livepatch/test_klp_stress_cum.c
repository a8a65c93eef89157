// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_stress_cum - cumulative (.replace = true) patch of test-stress.sh:
 * version 3 of test_klp_stress_f000 .. f009 and of the consistency pair of
 * test_klp_stress_target, of test_klp_stress_mod2_val() of
 * test_klp_stress_target2, and of vmlinux's cmdline_proc_show() (which
 * then reads "test_klp_stress_cum: cmdline v3").  It replaces every other
 * patch: the functions it leaves out go back to their original code.
 */

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include "test_klp_stress.h"

#define CUM_FUNC(a, b, c)						\
static u32 test_klp_stress_cum_f##a##b##c(void)				\
{									\
	return TEST_KLP_STRESS_VAL(3, TEST_KLP_STRESS_IDX(a, b, c));	\
}

TEST_KLP_STRESS_FOR_CUM(CUM_FUNC)

static u32 test_klp_stress_cum_caller(struct test_klp_stress_req *req)
{
	return test_klp_stress_new_caller(req, 3, TEST_KLP_STRESS_SHADOW_V3);
}

static u32 test_klp_stress_cum_callee(struct test_klp_stress_req *req)
{
	return test_klp_stress_new_callee(req, 3, TEST_KLP_STRESS_SHADOW_V3);
}

static u32 test_klp_stress_cum_mod2_val(void)
{
	return TEST_KLP_STRESS_VAL(3, TEST_KLP_STRESS_MOD2);
}

static int test_klp_stress_cum_cmdline(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": cmdline v3\n");
	return 0;
}

#define CUM_ENTRY(a, b, c)						\
	{								\
		.old_name = TEST_KLP_STRESS_NAME(a, b, c),		\
		.new_func = test_klp_stress_cum_f##a##b##c,		\
	},
static struct klp_func test_klp_stress_cum_funcs[] = {
	TEST_KLP_STRESS_FOR_CUM(CUM_ENTRY)
	{
		.old_name = "test_klp_stress_caller",
		.new_func = test_klp_stress_cum_caller,
	},
	{
		.old_name = "test_klp_stress_callee",
		.new_func = test_klp_stress_cum_callee,
	},
	{ }
};

static struct klp_func test_klp_stress_cum_funcs2[] = {
	{
		.old_name = "test_klp_stress_mod2_val",
		.new_func = test_klp_stress_cum_mod2_val,
	},
	{ }
};

static struct klp_func test_klp_stress_cum_vmlinux_funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = test_klp_stress_cum_cmdline,
	},
	{ }
};

static struct klp_object test_klp_stress_cum_objs[] = {
	{
		/* vmlinux */
		.funcs = test_klp_stress_cum_vmlinux_funcs,
	},
	{
		.name = "test_klp_stress_target",
		.funcs = test_klp_stress_cum_funcs,
	},
	{
		.name = "test_klp_stress_target2",
		.funcs = test_klp_stress_cum_funcs2,
	},
	{ }
};

static struct klp_patch test_klp_stress_cum_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_stress_cum_objs,
	.replace = true,
};

static int __init test_klp_stress_cum_init(void)
{
	return klp_enable_patch(&test_klp_stress_cum_patch);
}

static void __exit test_klp_stress_cum_exit(void)
{
}

module_init(test_klp_stress_cum_init);
module_exit(test_klp_stress_cum_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: cumulative replace patch of the stress test");
