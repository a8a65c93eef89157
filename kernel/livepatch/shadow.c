// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Shadow variables: data a live patch attaches to existing objects.
 *
 * A patch cannot change the layout of structures already in use, so it
 * keeps extra fields beside them, keyed by <object pointer, id>.  The
 * variables live in one hash table indexed by the object pointer.  Readers
 * use RCU; writers take klp_shadow_lock, a spinlock, so that every function
 * here works in atomic context when given GFP_ATOMIC.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/livepatch.h>

#define KLP_SHADOW_HASH_BITS	12

static DEFINE_HASHTABLE(klp_shadow_hash, KLP_SHADOW_HASH_BITS);
static DEFINE_SPINLOCK(klp_shadow_lock);

/**
 * struct klp_shadow - one shadow variable
 * @node:	entry in klp_shadow_hash
 * @rcu_head:	for freeing after readers are done
 * @obj:	the object it is attached to
 * @id:		the kind of data, chosen by the patch author
 * @data:	the data itself
 */
struct klp_shadow {
	struct hlist_node node;
	struct rcu_head rcu_head;
	void *obj;
	unsigned long id;
	char data[];
};

static struct klp_shadow *klp_shadow_find(void *obj, unsigned long id)
{
	struct klp_shadow *shadow;

	hash_for_each_possible_rcu(klp_shadow_hash, shadow, node,
				   (unsigned long)obj)
		if (shadow->obj == obj && shadow->id == id)
			return shadow;
	return NULL;
}

/**
 * klp_shadow_get() - look up a shadow variable
 * @obj: the object the variable is attached to
 * @id: the variable's id
 *
 * Return: the variable's data, or NULL when <@obj, @id> has none.
 */
void *klp_shadow_get(void *obj, unsigned long id)
{
	struct klp_shadow *shadow;

	rcu_read_lock();
	shadow = klp_shadow_find(obj, id);
	rcu_read_unlock();

	return shadow ? shadow->data : NULL;
}
EXPORT_SYMBOL_GPL(klp_shadow_get);

static void *klp_shadow_add(void *obj, unsigned long id, size_t size,
			    gfp_t gfp_flags, klp_shadow_ctor_t ctor,
			    void *ctor_data, bool existing_ok)
{
	struct klp_shadow *new, *old;
	unsigned long flags;
	int err;

	/* Fast path: no allocation when the variable already exists. */
	old = NULL;
	rcu_read_lock();
	old = klp_shadow_find(obj, id);
	rcu_read_unlock();
	if (old)
		goto exists;

	new = kzalloc(sizeof(*new) + size, gfp_flags);
	if (!new)
		return NULL;
	new->obj = obj;
	new->id = id;

	spin_lock_irqsave(&klp_shadow_lock, flags);

	/* Somebody may have added it while we allocated. */
	old = klp_shadow_find(obj, id);
	if (old) {
		spin_unlock_irqrestore(&klp_shadow_lock, flags);
		kfree(new);
		goto exists;
	}

	/* The constructor runs before anybody can see the variable. */
	if (ctor) {
		err = ctor(obj, new->data, ctor_data);
		if (err) {
			spin_unlock_irqrestore(&klp_shadow_lock, flags);
			kfree(new);
			pr_err("Failed to construct shadow variable <%p, %lx> (%d)\n",
			       obj, id, err);
			return NULL;
		}
	}

	hash_add_rcu(klp_shadow_hash, &new->node, (unsigned long)obj);
	spin_unlock_irqrestore(&klp_shadow_lock, flags);
	return new->data;

exists:
	if (existing_ok)
		return old->data;
	pr_warn("Duplicate shadow variable <%p, %lx>\n", obj, id);
	return NULL;
}

/**
 * klp_shadow_alloc() - attach a new shadow variable to an object
 * @obj:	the object
 * @id:		the variable's id
 * @size:	size of the data
 * @gfp_flags:	allocation flags; GFP_ATOMIC in atomic context
 * @ctor:	optional constructor, called with a spinlock held (it must
 *		not sleep) before the variable becomes visible; an error
 *		from it cancels the allocation
 * @ctor_data:	passed to @ctor
 *
 * The data is zeroed before @ctor runs.
 *
 * Return: the new variable's data, or NULL when <@obj, @id> already exists
 * (with a warning in the log), on allocation failure or when @ctor failed.
 */
void *klp_shadow_alloc(void *obj, unsigned long id, size_t size,
		       gfp_t gfp_flags, klp_shadow_ctor_t ctor,
		       void *ctor_data)
{
	return klp_shadow_add(obj, id, size, gfp_flags, ctor, ctor_data,
			      false);
}
EXPORT_SYMBOL_GPL(klp_shadow_alloc);

/**
 * klp_shadow_get_or_alloc() - find a shadow variable, or attach a new one
 * @obj:	the object
 * @id:		the variable's id
 * @size:	size of the data
 * @gfp_flags:	allocation flags; GFP_ATOMIC in atomic context
 * @ctor:	optional constructor, as for klp_shadow_alloc(); not called
 *		when the variable already exists
 * @ctor_data:	passed to @ctor
 *
 * Return: the existing or new variable's data, or NULL on allocation failure
 * or when @ctor failed.
 */
void *klp_shadow_get_or_alloc(void *obj, unsigned long id, size_t size,
			      gfp_t gfp_flags, klp_shadow_ctor_t ctor,
			      void *ctor_data)
{
	return klp_shadow_add(obj, id, size, gfp_flags, ctor, ctor_data,
			      true);
}
EXPORT_SYMBOL_GPL(klp_shadow_get_or_alloc);

/* Called with klp_shadow_lock held. */
static void klp_shadow_remove(struct klp_shadow *shadow,
			      klp_shadow_dtor_t dtor)
{
	hash_del_rcu(&shadow->node);
	if (dtor)
		dtor(shadow->obj, shadow->data);
	kfree_rcu(shadow, rcu_head);
}

/**
 * klp_shadow_free() - detach and free one shadow variable
 * @obj:	the object
 * @id:		the variable's id
 * @dtor:	optional destructor, called with a spinlock held before the
 *		variable is freed
 *
 * Nothing happens when <@obj, @id> does not exist.
 */
void klp_shadow_free(void *obj, unsigned long id, klp_shadow_dtor_t dtor)
{
	struct klp_shadow *shadow;
	unsigned long flags;

	spin_lock_irqsave(&klp_shadow_lock, flags);
	shadow = klp_shadow_find(obj, id);
	if (shadow)
		klp_shadow_remove(shadow, dtor);
	spin_unlock_irqrestore(&klp_shadow_lock, flags);
}
EXPORT_SYMBOL_GPL(klp_shadow_free);

/**
 * klp_shadow_free_all() - free the variables of one id on every object
 * @id:		the variables' id
 * @dtor:	optional destructor, as for klp_shadow_free()
 */
void klp_shadow_free_all(unsigned long id, klp_shadow_dtor_t dtor)
{
	struct klp_shadow *shadow;
	struct hlist_node *tmp;
	unsigned long flags;
	int bkt;

	spin_lock_irqsave(&klp_shadow_lock, flags);
	hash_for_each_safe(klp_shadow_hash, bkt, tmp, shadow, node)
		if (shadow->id == id)
			klp_shadow_remove(shadow, dtor);
	spin_unlock_irqrestore(&klp_shadow_lock, flags);
}
EXPORT_SYMBOL_GPL(klp_shadow_free_all);
