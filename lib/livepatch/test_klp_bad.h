/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Common part of the test_klp_bad_* modules.  Each of them hands one kind of
 * invalid input to klp_enable_patch() from its module_init, logs the result
 * and returns it, so that insmod fails with that error.
 */
#ifndef _TEST_KLP_BAD_H
#define _TEST_KLP_BAD_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

/* A replacement that must never be reached: the patch is refused. */
static int __maybe_unused test_klp_bad_cmdline(struct seq_file *m, void *v)
{
	seq_puts(m, KBUILD_MODNAME ": must not be called\n");
	return 0;
}

static inline int test_klp_bad_enable(struct klp_patch *patch)
{
	int ret = klp_enable_patch(patch);

	pr_info("klp_enable_patch() returned %d\n", ret);
	return ret;
}

#endif
