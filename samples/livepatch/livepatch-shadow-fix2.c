// SPDX-License-Identifier: GPL-2.0
/*
 * Second fix for livepatch-shadow-mod, stacked on livepatch-shadow-fix1:
 * count how often each dummy is checked for expiry.
 *
 * The counter is a second shadow variable, SV_CHECK_COUNT, on the same
 * dummy.  It is not created when the dummy is allocated but the first time
 * the patched dummy_check() sees the dummy, with klp_shadow_get_or_alloc():
 * this way dummies that already existed before this patch get a counter
 * too.  The replacement dummy_free() reports the count, then releases both
 * shadow variables (it replaces fix1's dummy_free(), so it has to free
 * fix1's side buffer as well).
 *
 * Try it by hand, with livepatch-shadow-mod.ko and livepatch-shadow-fix1.ko
 * loaded (dmesg -w):
 *
 *   # insmod livepatch-shadow-fix2.ko
 *     livepatch_shadow_fix2: dummy #20: checked 11 times, released
 *     livepatch_shadow_fix2: dummy #20: side buffer freed
 *
 *   Dummies already alive when fix2 came in report fewer checks, counted
 *   from the moment the patch took effect.
 *
 *   # echo 0 > /sys/kernel/livepatch/livepatch_shadow_fix2/enabled
 *   # rmmod livepatch_shadow_fix2
 *     fix1's messages come back; the remaining counters are dropped.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/jiffies.h>

/* Must match livepatch-shadow-mod.c. */
struct dummy {
	struct list_head node;
	unsigned long expires;
	unsigned int serial;
};

/* Shadow variable ids; SV_SIDE_BUFFER belongs to livepatch-shadow-fix1. */
#define SV_SIDE_BUFFER		1
#define SV_CHECK_COUNT		2

/* Layout of fix1's SV_SIDE_BUFFER shadow variable. */
struct side_shadow {
	void *buf;
	unsigned int serial;
};

static void side_shadow_dtor(void *obj, void *shadow_data)
{
	struct side_shadow *shadow = shadow_data;

	kfree(shadow->buf);
	pr_info("dummy #%u: side buffer freed\n", shadow->serial);
}

static bool fix2_dummy_check(struct dummy *d, unsigned long now)
{
	unsigned int *count;

	/* A new counter starts zeroed; no constructor needed. */
	count = klp_shadow_get_or_alloc(d, SV_CHECK_COUNT, sizeof(*count),
					GFP_KERNEL, NULL, NULL);
	if (count)
		(*count)++;

	return time_after(now, d->expires);
}

static void fix2_dummy_free(struct dummy *d)
{
	unsigned int *count = klp_shadow_get(d, SV_CHECK_COUNT);

	if (count)
		pr_info("dummy #%u: checked %u times, released\n", d->serial,
			*count);
	else
		pr_info("dummy #%u: never checked, released\n", d->serial);

	klp_shadow_free(d, SV_CHECK_COUNT, NULL);
	klp_shadow_free(d, SV_SIDE_BUFFER, side_shadow_dtor);
	kfree(d);
}

static struct klp_func fix2_funcs[] = {
	{
		.old_name = "dummy_check",
		.new_func = fix2_dummy_check,
	},
	{
		.old_name = "dummy_free",
		.new_func = fix2_dummy_free,
	},
	{ }
};

static struct klp_object fix2_objs[] = {
	{
		.name = "livepatch_shadow_mod",
		.funcs = fix2_funcs,
	},
	{ }
};

static struct klp_patch fix2_patch = {
	.mod = THIS_MODULE,
	.objs = fix2_objs,
};

static int __init shadow_fix2_init(void)
{
	return klp_enable_patch(&fix2_patch);
}

static void __exit shadow_fix2_exit(void)
{
	/* Counters are plain numbers: nothing to release but the variables. */
	klp_shadow_free_all(SV_CHECK_COUNT, NULL);
}

module_init(shadow_fix2_init);
module_exit(shadow_fix2_exit);
MODULE_DESCRIPTION("Live patch sample: second shadow variable, get_or_alloc");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
