/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for source fixes that scripts/livepatch/klp-build turns into a
 * live patch module.  klp-build adds the directory of this header to
 * the include path of the code it compiles, so a fix includes it as
 * <linux/livepatch_helpers.h>; the kernel tree does not have it.
 *
 * Callbacks: KLP_PRE_PATCH_CALLBACK(fn) and the three others declare fn,
 * a function of the patched file, as that callback of the klp_object the
 * file belongs to (vmlinux or its module); see
 * Documentation/livepatch/callbacks.rst.  The declaration is a pointer to
 * fn in a section ".klp.callbacks.<kind>" that klp-diff reads and that
 * the module does not carry; the function itself goes into the module.
 *
 * Shadow variables: typed wrappers of the klp_shadow_*() API; see
 * Documentation/livepatch/shadow-vars.rst.
 */
#ifndef _LINUX_LIVEPATCH_HELPERS_H
#define _LINUX_LIVEPATCH_HELPERS_H

#include <linux/compiler.h>
#include <linux/livepatch.h>

typedef int (*klp_helpers_pre_patch_t)(struct klp_object *obj);
typedef void (*klp_helpers_cb_t)(struct klp_object *obj);

/* int fn(struct klp_object *obj): non-zero refuses to patch the object */
#define KLP_PRE_PATCH_CALLBACK(fn)					\
	static klp_helpers_pre_patch_t __used				\
	__section(".klp.callbacks.pre_patch") __klp_pre_patch_##fn = fn
/* void fn(struct klp_object *obj) */
#define KLP_POST_PATCH_CALLBACK(fn)					\
	static klp_helpers_cb_t __used					\
	__section(".klp.callbacks.post_patch") __klp_post_patch_##fn = fn
#define KLP_PRE_UNPATCH_CALLBACK(fn)					\
	static klp_helpers_cb_t __used					\
	__section(".klp.callbacks.pre_unpatch") __klp_pre_unpatch_##fn = fn
#define KLP_POST_UNPATCH_CALLBACK(fn)					\
	static klp_helpers_cb_t __used					\
	__section(".klp.callbacks.post_unpatch") __klp_post_unpatch_##fn = fn

/*
 * KLP_SHADOW_GET(obj, id, type): the shadow variable @id of @obj as a
 * pointer to @type, NULL if there is none.
 */
#define KLP_SHADOW_GET(obj, id, type)					\
	((type *)klp_shadow_get(obj, id))

/*
 * KLP_SHADOW_GET_OR_ZALLOC(obj, id, type, gfp): the shadow variable @id
 * of @obj, allocated zero-filled with the size of @type when @obj has
 * none yet; NULL if that allocation failed.
 */
#define KLP_SHADOW_GET_OR_ZALLOC(obj, id, type, gfp)			\
	((type *)klp_shadow_get_or_alloc(obj, id, sizeof(type), gfp,	\
					 NULL, NULL))

/* KLP_SHADOW_FREE_ALL(id): free the shadow variables @id of every object. */
#define KLP_SHADOW_FREE_ALL(id)	klp_shadow_free_all(id, NULL)

#endif /* _LINUX_LIVEPATCH_HELPERS_H */
