/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Body of the system state test patches test_klp_state, test_klp_state2
 * and test_klp_state3.  Each .c file sets:
 *
 *   KLPT_STATE_VERSION  version of state KLPT_STATE_ID the patch declares,
 *                       0 to declare no state at all
 *
 * All of them are atomic replace patches with callbacks on vmlinux only
 * (klp_get_prev_state() may only be used during a transition, which rules
 * out the callbacks run when a module comes or goes).
 *
 * The "system state" is a block of data, created by the first patch that
 * needs it, handed from each patch to the one replacing it, and freed when
 * the last patch goes:
 *   pre_patch     allocates it, unless a replaced patch already has it;
 *   post_patch    takes it over from the replaced patch, bumping the
 *                 generation;
 *   pre_unpatch   reports it;
 *   post_unpatch  frees it, unless it still belongs to a replaced patch
 *                 (a reversed transition).
 * Every callback prints the versions it sees through klp_get_state() and
 * klp_get_prev_state() and the owner of the data.
 */
#ifndef _TEST_KLP_STATE_H
#define _TEST_KLP_STATE_H

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/slab.h>
#include <linux/string.h>

#define KLPT_STATE_ID	0x5e7

struct klpt_state_data {
	char creator[MODULE_NAME_LEN];
	unsigned int generation;
};

static struct klp_patch klpt_patch;

static void klpt_show(const char *callback)
{
	struct klp_state *own = klp_get_state(&klpt_patch, KLPT_STATE_ID);
	struct klp_state *prev = klp_get_prev_state(KLPT_STATE_ID);
	struct klpt_state_data *data;
	char own_desc[16] = "none";
	char prev_desc[16] = "none";

	if (own)
		snprintf(own_desc, sizeof(own_desc), "v%u", own->version);
	if (prev)
		snprintf(prev_desc, sizeof(prev_desc), "v%u", prev->version);

	data = own && own->data ? own->data : prev ? prev->data : NULL;
	if (data)
		pr_info("%s: state %s, previous %s, data by %s gen %u\n",
			callback, own_desc, prev_desc, data->creator,
			data->generation);
	else
		pr_info("%s: state %s, previous %s, no data\n",
			callback, own_desc, prev_desc);
}

static int klpt_pre_patch(struct klp_object *obj)
{
	struct klp_state *own = klp_get_state(&klpt_patch, KLPT_STATE_ID);
	struct klp_state *prev = klp_get_prev_state(KLPT_STATE_ID);
	struct klpt_state_data *data;

	klpt_show("pre_patch");
	if (!own || (prev && prev->data))
		return 0;

	data = kzalloc(sizeof(*data), GFP_KERNEL);
	if (!data)
		return -ENOMEM;
	strscpy(data->creator, KBUILD_MODNAME, sizeof(data->creator));
	data->generation = 1;
	own->data = data;
	pr_info("pre_patch: allocated new data\n");
	return 0;
}

static void klpt_post_patch(struct klp_object *obj)
{
	struct klp_state *own = klp_get_state(&klpt_patch, KLPT_STATE_ID);
	struct klp_state *prev = klp_get_prev_state(KLPT_STATE_ID);
	struct klpt_state_data *data;

	if (own && prev && prev->data) {
		data = prev->data;
		prev->data = NULL;
		data->generation++;
		own->data = data;
		pr_info("post_patch: took over data by %s, now gen %u\n",
			data->creator, data->generation);
	}
	klpt_show("post_patch");
}

static void klpt_pre_unpatch(struct klp_object *obj)
{
	klpt_show("pre_unpatch");
}

static void klpt_post_unpatch(struct klp_object *obj)
{
	struct klp_state *own = klp_get_state(&klpt_patch, KLPT_STATE_ID);
	struct klpt_state_data *data = own ? own->data : NULL;

	klpt_show("post_unpatch");
	if (!data)
		return;
	pr_info("post_unpatch: freeing data by %s gen %u\n", data->creator,
		data->generation);
	own->data = NULL;
	kfree(data);
}

static struct klp_func klpt_funcs[] = {
	{ }
};

static struct klp_object klpt_objs[] = {
	{
		.funcs = klpt_funcs,
		.callbacks = {
			.pre_patch = klpt_pre_patch,
			.post_patch = klpt_post_patch,
			.pre_unpatch = klpt_pre_unpatch,
			.post_unpatch = klpt_post_unpatch,
		},
	},
	{ }
};

#if KLPT_STATE_VERSION
static struct klp_state klpt_states[] = {
	{
		.id = KLPT_STATE_ID,
		.version = KLPT_STATE_VERSION,
	},
	{ }
};

#define KLPT_STATES	klpt_states
#else
#define KLPT_STATES	NULL
#endif

static struct klp_patch klpt_patch = {
	.mod = THIS_MODULE,
	.objs = klpt_objs,
	.states = KLPT_STATES,
	.replace = true,
};

static int __init klpt_state_init(void)
{
	return klp_enable_patch(&klpt_patch);
}

static void __exit klpt_state_exit(void)
{
}

module_init(klpt_state_init);
module_exit(klpt_state_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");

#endif /* _TEST_KLP_STATE_H */
