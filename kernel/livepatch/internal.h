/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Declarations shared by the files of the live patching core.  Nothing here
 * is visible to patch modules.
 */
#ifndef _LIVEPATCH_INTERNAL_H
#define _LIVEPATCH_INTERNAL_H

#include <linux/livepatch.h>

/*
 * klp_mutex serialises every change to the set of patches: enabling,
 * disabling, transitions, module load/unload and the freeing of patches.
 */
extern struct mutex klp_mutex;

/* Enabled patches, oldest first; the newest one wins on a shared function. */
extern struct list_head klp_patch_list;

#define klp_for_each_registered(patch) \
	list_for_each_entry(patch, &klp_patch_list, list)

static inline bool klp_obj_is_module(struct klp_object *obj)
{
	return obj->name;
}

/* An object can be patched when its code is present in memory. */
static inline bool klp_object_present(struct klp_object *obj)
{
	return !obj->name || obj->mod;
}

/* core.c */
void klp_retire_patch(struct klp_patch *patch);
void klp_retire_replaced(struct klp_patch *new_patch);
void klp_unhook_replaced(struct klp_patch *new_patch);
void klp_drop_nops(struct klp_patch *new_patch);
int klp_run_pre_patch(struct klp_object *obj);
void klp_run_post_patch(struct klp_object *obj);
void klp_run_pre_unpatch(struct klp_object *obj);
void klp_run_post_unpatch(struct klp_object *obj);

/* patch.c */
int klp_redirect_object(struct klp_object *obj);
void klp_restore_object(struct klp_object *obj);
void klp_restore_patch(struct klp_patch *patch);
void klp_restore_nops(struct klp_patch *patch);
struct klp_func *klp_func_below(struct klp_func *func);

/* transition.c */
extern struct klp_patch *klp_trans_patch;
extern int klp_trans_target;

void klp_trans_prepare(struct klp_patch *patch, int state);
void klp_trans_cancel(void);
void klp_trans_begin(void);
void klp_trans_first_round(void);
void klp_trans_reverse(void);
void klp_trans_force(void);
void klp_sync_handlers(void);
ssize_t klp_show_pending_tasks(struct klp_patch *patch, char *buf);
ssize_t klp_show_duration(struct klp_patch *patch, char *buf);
ssize_t klp_show_nudged(struct klp_patch *patch, char *buf);
ssize_t klp_show_blockers(struct klp_patch *patch, char *buf);

/* state.c */
bool klp_states_compatible(struct klp_patch *patch);

/*
 * The KUnit tests (livepatch_kunit.c) call a few static functions of the
 * core.  KLP_VISIBLE_IF_KUNIT drops their "static" in kernels built with
 * CONFIG_LIVEPATCH_KUNIT_TEST only; other kernels are unchanged.
 */
#if IS_ENABLED(CONFIG_LIVEPATCH_KUNIT_TEST)
#define KLP_VISIBLE_IF_KUNIT

/* core.c */
int klp_lookup_symbol(const char *objname, const char *name,
		      unsigned long sympos, unsigned long *addr);
int klp_check_patch(struct klp_patch *patch);

/* livepatch_kunit_twin.c: a function named like one in livepatch_kunit.c */
extern int (*const klp_kunit_twin_b)(int x);
#else
#define KLP_VISIBLE_IF_KUNIT static
#endif

#endif /* _LIVEPATCH_INTERNAL_H */
