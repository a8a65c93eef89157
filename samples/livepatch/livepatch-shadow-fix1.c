// SPDX-License-Identifier: GPL-2.0
/*
 * First fix for livepatch-shadow-mod: stop leaking the side buffer.
 *
 * struct dummy has no field to remember the side buffer in, and a live
 * patch cannot change the layout of a structure that is already in use.
 * Instead, the replacement dummy_keep_side() attaches a shadow variable
 * with id SV_SIDE_BUFFER to the dummy, holding the buffer's address, and
 * the replacement dummy_free() frees that shadow variable; its destructor
 * frees the buffer.
 *
 * Try it by hand, with livepatch-shadow-mod.ko loaded (dmesg -w):
 *
 *   # insmod livepatch-shadow-fix1.ko
 *     livepatch_shadow_fix1: dummy #14: side buffer kept in a shadow variable
 *     livepatch_shadow_mod: created dummy #14, expires in 10 s
 *     ... about ten seconds later:
 *     livepatch_shadow_fix1: dummy #14: side buffer freed
 *     livepatch_shadow_fix1: released dummy #14
 *
 *   Dummies created before the patch also go through the patched
 *   dummy_free(), but have no shadow variable: "released dummy #N" alone,
 *   their buffers stay leaked.
 *
 *   # echo 0 > /sys/kernel/livepatch/livepatch_shadow_fix1/enabled
 *   # rmmod livepatch_shadow_fix1
 *     livepatch_shadow_fix1: dummy #N: side buffer freed
 *     (once per SV_SIDE_BUFFER shadow variable left: those of dummies still
 *     alive, and those of dummies that the original dummy_free() released
 *     after the patch was disabled, which knows nothing of shadow
 *     variables.  The exit routine drops them all, and the buffers with
 *     them.)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/slab.h>
#include <linux/list.h>

/* Must match livepatch-shadow-mod.c. */
struct dummy {
	struct list_head node;
	unsigned long expires;
	unsigned int serial;
};

/* Shadow variable ids; livepatch-shadow-fix2.c uses the same numbers. */
#define SV_SIDE_BUFFER		1

/*
 * What the SV_SIDE_BUFFER shadow variable holds (fix2 frees it too, with
 * the same layout).  The serial number is copied in so that the destructor
 * never has to look at the dummy: by the time this module's exit routine
 * drops the leftovers, their dummies may already be gone.
 */
struct side_shadow {
	void *buf;
	unsigned int serial;
};

/* Runs under the shadow lock: it only copies the data in. */
static int side_shadow_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	struct side_shadow *shadow = shadow_data;

	*shadow = *(struct side_shadow *)ctor_data;
	return 0;
}

static void side_shadow_dtor(void *obj, void *shadow_data)
{
	struct side_shadow *shadow = shadow_data;

	kfree(shadow->buf);
	pr_info("dummy #%u: side buffer freed\n", shadow->serial);
}

static void fix1_dummy_keep_side(struct dummy *d, void *side)
{
	struct side_shadow init = { .buf = side, .serial = d->serial };

	if (!klp_shadow_alloc(d, SV_SIDE_BUFFER, sizeof(init), GFP_KERNEL,
			      side_shadow_ctor, &init)) {
		/* Nowhere to keep it: better not to have it at all. */
		kfree(side);
		pr_info("dummy #%u: no shadow variable, side buffer dropped\n",
			d->serial);
		return;
	}
	pr_info("dummy #%u: side buffer kept in a shadow variable\n", d->serial);
}

static void fix1_dummy_free(struct dummy *d)
{
	klp_shadow_free(d, SV_SIDE_BUFFER, side_shadow_dtor);
	pr_info("released dummy #%u\n", d->serial);
	kfree(d);
}

static struct klp_func fix1_funcs[] = {
	{
		.old_name = "dummy_keep_side",
		.new_func = fix1_dummy_keep_side,
	},
	{
		.old_name = "dummy_free",
		.new_func = fix1_dummy_free,
	},
	{ }
};

static struct klp_object fix1_objs[] = {
	{
		.name = "livepatch_shadow_mod",
		.funcs = fix1_funcs,
	},
	{ }
};

static struct klp_patch fix1_patch = {
	.mod = THIS_MODULE,
	.objs = fix1_objs,
};

static int __init shadow_fix1_init(void)
{
	return klp_enable_patch(&fix1_patch);
}

static void __exit shadow_fix1_exit(void)
{
	/*
	 * The patch is disabled by now, so the original dummy_free() no
	 * longer looks at shadow variables: drop what is left of ours.
	 */
	klp_shadow_free_all(SV_SIDE_BUFFER, side_shadow_dtor);
}

module_init(shadow_fix1_init);
module_exit(shadow_fix1_exit);
MODULE_DESCRIPTION("Live patch sample: shadow variable fixing a leak");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
