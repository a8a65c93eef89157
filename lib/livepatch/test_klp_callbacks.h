/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the callback test patches: one line per callback, naming the
 * object and, for a module object, the state of the module at that time.
 *
 *   <callback>: obj=vmlinux
 *   <callback>: obj=<module> state=<COMING|LIVE|GOING|UNFORMED>
 */
#ifndef _TEST_KLP_CALLBACKS_H
#define _TEST_KLP_CALLBACKS_H

#include <linux/module.h>
#include <linux/livepatch.h>

static inline const char *klpt_obj_name(struct klp_object *obj)
{
	return obj->name ? obj->name : "vmlinux";
}

static inline const char *klpt_mod_state(struct module *mod)
{
	switch (mod->state) {
	case MODULE_STATE_LIVE:
		return "LIVE";
	case MODULE_STATE_COMING:
		return "COMING";
	case MODULE_STATE_GOING:
		return "GOING";
	case MODULE_STATE_UNFORMED:
		return "UNFORMED";
	}
	return "INVALID";
}

/* Compiled into each patch module, so pr_fmt gives that module's name. */
static inline void klpt_report(const char *callback, struct klp_object *obj)
{
	if (obj->mod)
		pr_info("%s: obj=%s state=%s\n", callback, klpt_obj_name(obj),
			klpt_mod_state(obj->mod));
	else
		pr_info("%s: obj=%s\n", callback, klpt_obj_name(obj));
}

#endif /* _TEST_KLP_CALLBACKS_H */
