// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_reload_patch - replaces test_klp_reload_show() of the module
 * test_klp_reload_target with a version that reads the module's static
 * variable "secret" and calls its static function
 * test_klp_reload_scramble().  Neither is exported: the references become
 * livepatch relocations (section .klp.rela.test_klp_reload_target..text),
 * which the core applies each time the target module loads.
 *
 * The references are declared in test_klp_reload.h with the marker names
 * that lib/livepatch/klp_convert.py turns into livepatch symbols after the
 * module is linked (see that script).  Never load an unconverted module:
 * the module loader resolves the weak markers to address 0.
 *
 * With the patch, /proc/test_klp_reload_target reads
 * "test_klp_reload_patch: patched <secret> <test_klp_reload_scramble(secret)>".
 */

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include "test_klp_reload.h"

static void test_klp_reload_patch_show(struct seq_file *m)
{
	seq_printf(m, "%s: patched %d %d\n", KBUILD_MODNAME,
		   test_klp_reload_secret,
		   test_klp_reload_scramble(test_klp_reload_secret));
}

static struct klp_func test_klp_reload_patch_funcs[] = {
	{
		.old_name = "test_klp_reload_show",
		.new_func = test_klp_reload_patch_show,
	},
	{ }
};

static struct klp_object test_klp_reload_patch_objs[] = {
	{
		.name = "test_klp_reload_target",
		.funcs = test_klp_reload_patch_funcs,
	},
	{ }
};

static struct klp_patch test_klp_reload_patch_patch = {
	.mod = THIS_MODULE,
	.objs = test_klp_reload_patch_objs,
};

static int __init test_klp_reload_patch_init(void)
{
	return klp_enable_patch(&test_klp_reload_patch_patch);
}

static void __exit test_klp_reload_patch_exit(void)
{
}

module_init(test_klp_reload_patch_init);
module_exit(test_klp_reload_patch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("Livepatch selftest: livepatch relocations against a module that is reloaded");
