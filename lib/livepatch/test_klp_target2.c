// SPDX-License-Identifier: GPL-2.0
/*
 * test_klp_target2 - a second module for the livepatch selftests to patch
 * (by test_klp_twotargets), one whose init can be made to fail.
 *
 * /proc/test_klp_target2	output of test_klp_target2_greeting()
 *
 * The init logs what test_klp_target2_greeting() gives, which shows whether
 * a patch was applied before the init ran.  Loaded with init_err=<negative
 * errno>, the init then fails with that error.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/string.h>

static int init_err;
module_param(init_err, int, 0444);
MODULE_PARM_DESC(init_err, "make the init fail with this negative errno");

static struct proc_dir_entry *test_klp_target2_entry;

/*
 * What test_klp_target2_greeting() gives (test_klp_twotargets has the same
 * layout).  A pointer rather than a buffer and a constant size, which the
 * compiler would fold into a renamed clone of the function.
 */
struct test_klp_target2_res {
	char text[64];
};

/*
 * Replaced by test_klp_twotargets, by name: __noclone keeps the compiler
 * from specializing it into a .constprop or .isra copy the callers would
 * call instead.
 */
static noinline __noclone void
test_klp_target2_greeting(struct test_klp_target2_res *res)
{
	strscpy(res->text, "test_klp_target2: unpatched greeting",
		sizeof(res->text));
}

static int greeting_show(struct seq_file *m, void *v)
{
	struct test_klp_target2_res res;

	test_klp_target2_greeting(&res);
	seq_printf(m, "%s\n", res.text);
	return 0;
}

static int __init test_klp_target2_init(void)
{
	struct test_klp_target2_res res;

	test_klp_target2_greeting(&res);
	pr_info("init: %s\n", res.text);

	if (init_err > 0 || init_err < -MAX_ERRNO)
		return -EINVAL;
	if (init_err) {
		pr_info("init fails with %d\n", init_err);
		return init_err;
	}

	test_klp_target2_entry = proc_create_single(KBUILD_MODNAME, 0444, NULL,
						    greeting_show);
	if (!test_klp_target2_entry)
		return -ENOMEM;

	pr_info("module loaded\n");
	return 0;
}

static void __exit test_klp_target2_exit(void)
{
	proc_remove(test_klp_target2_entry);
	pr_info("module unloaded\n");
}

module_init(test_klp_target2_init);
module_exit(test_klp_target2_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch selftest: second target module, init may fail");
