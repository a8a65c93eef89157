// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately leaky module, the target of livepatch-shadow-fix1 and
 * livepatch-shadow-fix2.
 *
 * Every second a delayed work item creates one "dummy" object, numbered
 * #1, #2, ..., and keeps it on a list for DUMMY_LIFETIME_SECS seconds; a
 * second work item checks the dummies once a second and releases those
 * whose time is up.  Each dummy also gets a 16-byte side buffer, which
 * dummy_keep_side() is supposed to remember and does not: nothing ever
 * frees it, so the module leaks 16 bytes per dummy.
 *
 * struct dummy has no field for the buffer, and a live patch cannot add
 * one to a structure already in use.  livepatch-shadow-fix1 hangs the
 * pointer on the dummy as a shadow variable instead, and frees it with the
 * dummy.
 *
 * Try it by hand (the messages go to the kernel log: dmesg -w):
 *
 *   # insmod livepatch-shadow-mod.ko
 *     livepatch_shadow_mod: dummy #1: side buffer allocated, pointer lost
 *     livepatch_shadow_mod: created dummy #1, expires in 10 s
 *     ... ten seconds later:
 *     livepatch_shadow_mod: released dummy #1
 *
 *   # insmod livepatch-shadow-fix1.ko
 *     livepatch_shadow_fix1: dummy #14: side buffer kept in a shadow variable
 *     livepatch_shadow_mod: created dummy #14, expires in 10 s
 *     ...
 *     livepatch_shadow_fix1: dummy #14: side buffer freed
 *     livepatch_shadow_fix1: released dummy #14
 *     Dummies created before fix1 still leak their buffer: they have no
 *     shadow variable ("released dummy #N" alone).
 *
 *   # insmod livepatch-shadow-fix2.ko
 *     fix2 counts how often each dummy was checked before it expired:
 *     livepatch_shadow_fix2: dummy #20: checked 11 times, released
 *     livepatch_shadow_fix2: dummy #20: side buffer freed
 *
 *   Undo in reverse order:
 *   # echo 0 > /sys/kernel/livepatch/livepatch_shadow_fix2/enabled
 *   # rmmod livepatch_shadow_fix2
 *   # echo 0 > /sys/kernel/livepatch/livepatch_shadow_fix1/enabled
 *   # rmmod livepatch_shadow_fix1
 *     (frees the side buffers of the dummies still alive)
 *   # rmmod livepatch_shadow_mod
 *     livepatch_shadow_mod: removed, N dummies released at exit
 *
 * (Wait for /sys/kernel/livepatch/<patch>/transition to read 0 after each
 * enable, and for the patch directory to go after each disable.)
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/jiffies.h>

#define DUMMY_LIFETIME_SECS	10
#define SIDE_BUFFER_SIZE	16

/*
 * The layout of struct dummy is part of the "released" module; the fix
 * modules copy it and must not change it.
 */
struct dummy {
	struct list_head node;
	unsigned long expires;
	unsigned int serial;
};

static LIST_HEAD(dummies);
static DEFINE_MUTEX(dummies_lock);
static unsigned int last_serial;

/*
 * The functions a live patch may replace are kept out of line and
 * uncloned, so that they exist under their own names.
 */

/* The bug: @side should be remembered, so that dummy_free() can free it. */
static noinline __noclone void dummy_keep_side(struct dummy *d, void *side)
{
	pr_info("dummy #%u: side buffer allocated, pointer lost\n", d->serial);
}

static noinline __noclone void dummy_free(struct dummy *d)
{
	pr_info("released dummy #%u\n", d->serial);
	kfree(d);
}

static noinline __noclone bool dummy_check(struct dummy *d, unsigned long now)
{
	return time_after(now, d->expires);
}

static struct dummy *dummy_alloc(void)
{
	struct dummy *fresh;
	void *side;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
	if (!fresh)
		return NULL;
	fresh->serial = ++last_serial;
	fresh->expires = jiffies + DUMMY_LIFETIME_SECS * HZ;

	side = kzalloc(SIDE_BUFFER_SIZE, GFP_KERNEL);
	if (side)
		dummy_keep_side(fresh, side);

	pr_info("created dummy #%u, expires in %d s\n", fresh->serial,
		DUMMY_LIFETIME_SECS);
	return fresh;
}

static void create_fn(struct work_struct *work);
static void reap_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(create_work, create_fn);
static DECLARE_DELAYED_WORK(reap_work, reap_fn);

static void create_fn(struct work_struct *work)
{
	struct dummy *d = dummy_alloc();

	if (d) {
		mutex_lock(&dummies_lock);
		list_add_tail(&d->node, &dummies);
		mutex_unlock(&dummies_lock);
	}
	schedule_delayed_work(&create_work, HZ);
}

static void reap_fn(struct work_struct *work)
{
	struct dummy *d, *tmp;
	unsigned long now = jiffies;

	mutex_lock(&dummies_lock);
	list_for_each_entry_safe(d, tmp, &dummies, node) {
		if (dummy_check(d, now)) {
			list_del(&d->node);
			dummy_free(d);
		}
	}
	mutex_unlock(&dummies_lock);
	schedule_delayed_work(&reap_work, HZ);
}

static int __init shadow_mod_init(void)
{
	schedule_delayed_work(&create_work, 0);
	schedule_delayed_work(&reap_work, HZ / 2);
	return 0;
}

static void __exit shadow_mod_exit(void)
{
	struct dummy *d, *tmp;
	int n = 0;

	cancel_delayed_work_sync(&create_work);
	cancel_delayed_work_sync(&reap_work);

	/* dummy_free() may be a patched version here: that is intended. */
	mutex_lock(&dummies_lock);
	list_for_each_entry_safe(d, tmp, &dummies, node) {
		list_del(&d->node);
		dummy_free(d);
		n++;
	}
	mutex_unlock(&dummies_lock);
	pr_info("removed, %d dummies released at exit\n", n);
}

module_init(shadow_mod_init);
module_exit(shadow_mod_exit);
MODULE_DESCRIPTION("Leaky target module for the shadow variable samples");
MODULE_LICENSE("GPL");
