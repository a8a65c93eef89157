// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_nudge - patches test_klp_target_nudge(), in which a reader sleeps
 * and re-evaluates its signals whenever it wakes.  Its patching transition
 * completes only if the fake signal that livepatch sends to the blocked
 * reader survives that (test-transition.sh).
 */
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static void test_klp_nudge_replacement(struct seq_file *m)
{
	seq_puts(m, KBUILD_MODNAME ": patched nudge\n");
}

static struct klp_func test_klp_nudge_funcs[] = {
	{
		.old_name = "test_klp_target_nudge",
		.new_func = test_klp_nudge_replacement,
	},
	{ }
};

static struct klp_object test_klp_nudge_objs[] = {
	{
		.name = "test_klp_target",
		.funcs = test_klp_nudge_funcs,
	},
	{ }
};

static struct klp_patch test_klp_nudge_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_nudge_objs,
};

static int __init test_klp_nudge_init(void)
{
	return klp_enable_patch(&test_klp_nudge_patch);
}

static void __exit test_klp_nudge_exit(void)
{
}

module_init(test_klp_nudge_init);
module_exit(test_klp_nudge_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: patch a function whose sleeper re-evaluates its signals");
