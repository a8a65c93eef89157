// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Live patching core: the registry of patches, their sysfs interface,
 * validation and symbol resolution, livepatch relocations, enabling and
 * disabling, and the module loader hooks.
 *
 * Lifetime of a patch
 * -------------------
 * klp_enable_patch() validates the patch description, resolves it, creates
 * /sys/kernel/livepatch/<module>, adds the patch to klp_patch_list and starts
 * the patching transition.  The patch module holds a reference on itself
 * until the patch is freed.  Writing 0 to "enabled" starts the unpatching
 * transition; when it completes the patch leaves klp_patch_list and is freed
 * from a work item, because sysfs files cannot be removed from their own
 * write handler.  The patch structures live in the patch module, so freeing
 * waits for the release of the patch's kobject (and thus of all its
 * children) before the module reference is dropped.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/elf.h>
#include <linux/kallsyms.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleloader.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/wait.h>
#include <asm/cacheflush.h>
#ifdef CONFIG_X86
#include <asm/livepatch.h>
#endif
#include "internal.h"

/* Serialises all changes to patches; see internal.h. */
DEFINE_MUTEX(klp_mutex);
LIST_HEAD(klp_patch_list);

/* /sys/kernel/livepatch */
static struct kobject *klp_sysfs_root;

static const char *klp_obj_name(struct klp_object *obj)
{
	return klp_obj_is_module(obj) ? obj->name : "vmlinux";
}

/* sympos as shown in sysfs: an unspecified position means the only one. */
static unsigned long klp_func_sympos(struct klp_func *func)
{
	return func->old_sympos ? func->old_sympos : 1;
}

/*
 * Symbol resolution
 * -----------------
 * A name is looked up in one object.  old_sympos 0 requires the name to be
 * unique there; N > 0 picks the N-th occurrence in kallsyms (address) order.
 */
struct klp_sym_search {
	unsigned long pos;	/* wanted occurrence, 0 for "the only one" */
	unsigned long count;	/* occurrences seen so far */
	unsigned long addr;	/* address of the last one taken */
};

/* Returns non-zero to stop the search. */
static int klp_sym_seen(struct klp_sym_search *s, unsigned long addr)
{
	s->count++;
	s->addr = addr;
	if (s->pos)
		return s->count == s->pos;
	return s->count > 1;
}

static int klp_vmlinux_sym_cb(void *data, unsigned long addr)
{
	return klp_sym_seen(data, addr);
}

/*
 * Call @fn on each defined symbol of @mod until it returns true.  Context:
 * preemption disabled, as a module's symbol table is replaced when its init
 * ends and freed after an RCU-sched grace period.
 */
static void klp_each_mod_sym(struct module *mod,
			     bool (*fn)(const Elf_Sym *, const char *, void *),
			     void *data)
{
	struct mod_kallsyms *ks = rcu_dereference_sched(mod->kallsyms);
	unsigned int i;

	for (i = 0; i < ks->num_symtab; i++) {
		const Elf_Sym *sym = &ks->symtab[i];

		if (sym->st_shndx == SHN_UNDEF)
			continue;
		if (fn(sym, ks->strtab + sym->st_name, data))
			break;
	}
}

/* klp_each_mod_sym() on module @modname, if it is loaded. */
static void klp_each_sym_of(const char *modname,
			    bool (*fn)(const Elf_Sym *, const char *, void *),
			    void *data)
{
	struct module *mod;

	/* The module cannot go away: its going path needs klp_mutex. */
	preempt_disable();
	mod = find_module(modname);
	if (mod)
		klp_each_mod_sym(mod, fn, data);
	preempt_enable();
}

struct klp_name_search {
	const char *name;
	struct klp_sym_search *s;
};

static bool klp_name_search_cb(const Elf_Sym *sym, const char *name,
			       void *data)
{
	struct klp_name_search *ns = data;

	return !strcmp(name, ns->name) && klp_sym_seen(ns->s, sym->st_value);
}

static void klp_search_module(const char *modname, const char *name,
			      struct klp_sym_search *s)
{
	struct klp_name_search ns = { .name = name, .s = s };

	klp_each_sym_of(modname, klp_name_search_cb, &ns);
}

/*
 * Whether @count occurrences of @name in @objname (NULL: vmlinux) make
 * position @sympos resolvable; say why not in the kernel log.  A search
 * for position N may stop at the N-th occurrence, so more than N are
 * fine.
 */
static int klp_check_occurrences(const char *objname, const char *name,
				 unsigned long sympos, unsigned long count)
{
	if (!objname)
		objname = "vmlinux";

	if (!count) {
		pr_err("symbol '%s' not found in symbol table\n", name);
	} else if (!sympos && count > 1) {
		pr_err("unresolvable ambiguity for symbol '%s' in object '%s'\n",
		       name, objname);
	} else if (sympos && count < sympos) {
		pr_err("symbol position %lu for symbol '%s' in object '%s' not found\n",
		       sympos, name, objname);
	} else {
		return 0;
	}
	return -EINVAL;
}

KLP_VISIBLE_IF_KUNIT int klp_lookup_symbol(const char *objname,
					   const char *name,
					   unsigned long sympos,
					   unsigned long *addr)
{
	struct klp_sym_search s = { .pos = sympos };

	if (objname && strcmp(objname, "vmlinux"))
		klp_search_module(objname, name, &s);
	else
		kallsyms_on_each_match_symbol(klp_vmlinux_sym_cb, name, &s);

	if (klp_check_occurrences(objname, name, sympos, s.count)) {
		*addr = 0;
		return -EINVAL;
	}
	*addr = s.addr;
	return 0;
}

/*
 * Livepatch relocations
 * ---------------------
 * Sections ".klp.rela.<object>.<section>" (flag SHF_RELA_LIVEPATCH) hold
 * relocations against symbols named ".klp.sym.<object>.<symbol>,<sympos>"
 * (section index SHN_LIVEPATCH).  They are resolved and applied when the
 * target object is present: by the module loader for vmlinux, by the core
 * for a module when it is (or already was) loaded.
 */
#define KLP_RELA_PREFIX	".klp.rela."
#define KLP_SYM_PREFIX	".klp.sym."

/* Copy the text up to @stop into @buf of @size; return the rest or NULL. */
static const char *klp_take_field(const char *str, char stop, char *buf,
				  size_t size)
{
	const char *end = strchr(str, stop);
	size_t len;

	if (!end)
		return NULL;
	len = end - str;
	if (!len || len >= size)
		return NULL;
	memcpy(buf, str, len);
	buf[len] = '\0';
	return end + 1;
}

static int klp_parse_rela_secname(const char *secname, char *objname)
{
	if (strncmp(secname, KLP_RELA_PREFIX, strlen(KLP_RELA_PREFIX)))
		return -EINVAL;
	secname += strlen(KLP_RELA_PREFIX);
	return klp_take_field(secname, '.', objname, MODULE_NAME_LEN) ?
	       0 : -EINVAL;
}

static int klp_parse_sym_name(const char *name, char *objname, char *symname,
			      unsigned long *sympos)
{
	const char *rest;

	if (strncmp(name, KLP_SYM_PREFIX, strlen(KLP_SYM_PREFIX)))
		return -EINVAL;
	rest = name + strlen(KLP_SYM_PREFIX);
	rest = klp_take_field(rest, '.', objname, MODULE_NAME_LEN);
	if (!rest)
		return -EINVAL;
	rest = klp_take_field(rest, ',', symname, KSYM_NAME_LEN);
	if (!rest || !*rest)
		return -EINVAL;
	return kstrtoul(rest, 10, sympos);
}

static int klp_resolve_rela_symbols(Elf_Shdr *sechdrs, const char *strtab,
				    unsigned int symndx, Elf_Shdr *relasec,
				    const char *sec_objname)
{
	char objname[MODULE_NAME_LEN], symname[KSYM_NAME_LEN];
	Elf_Rela *relas = (Elf_Rela *)relasec->sh_addr;
	Elf_Sym *symtab = (Elf_Sym *)sechdrs[symndx].sh_addr;
	unsigned int i, nr = relasec->sh_size / sizeof(Elf_Rela);
	unsigned long sympos, addr;
	int ret;

	for (i = 0; i < nr; i++) {
		Elf_Sym *sym = symtab + ELF_R_SYM(relas[i].r_info);
		const char *name = strtab + sym->st_name;

		if (sym->st_shndx != SHN_LIVEPATCH) {
			pr_err("symbol %s is not marked as a livepatch symbol\n",
			       name);
			return -EINVAL;
		}

		if (klp_parse_sym_name(name, objname, symname, &sympos)) {
			pr_err("symbol %s has an incorrectly formatted name\n",
			       name);
			return -EINVAL;
		}

		/*
		 * A module-specific section is applied each time that module
		 * loads; vmlinux symbols belong in the vmlinux section.
		 */
		if (!strcmp(objname, "vmlinux") &&
		    strcmp(sec_objname, "vmlinux")) {
			pr_err("invalid access to vmlinux symbol '%s' from module-specific livepatch relocation section\n",
			       symname);
			return -EINVAL;
		}

		ret = klp_lookup_symbol(objname, symname, sympos, &addr);
		if (ret)
			return ret;
		sym->st_value = addr;
	}
	return 0;
}

/**
 * klp_apply_section_relocs() - apply one livepatch relocation section
 * @pmod:	the live patch module
 * @sechdrs:	its section headers
 * @shstrtab:	its section name string table
 * @strtab:	its symbol string table
 * @symindex:	index of its symbol table section
 * @secindex:	index of the relocation section
 * @objname:	the object being patched, NULL for vmlinux
 *
 * Sections that belong to another object are left alone.  The module loader
 * calls this for vmlinux while loading the patch module; the core calls it
 * for a module object when that module is present.
 *
 * Return: 0 or a negative errno.
 */
int klp_apply_section_relocs(struct module *pmod, Elf_Shdr *sechdrs,
			     const char *shstrtab, const char *strtab,
			     unsigned int symindex, unsigned int secindex,
			     const char *objname)
{
	char sec_objname[MODULE_NAME_LEN];
	Elf_Shdr *relasec = sechdrs + secindex;
	const char *secname = shstrtab + relasec->sh_name;
	int ret;

	if (klp_parse_rela_secname(secname, sec_objname)) {
		pr_err("section %s has an incorrectly formatted name\n",
		       secname);
		return -EINVAL;
	}

	if (strcmp(objname ? objname : "vmlinux", sec_objname))
		return 0;

	ret = klp_resolve_rela_symbols(sechdrs, strtab, symindex, relasec,
				       sec_objname);
	if (ret)
		return ret;

	return apply_relocate_add(sechdrs, strtab, symindex, secindex, pmod);
}

static int klp_relocate_object(struct klp_patch *patch,
			       struct klp_object *obj)
{
	struct klp_modinfo *info = patch->mod->klp_info;
	unsigned int i;
	int ret;

	for (i = 1; i < info->hdr.e_shnum; i++) {
		if (!(info->sechdrs[i].sh_flags & SHF_RELA_LIVEPATCH))
			continue;

		ret = klp_apply_section_relocs(patch->mod, info->sechdrs,
					       info->secstrings,
					       patch->mod->core_kallsyms.strtab,
					       info->symndx, i, obj->name);
		if (ret)
			return ret;
	}
	return 0;
}

#ifdef klp_arch_clear_relocs
/*
 * Zero the places the relocations for @obj wrote into the patch module, so
 * that they can be applied again when the module comes back.
 */
static void klp_clear_object_relocs(struct klp_patch *patch,
				    struct klp_object *obj)
{
	struct klp_modinfo *info = patch->mod->klp_info;
	char sec_objname[MODULE_NAME_LEN];
	unsigned int i;

	for (i = 1; i < info->hdr.e_shnum; i++) {
		Elf_Shdr *sec = &info->sechdrs[i];

		if (!(sec->sh_flags & SHF_RELA_LIVEPATCH))
			continue;
		if (klp_parse_rela_secname(info->secstrings + sec->sh_name,
					   sec_objname))
			continue;
		if (!strcmp(sec_objname, obj->name))
			klp_arch_clear_relocs(info->sechdrs, i);
	}
}
#else
static void klp_clear_object_relocs(struct klp_patch *patch,
				    struct klp_object *obj)
{
}
#endif

/*
 * Callbacks
 * ---------
 * post_unpatch is owed exactly when pre_patch succeeded (or there is none),
 * so that every successful pre_patch is balanced, including on cancelled and
 * reversed transitions.
 */
int klp_run_pre_patch(struct klp_object *obj)
{
	struct klp_callbacks *cb = &obj->callbacks;
	int ret = cb->pre_patch ? cb->pre_patch(obj) : 0;

	cb->post_unpatch_enabled = ret == 0;
	return ret;
}

void klp_run_post_patch(struct klp_object *obj)
{
	struct klp_callbacks *cb = &obj->callbacks;

	if (cb->post_patch)
		cb->post_patch(obj);
}

void klp_run_pre_unpatch(struct klp_object *obj)
{
	struct klp_callbacks *cb = &obj->callbacks;

	if (cb->pre_unpatch)
		cb->pre_unpatch(obj);
}

void klp_run_post_unpatch(struct klp_object *obj)
{
	struct klp_callbacks *cb = &obj->callbacks;
	bool owed = cb->post_unpatch_enabled;

	cb->post_unpatch_enabled = false;
	if (owed && cb->post_unpatch)
		cb->post_unpatch(obj);
}

/*
 * sysfs
 * -----
 * /sys/kernel/livepatch/<patch>/{enabled,transition,force}
 * /sys/kernel/livepatch/<patch>/<object>/patched
 * /sys/kernel/livepatch/<patch>/<object>/<function,sympos>/
 */
static struct klp_patch *klp_kobj_to_patch(struct kobject *kobj)
{
	return container_of(kobj, struct klp_patch, kobj);
}

static int klp_disable_patch(struct klp_patch *patch);

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	struct klp_patch *patch = klp_kobj_to_patch(kobj);
	bool enable;
	int ret;

	ret = kstrtobool(buf, &enable);
	if (ret)
		return ret;

	mutex_lock(&klp_mutex);
	if (patch->enabled == enable)
		ret = -EINVAL;		/* nothing to do is an error */
	else if (patch == klp_trans_patch)
		klp_trans_reverse();
	else if (!enable)
		ret = klp_disable_patch(patch);
	else
		ret = -EINVAL;		/* a disabled patch is being freed */
	mutex_unlock(&klp_mutex);
	if (ret)
		return ret;

	/*
	 * A disable or a reversal is under way.  Waiting for its first round
	 * cannot deadlock: a round that completes the disable hands the
	 * release of the patch (which waits for writers of this attribute)
	 * to another work item and does not wait for it.
	 */
	klp_trans_first_round();
	return count;
}

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", klp_kobj_to_patch(kobj)->enabled);
}

static ssize_t transition_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	struct klp_patch *patch = klp_kobj_to_patch(kobj);

	return sysfs_emit(buf, "%d\n",
			  READ_ONCE(klp_trans_patch) == patch);
}

static ssize_t force_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	struct klp_patch *patch = klp_kobj_to_patch(kobj);
	bool force;
	int ret;

	ret = kstrtobool(buf, &force);
	if (ret)
		return ret;
	if (!force)
		return count;

	mutex_lock(&klp_mutex);
	if (patch == klp_trans_patch)
		klp_trans_force();
	else
		ret = -EINVAL;
	mutex_unlock(&klp_mutex);

	return ret ? ret : count;
}

static ssize_t replace_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", klp_kobj_to_patch(kobj)->replace);
}

/* Position among the enabled patches, 1 for the oldest; 0 when not listed. */
static ssize_t stack_order_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	struct klp_patch *patch = klp_kobj_to_patch(kobj), *p;
	int pos = 0, found = 0;

	mutex_lock(&klp_mutex);
	klp_for_each_registered(p) {
		pos++;
		if (p == patch) {
			found = pos;
			break;
		}
	}
	mutex_unlock(&klp_mutex);

	return sysfs_emit(buf, "%d\n", found);
}

/* Transition progress files; see Documentation/ABI. */
/*
 * The transition attributes: what the transition hands out about @kobj's
 * patch (nothing unless it is in transition), read under klp_mutex.
 */
static ssize_t transition_tasks_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	unsigned int nr;

	mutex_lock(&klp_mutex);
	nr = klp_trans_pending_tasks(klp_kobj_to_patch(kobj));
	mutex_unlock(&klp_mutex);
	return sysfs_emit(buf, "%u\n", nr);
}

static ssize_t transition_ms_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	s64 ms;

	mutex_lock(&klp_mutex);
	ms = klp_trans_duration_ms(klp_kobj_to_patch(kobj));
	mutex_unlock(&klp_mutex);
	return sysfs_emit(buf, "%lld\n", ms);
}

static ssize_t transition_signals_show(struct kobject *kobj,
				       struct kobj_attribute *attr, char *buf)
{
	unsigned long nr;

	mutex_lock(&klp_mutex);
	nr = klp_trans_nudged(klp_kobj_to_patch(kobj));
	mutex_unlock(&klp_mutex);
	return sysfs_emit(buf, "%lu\n", nr);
}

/*
 * One line per blocking task found by the last round of checks that has
 * not switched since: "<pid> <comm> <user|kthread> <reason> <function or
 * ->".
 */
static ssize_t transition_blockers_show(struct kobject *kobj,
					struct kobj_attribute *attr, char *buf)
{
	struct klp_blocker *blockers;
	unsigned int i, nr;
	ssize_t len = 0;

	blockers = kmalloc_array(KLP_MAX_BLOCKERS, sizeof(*blockers),
				 GFP_KERNEL);
	if (!blockers)
		return -ENOMEM;

	mutex_lock(&klp_mutex);
	nr = klp_trans_copy_blockers(klp_kobj_to_patch(kobj), blockers);
	mutex_unlock(&klp_mutex);

	for (i = 0; i < nr; i++) {
		const struct klp_blocker *b = &blockers[i];

		len += sysfs_emit_at(buf, len, "%d %s %s %s %s\n", b->pid,
				     b->comm, b->kthread ? "kthread" : "user",
				     b->reason, b->func);
	}
	kfree(blockers);
	return len;
}

static struct kobj_attribute klp_attr_transition_tasks =
	__ATTR_RO(transition_tasks);
static struct kobj_attribute klp_attr_transition_ms = __ATTR_RO(transition_ms);
static struct kobj_attribute klp_attr_transition_signals =
	__ATTR_RO(transition_signals);
static struct kobj_attribute klp_attr_transition_blockers =
	__ATTR_RO(transition_blockers);

static struct kobj_attribute klp_attr_enabled = __ATTR_RW(enabled);
static struct kobj_attribute klp_attr_replace = __ATTR_RO(replace);
static struct kobj_attribute klp_attr_stack_order = __ATTR_RO(stack_order);
static struct kobj_attribute klp_attr_transition = __ATTR_RO(transition);
static struct kobj_attribute klp_attr_force = __ATTR_WO(force);

static struct attribute *klp_patch_dir_attrs[] = {
	&klp_attr_enabled.attr,
	&klp_attr_transition.attr,
	&klp_attr_force.attr,
	&klp_attr_replace.attr,
	&klp_attr_stack_order.attr,
	&klp_attr_transition_tasks.attr,
	&klp_attr_transition_ms.attr,
	&klp_attr_transition_signals.attr,
	&klp_attr_transition_blockers.attr,
	NULL
};
ATTRIBUTE_GROUPS(klp_patch_dir);

static ssize_t patched_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	struct klp_object *obj = container_of(kobj, struct klp_object, kobj);

	return sysfs_emit(buf, "%d\n", obj->patched);
}

static struct kobj_attribute klp_attr_patched = __ATTR_RO(patched);

/* Copy the part of @line (@len bytes at @at of the file) that @buf wants. */
static size_t klp_calls_copy(char *buf, loff_t pos, size_t count,
			     const char *line, size_t len, loff_t at)
{
	loff_t from = max(pos, at), to = min_t(loff_t, pos + count, at + len);

	if (from >= to)
		return 0;
	memcpy(buf + (from - pos), line + (from - at), to - from);
	return to - from;
}

/*
 * The "calls" file of an object: how calls of each of its functions are
 * served now, one line per function, "<mode> <function,sympos>" (see
 * klp_func_call_mode()), the mode padded to KLP_CALL_MODE_MAX characters:
 * a read returns at most a page, and lines whose length stayed the same
 * when a mode changed between two reads keep the offsets of the later
 * ones.  A file per object rather than per function, as a file costs a
 * kernfs node (about 130 bytes) per function; binary only so that it is
 * not limited to one page.  The functions (nops included) come and go
 * under klp_mutex.  A reader that cannot take it sleeps a little and
 * restarts, as lock_device_hotplug_sysfs() does: its holder may be
 * removing this very file, which waits for the reader to leave.
 */
static ssize_t calls_read(struct file *file, struct kobject *kobj,
			  struct bin_attribute *attr, char *buf, loff_t pos,
			  size_t count)
{
	struct klp_object *obj = container_of(kobj, struct klp_object, kobj);
	char line[KSYM_NAME_LEN + KLP_CALL_MODE_MAX + 32];
	struct klp_func *func;
	size_t done = 0;
	loff_t at = 0;
	int len;

	if (!mutex_trylock(&klp_mutex)) {
		usleep_range(5000, 10000);
		return restart_syscall();
	}
	klp_for_each_func(obj, func) {
		if (at >= pos + count)
			break;
		len = scnprintf(line, sizeof(line), "%-*s %s\n",
				KLP_CALL_MODE_MAX, klp_func_call_mode(func),
				kobject_name(&func->kobj));
		done += klp_calls_copy(buf, pos, count, line, len, at);
		at += len;
	}
	mutex_unlock(&klp_mutex);
	return done;
}

static BIN_ATTR_RO(calls, 0);

static struct attribute *klp_object_dir_attrs[] = {
	&klp_attr_patched.attr,
	NULL,
};

static struct bin_attribute *klp_object_dir_bin_attrs[] = {
	&bin_attr_calls,
	NULL,
};

static const struct attribute_group klp_object_dir_group = {
	.attrs = klp_object_dir_attrs,
	.bin_attrs = klp_object_dir_bin_attrs,
};

static const struct attribute_group *klp_object_dir_groups[] = {
	&klp_object_dir_group,
	NULL,
};

static void klp_patch_release(struct kobject *kobj)
{
	complete(&klp_kobj_to_patch(kobj)->finish);
}

/*
 * Object and function kobjects whose last reference was dropped but whose
 * release has not run yet.  Those in sysfs hold a reference on their
 * parent, so the patch's own release (patch->finish) waits for them; those
 * that never got into sysfs, because enabling failed first, hold none.
 * Their release can be deferred too (CONFIG_DEBUG_KOBJECT_RELEASE), and
 * they live in the patch module's memory, which is freed once a failed
 * klp_enable_patch() returns: klp_release_end() waits for this count to
 * drop to 0 as well.
 */
static atomic_t klp_kobjs_releasing = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(klp_kobj_released_wq);

static void klp_put_child_kobj(struct kobject *kobj)
{
	atomic_inc(&klp_kobjs_releasing);
	kobject_put(kobj);
}

static void klp_child_kobj_released(void)
{
	if (atomic_dec_and_test(&klp_kobjs_releasing))
		wake_up_all(&klp_kobj_released_wq);
}

/* Generated objects and functions are freed with their kobject. */
static void klp_object_release(struct kobject *kobj)
{
	struct klp_object *obj = container_of(kobj, struct klp_object, kobj);

	if (obj->dynamic) {
		kfree(obj->name);
		kfree(obj);
	}
	klp_child_kobj_released();
}

static void klp_func_release(struct kobject *kobj)
{
	struct klp_func *func = container_of(kobj, struct klp_func, kobj);

	if (func->nop) {
		kfree(func->old_name);
		kfree(func);
	}
	klp_child_kobj_released();
}

static struct kobj_type klp_patch_ktype = {
	.release = klp_patch_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = klp_patch_dir_groups,
};

static struct kobj_type klp_object_ktype = {
	.release = klp_object_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = klp_object_dir_groups,
};

static struct kobj_type klp_func_ktype = {
	.release = klp_func_release,
	.sysfs_ops = &kobj_sysfs_ops,
};

/*
 * Validation
 * ----------
 * Everything a patch author can get wrong in the static description is
 * checked before anything is allocated, with a message that names the
 * patch, the object and the function.
 */
static bool klp_same_object_name(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool klp_same_func(struct klp_func *a, struct klp_func *b)
{
	return !strcmp(a->old_name, b->old_name) &&
	       klp_func_sympos(a) == klp_func_sympos(b);
}

static int klp_check_func(struct klp_patch *patch, struct klp_object *obj,
			  struct klp_func *func, unsigned int idx)
{
	const char *pname = patch->mod->name, *oname = klp_obj_name(obj);

	if (!func->old_name) {
		pr_err("%s: object '%s': function entry %u has no old_name\n",
		       pname, oname, idx);
		return -EINVAL;
	}
	if (strnlen(func->old_name, KSYM_NAME_LEN) >= KSYM_NAME_LEN) {
		pr_err("%s: object '%s': function name '%.32s...' is too long\n",
		       pname, oname, func->old_name);
		return -EINVAL;
	}
	if (!func->new_func) {
		pr_err("%s: object '%s': function '%s' has no new_func\n",
		       pname, oname, func->old_name);
		return -EINVAL;
	}
	return 0;
}

static int klp_func_listed_twice(struct klp_patch *patch,
				 struct klp_object *obj, struct klp_func *func)
{
	pr_err("%s: object '%s': function '%s,%lu' is listed twice\n",
	       patch->mod->name, klp_obj_name(obj), func->old_name,
	       klp_func_sympos(func));
	return -EEXIST;
}

static int klp_func_cmp(const void *a, const void *b)
{
	struct klp_func *x = *(struct klp_func **)a, *y = *(struct klp_func **)b;
	int ret = strcmp(x->old_name, y->old_name);

	if (ret)
		return ret;
	return klp_func_sympos(x) < klp_func_sympos(y) ? -1 :
	       klp_func_sympos(x) > klp_func_sympos(y);
}

/*
 * A function listed twice in @obj, which has @n functions.  Comparing each
 * with those before it costs n * n / 2 string compares (half a million for
 * 1000 functions, tens of milliseconds); above KLP_DUP_SORT_MIN functions a
 * sorted copy of the list, where duplicates are neighbours, is cheaper.
 * Below it nothing is allocated.
 */
#define KLP_DUP_SORT_MIN	32

static int klp_check_dup_funcs(struct klp_patch *patch,
			       struct klp_object *obj, unsigned int n)
{
	struct klp_func *func, *prev, **sorted;
	unsigned int i = 0;
	int ret = 0;

	if (n < KLP_DUP_SORT_MIN) {
		klp_for_each_func_static(obj, func)
			for (prev = obj->funcs; prev != func; prev++)
				if (klp_same_func(prev, func))
					return klp_func_listed_twice(patch, obj,
								     func);
		return 0;
	}

	sorted = kvmalloc_array(n, sizeof(*sorted), GFP_KERNEL);
	if (!sorted)
		return -ENOMEM;
	klp_for_each_func_static(obj, func)
		sorted[i++] = func;
	sort(sorted, n, sizeof(*sorted), klp_func_cmp, NULL);
	for (i = 1; i < n && !ret; i++)
		if (klp_same_func(sorted[i - 1], sorted[i]))
			ret = klp_func_listed_twice(patch, obj, sorted[i]);
	kvfree(sorted);
	return ret;
}

static int klp_check_object(struct klp_patch *patch, struct klp_object *obj)
{
	const char *pname = patch->mod->name;
	struct klp_object *prev;
	struct klp_func *func;
	unsigned int idx = 0;
	int ret;

	if (!obj->funcs) {
		pr_err("%s: object '%s' has no funcs array\n", pname,
		       klp_obj_name(obj));
		return -EINVAL;
	}
	if (obj->name && strnlen(obj->name, MODULE_NAME_LEN) >= MODULE_NAME_LEN) {
		pr_err("%s: object name '%.32s...' is too long\n", pname,
		       obj->name);
		return -EINVAL;
	}
	for (prev = patch->objs; prev != obj; prev++) {
		if (klp_same_object_name(prev->name, obj->name)) {
			pr_err("%s: object '%s' is listed twice\n", pname,
			       klp_obj_name(obj));
			return -EEXIST;
		}
	}

	klp_for_each_func_static(obj, func) {
		ret = klp_check_func(patch, obj, func, idx++);
		if (ret)
			return ret;
	}
	ret = klp_check_dup_funcs(patch, obj, idx);
	if (ret == -ENOMEM)
		pr_err("%s: cannot sort the functions of object '%s' (%d)\n",
		       pname, klp_obj_name(obj), ret);
	return ret;
}

KLP_VISIBLE_IF_KUNIT int klp_check_patch(struct klp_patch *patch)
{
	struct klp_object *obj;
	int ret;

	if (!patch || !patch->mod)
		return -EINVAL;

	if (!patch->objs) {
		pr_err("%s: patch has no objects\n", patch->mod->name);
		return -EINVAL;
	}

	klp_for_each_object_static(patch, obj) {
		ret = klp_check_object(patch, obj);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Building and freeing the internal representation
 * ------------------------------------------------
 */
static void klp_setup_func(struct klp_object *obj, struct klp_func *func)
{
	kobject_init(&func->kobj, &klp_func_ktype);
	INIT_LIST_HEAD(&func->stack_node);
	func->old_func = NULL;
	func->old_size = 0;
	func->new_size = 0;
	WRITE_ONCE(func->patched, false);
	func->transition = false;
	list_add_tail(&func->node, &obj->func_list);
}

static void klp_setup_object(struct klp_patch *patch,
			     struct klp_object *obj)
{
	INIT_LIST_HEAD(&obj->func_list);
	kobject_init(&obj->kobj, &klp_object_ktype);
	obj->mod = NULL;
	obj->patched = false;
	obj->callbacks.post_unpatch_enabled = false;
	list_add_tail(&obj->node, &patch->obj_list);
}

static void klp_release_work_fn(struct work_struct *work);

static void klp_setup_patch(struct klp_patch *patch)
{
	struct klp_object *obj;
	struct klp_func *func;

	INIT_LIST_HEAD(&patch->list);
	INIT_LIST_HEAD(&patch->obj_list);
	kobject_init(&patch->kobj, &klp_patch_ktype);
	patch->enabled = false;
	patch->forced = false;
	INIT_WORK(&patch->free_work, klp_release_work_fn);
	init_completion(&patch->finish);

	klp_for_each_object_static(patch, obj) {
		obj->dynamic = false;
		klp_setup_object(patch, obj);
		klp_for_each_func_static(obj, func) {
			func->nop = false;
			klp_setup_func(obj, func);
		}
	}
}

static struct klp_object *klp_match_object(struct klp_patch *patch,
					   struct klp_object *old_obj)
{
	struct klp_object *obj;

	klp_for_each_object(patch, obj)
		if (klp_same_object_name(obj->name, old_obj->name))
			return obj;
	return NULL;
}

static struct klp_func *klp_match_func(struct klp_object *obj,
				       struct klp_func *old_func)
{
	struct klp_func *func;

	klp_for_each_func(obj, func)
		if (klp_same_func(func, old_func))
			return func;
	return NULL;
}

/*
 * Conflicting patches (opt-in)
 * ----------------------------
 * As in Linux 6.1, two patches without .replace may change the same
 * function: the newer one wins, and either can be disabled first.  That is
 * rarely meant: two fixes of one function written independently, each
 * without the other's change.  With livepatch.refuse_conflicts=1 (boot) or
 * /sys/module/livepatch/parameters/refuse_conflicts (run time) such a patch
 * is refused before anything is set up.  A cumulative (.replace) patch is
 * never refused: it takes over the functions of the patches it replaces.
 */
static bool klp_refuse_conflicts;
module_param_named(refuse_conflicts, klp_refuse_conflicts, bool, 0644);
MODULE_PARM_DESC(refuse_conflicts,
		 "Refuse a patch without replace that changes a function another enabled patch without replace changes (default: N, as Linux 6.1)");

/* The function of enabled patch @other that @func of @obj would change too. */
static struct klp_func *klp_conflicting_func(struct klp_patch *other,
					     struct klp_object *obj,
					     struct klp_func *func)
{
	struct klp_object *other_obj = klp_match_object(other, obj);

	return other_obj ? klp_match_func(other_obj, func) : NULL;
}

/*
 * Called under klp_mutex before @patch is set up, so its objects and
 * functions are walked in its static arrays.
 */
static int klp_check_conflicts(struct klp_patch *patch)
{
	struct klp_patch *other;
	struct klp_object *obj;
	struct klp_func *func;

	if (!READ_ONCE(klp_refuse_conflicts) || patch->replace)
		return 0;

	klp_for_each_registered(other) {
		if (!other->enabled || other->replace)
			continue;
		klp_for_each_object_static(patch, obj) {
			klp_for_each_func_static(obj, func) {
				if (!klp_conflicting_func(other, obj, func))
					continue;
				pr_err("%s: refused: function '%s' of '%s' is already changed by patch '%s' (refuse_conflicts=1)\n",
				       patch->mod->name, func->old_name,
				       klp_obj_name(obj), other->mod->name);
				return -EBUSY;
			}
		}
	}
	return 0;
}

static struct klp_object *klp_alloc_object_dynamic(struct klp_patch *patch,
						   const char *name)
{
	struct klp_object *obj;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return NULL;

	if (name) {
		obj->name = kstrdup(name, GFP_KERNEL);
		if (!obj->name) {
			kfree(obj);
			return NULL;
		}
	}
	obj->dynamic = true;
	klp_setup_object(patch, obj);
	return obj;
}

static struct klp_func *klp_alloc_nop(struct klp_object *obj,
				      struct klp_func *old_func)
{
	struct klp_func *func;

	func = kzalloc(sizeof(*func), GFP_KERNEL);
	if (!func)
		return NULL;

	func->old_name = kstrdup(old_func->old_name, GFP_KERNEL);
	if (!func->old_name) {
		kfree(func);
		return NULL;
	}
	func->old_sympos = old_func->old_sympos;
	func->nop = true;
	klp_setup_func(obj, func);
	return func;
}

/*
 * An atomic-replace patch takes over every function of the enabled patches.
 * The ones it does not replace itself get a nop entry that leads back to the
 * original code; nops are dropped when the transition completes.
 */
static int klp_generate_nops(struct klp_patch *patch)
{
	struct klp_object *old_obj, *obj;
	struct klp_func *old_func;
	struct klp_patch *old;

	klp_for_each_registered(old) {
		klp_for_each_object(old, old_obj) {
			obj = klp_match_object(patch, old_obj);
			if (!obj)
				obj = klp_alloc_object_dynamic(patch,
							       old_obj->name);
			if (!obj)
				return -ENOMEM;

			klp_for_each_func(old_obj, old_func) {
				if (klp_match_func(obj, old_func))
					continue;
				if (!klp_alloc_nop(obj, old_func))
					return -ENOMEM;
			}
		}
	}
	return 0;
}

/* Forget what was resolved for a module object whose module goes away. */
static void klp_forget_object(struct klp_patch *patch, struct klp_object *obj)
{
	struct klp_func *func;

	klp_clear_object_relocs(patch, obj);
	obj->mod = NULL;
	klp_for_each_func(obj, func) {
		func->old_func = NULL;
		func->old_size = 0;
		if (func->nop)
			func->new_func = NULL;
	}
}

static void klp_free_funcs(struct klp_object *obj, bool nops_only)
{
	struct klp_func *func, *tmp;

	klp_for_each_func_safe(obj, func, tmp) {
		if (nops_only && !func->nop)
			continue;
		list_del(&func->node);
		klp_put_child_kobj(&func->kobj);
	}
}

static void klp_free_objects(struct klp_patch *patch, bool dynamic_only)
{
	struct klp_object *obj, *tmp;

	klp_for_each_object_safe(patch, obj, tmp) {
		klp_free_funcs(obj, dynamic_only);
		if (dynamic_only && !obj->dynamic)
			continue;
		list_del(&obj->node);
		klp_put_child_kobj(&obj->kobj);
	}
}

/* First half of freeing, under klp_mutex: unlink and drop children. */
static void klp_release_begin(struct klp_patch *patch)
{
	list_del_init(&patch->list);
	klp_free_objects(patch, false);
}

/*
 * Second half, without klp_mutex: removing the patch's sysfs directory waits
 * for writers of "enabled" and "force", which take klp_mutex.
 *
 * No task can still return into the code of a patch released here: the
 * transition that took the patch out switched no task that was inside its
 * redirection (see klp_func_redirect_range() in transition.c), so no
 * RCU-tasks grace period is needed before the module reference goes.
 */
static void klp_release_end(struct klp_patch *patch)
{
	kobject_put(&patch->kobj);
	wait_for_completion(&patch->finish);
	wait_event(klp_kobj_released_wq, !atomic_read(&klp_kobjs_releasing));

	/* Tasks may still run a forced-out patch's code: keep it loaded. */
	if (!patch->forced)
		module_put(patch->mod);
}

static void klp_release_work_fn(struct work_struct *work)
{
	klp_release_end(container_of(work, struct klp_patch, free_work));
}

void klp_retire_patch(struct klp_patch *patch)
{
	klp_release_begin(patch);
	schedule_work(&patch->free_work);
}

void klp_retire_replaced(struct klp_patch *new_patch)
{
	struct klp_patch *old, *tmp;

	list_for_each_entry_safe(old, tmp, &klp_patch_list, list)
		if (old != new_patch)
			klp_retire_patch(old);
}

void klp_unhook_replaced(struct klp_patch *new_patch)
{
	struct klp_patch *old;

	klp_for_each_registered(old) {
		if (old == new_patch)
			continue;
		old->enabled = false;
		klp_restore_patch(old);
	}
}

void klp_drop_nops(struct klp_patch *new_patch)
{
	klp_restore_nops(new_patch);
	klp_free_objects(new_patch, true);
}

static void klp_bind_module(struct klp_object *obj)
{
	struct module *mod;

	if (!klp_obj_is_module(obj))
		return;

	/*
	 * klp_alive is set and cleared under klp_mutex, which we hold: a
	 * live module cannot complete its going path before we drop it.
	 */
	preempt_disable();
	mod = find_module(obj->name);
	if (mod && mod->klp_alive)
		obj->mod = mod;
	preempt_enable();
}

/*
 * Resolving the functions of an object together
 * ---------------------------------------------
 * The symbols of a module are not sorted: looking one name up scans the
 * module's whole symbol table, and so does kallsyms_lookup_size_offset() of
 * a module address.  One function at a time, K functions of a module with S
 * symbols cost about 3 * K * S string compares and address tests (the old
 * function's name and size, the new function's size), which for K = 1000
 * was most of the time an enable took.  So the functions of an object are
 * resolved together: a table of them (struct klp_want) is sorted by name and
 * the target module's symbols are walked once, each looked up in the table
 * (klp_want_old_cb()); then it is sorted by new function and the patch
 * module's symbols are walked once for the sizes (klp_want_new_cb()).  Sizes are the
 * symbols' own (st_size).  What a walk cannot settle goes through kallsyms
 * one by one: the functions of vmlinux, whose names kallsyms finds by binary
 * search, a symbol without a size, a new function outside the patch module.
 *
 * The walks run with preemption disabled, as the module's symbol table may
 * only be read then (it is replaced when the module's init ends, and freed
 * after an RCU-sched grace period); each takes O(S log K), once per object.
 */
struct klp_want {
	struct klp_func *func;
	unsigned int seq;	/* the function's place in the object */
	unsigned long count;	/* occurrences of its name seen */
	unsigned long addr;	/* where the wanted occurrence is */
	unsigned long old_size, new_size;	/* 0: not known */
};

static int klp_want_by_name(const void *a, const void *b)
{
	const struct klp_want *x = a, *y = b;

	return strcmp(x->func->old_name, y->func->old_name);
}

static int klp_want_by_new_func(const void *a, const void *b)
{
	unsigned long x = (unsigned long)((const struct klp_want *)a)->func->new_func;
	unsigned long y = (unsigned long)((const struct klp_want *)b)->func->new_func;

	return x < y ? -1 : x > y;
}

static int klp_want_by_seq(const void *a, const void *b)
{
	const struct klp_want *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Index of the first of @n wants (sorted by @cmp) not below @key. */
static unsigned int klp_want_first(struct klp_want *want, unsigned int n,
				   const struct klp_want *key,
				   int (*cmp)(const void *, const void *))
{
	unsigned int lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cmp(&want[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Count one more occurrence of a wanted name, at @sym. */
static void klp_want_seen(struct klp_want *w, const Elf_Sym *sym)
{
	unsigned long pos = w->func->old_sympos;

	w->count++;
	if (w->count == (pos ? pos : 1)) {
		w->addr = sym->st_value;
		w->old_size = sym->st_size;
	}
}

/* The table of wanted functions a symbol walk looks its symbols up in. */
struct klp_want_table {
	struct klp_want *want;
	unsigned int n;
};

/* Count @sym for every wanted function of its name. */
static bool klp_want_old_cb(const Elf_Sym *sym, const char *name, void *data)
{
	struct klp_want_table *t = data;
	struct klp_func key_func = { .old_name = name };
	struct klp_want key = { .func = &key_func };
	unsigned int j;

	j = klp_want_first(t->want, t->n, &key, klp_want_by_name);
	for (; j < t->n && !klp_want_by_name(&t->want[j], &key); j++)
		klp_want_seen(&t->want[j], sym);
	return false;
}

/* Take @sym's size for every wanted new function at its address. */
static bool klp_want_new_cb(const Elf_Sym *sym, const char *name, void *data)
{
	struct klp_want_table *t = data;
	struct klp_func key_func = { .new_func = (void *)sym->st_value };
	struct klp_want key = { .func = &key_func };
	unsigned int j;

	if (ELF_ST_TYPE(sym->st_info) != STT_FUNC || !sym->st_value)
		return false;
	j = klp_want_first(t->want, t->n, &key, klp_want_by_new_func);
	for (; j < t->n && !klp_want_by_new_func(&t->want[j], &key); j++)
		t->want[j].new_size = sym->st_size;
	return false;
}

/* Where the old function of @w is, when the module scan did not say. */
static int klp_find_old_func(struct klp_object *obj, struct klp_want *w)
{
	struct klp_func *func = w->func;
	unsigned long addr;
	int ret;

	if (klp_obj_is_module(obj)) {
		ret = klp_check_occurrences(obj->name, func->old_name,
					    func->old_sympos, w->count);
		addr = w->addr;
	} else {
		ret = klp_lookup_symbol(obj->name, func->old_name,
					func->old_sympos, &addr);
	}
	if (ret)
		return ret;
	func->old_func = (void *)addr;
	return 0;
}

/* Settle what the walks found for @w's function, or look it up. */
static int klp_settle_func(struct klp_object *obj, struct klp_want *w)
{
	struct klp_func *func = w->func;
	int ret;

	ret = klp_find_old_func(obj, w);
	if (ret)
		return ret;

	func->old_size = w->old_size;
	if (!func->old_size &&
	    !kallsyms_lookup_size_offset((unsigned long)func->old_func,
					 &func->old_size, NULL)) {
		pr_err("kallsyms size lookup failed for '%s'\n",
		       func->old_name);
		return -ENOENT;
	}

	if (func->nop)
		return 0;

	func->new_size = w->new_size;
	if (!func->new_size &&
	    !kallsyms_lookup_size_offset((unsigned long)func->new_func,
					 &func->new_size, NULL)) {
		pr_err("kallsyms size lookup failed for '%s' replacement\n",
		       func->old_name);
		return -ENOENT;
	}
	return 0;
}

/* Resolve every function of @obj; see "Resolving the functions ...". */
static int klp_resolve_funcs(struct klp_patch *patch, struct klp_object *obj)
{
	struct klp_want_table table;
	struct klp_want *want;
	struct klp_func *func;
	unsigned int n = 0, i;
	int ret = 0;

	klp_for_each_func(obj, func)
		n++;
	if (!n)
		return 0;
	want = kvcalloc(n, sizeof(*want), GFP_KERNEL);
	if (!want)
		return -ENOMEM;

	n = 0;
	klp_for_each_func(obj, func) {
		want[n].func = func;
		want[n].seq = n;
		n++;
	}
	table.want = want;
	table.n = n;

	if (klp_obj_is_module(obj)) {
		sort(want, n, sizeof(*want), klp_want_by_name, NULL);
		klp_each_sym_of(obj->name, klp_want_old_cb, &table);
	}
	sort(want, n, sizeof(*want), klp_want_by_new_func, NULL);
	preempt_disable();
	klp_each_mod_sym(patch->mod, klp_want_new_cb, &table);
	preempt_enable();
	/* Errors are reported in the order of the functions. */
	sort(want, n, sizeof(*want), klp_want_by_seq, NULL);

	for (i = 0; i < n && !ret; i++)
		ret = klp_settle_func(obj, &want[i]);
	kvfree(want);
	return ret;
}

/* Resolve an object whose code is present: relocations, then functions. */
static int klp_resolve_object(struct klp_patch *patch,
			      struct klp_object *obj)
{
	int ret;

	if (klp_obj_is_module(obj)) {
		ret = klp_relocate_object(patch, obj);
		if (ret)
			return ret;
	}
	ret = klp_resolve_funcs(patch, obj);
	if (ret == -ENOMEM)
		pr_err("%s: cannot allocate the function table of object '%s' (%d)\n",
		       patch->mod->name, klp_obj_name(obj), ret);
	return ret;
}

static int klp_add_object_sysfs(struct klp_patch *patch,
				struct klp_object *obj)
{
	struct klp_func *func;
	int ret;

	ret = kobject_add(&obj->kobj, &patch->kobj, "%s", klp_obj_name(obj));
	if (ret)
		return ret;

	klp_for_each_func(obj, func) {
		ret = kobject_add(&func->kobj, &obj->kobj, "%s,%lu",
				  func->old_name, klp_func_sympos(func));
		if (ret)
			return ret;
	}
	return 0;
}

static int klp_build_patch(struct klp_patch *patch)
{
	struct klp_object *obj;
	int ret;

	if (patch->replace) {
		ret = klp_generate_nops(patch);
		if (ret) {
			pr_err("%s: cannot allocate the nop functions (%d)\n",
			       patch->mod->name, ret);
			return ret;
		}
	}

	klp_for_each_object(patch, obj) {
		klp_bind_module(obj);
		if (!klp_object_present(obj))
			continue;
		ret = klp_resolve_object(patch, obj);
		if (ret)
			return ret;
	}

	ret = kobject_add(&patch->kobj, klp_sysfs_root, "%s", patch->mod->name);
	if (ret) {
		pr_err("%s: cannot create the patch's sysfs directory (%d)\n",
		       patch->mod->name, ret);
		return ret;
	}

	klp_for_each_object(patch, obj) {
		ret = klp_add_object_sysfs(patch, obj);
		if (ret) {
			pr_err("%s: cannot create the sysfs entries of object '%s' (%d)\n",
			       patch->mod->name, klp_obj_name(obj), ret);
			return ret;
		}
	}

	list_add_tail(&patch->list, &klp_patch_list);
	return 0;
}

static int klp_enable_patch_locked(struct klp_patch *patch)
{
	struct klp_object *obj;
	int ret;

	if (WARN_ON(patch->enabled))
		return -EINVAL;

	pr_notice("enabling patch '%s'\n", patch->mod->name);

	klp_trans_prepare(patch, KLP_PATCHED);

	klp_for_each_object(patch, obj) {
		if (!klp_object_present(obj))
			continue;

		ret = klp_run_pre_patch(obj);
		if (ret) {
			pr_warn("pre-patch callback failed for object '%s'\n",
				klp_obj_name(obj));
			goto err;
		}

		ret = klp_redirect_object(obj);
		if (ret) {
			pr_warn("failed to patch object '%s'\n",
				klp_obj_name(obj));
			goto err;
		}
	}

	klp_trans_begin();
	patch->enabled = true;
	return 0;

err:
	pr_warn("failed to enable patch '%s'\n", patch->mod->name);
	klp_trans_cancel();
	return ret;
}

static int klp_disable_patch(struct klp_patch *patch)
{
	struct klp_object *obj;

	if (WARN_ON(!patch->enabled))
		return -EINVAL;

	if (klp_trans_patch)
		return -EBUSY;

	klp_trans_prepare(patch, KLP_UNPATCHED);

	klp_for_each_object(patch, obj)
		if (obj->patched)
			klp_run_pre_unpatch(obj);

	klp_trans_begin();
	patch->enabled = false;
	return 0;
}

/**
 * klp_enable_patch() - validate, register and apply a live patch
 * @patch: the patch, owned by the calling live patch module
 *
 * Called from the module_init of a live patch module.  On success the
 * patching transition has started (or already completed), the patch appears
 * in /sys/kernel/livepatch and the module cannot be removed until the patch
 * is disabled and freed.  On failure nothing is left behind.
 *
 * Return: 0, or -EINVAL for a malformed or incompatible patch, -EEXIST for
 * duplicate entries, -EBUSY while another transition is running (or, with
 * refuse_conflicts set, for a function another patch changes), -ENODEV
 * when the module is going away, -ENOMEM, or the error of a pre_patch
 * callback.
 */
int klp_enable_patch(struct klp_patch *patch)
{
	int ret;

	ret = klp_check_patch(patch);
	if (ret)
		return ret;

	if (!is_livepatch_module(patch->mod)) {
		pr_err("module %s is not marked as a livepatch module\n",
		       patch->mod->name);
		return -EINVAL;
	}

	if (!klp_sysfs_root)
		return -ENODEV;

	if (!klp_have_reliable_stack()) {
		pr_warn("This architecture doesn't have support for the livepatch consistency model.\n");
		pr_warn("The livepatch transition may never complete.\n");
	}

	mutex_lock(&klp_mutex);

	if (!klp_states_compatible(patch)) {
		pr_err("Livepatch patch (%s) is not compatible with the already installed livepatches.\n",
		       patch->mod->name);
		mutex_unlock(&klp_mutex);
		return -EINVAL;
	}

	if (klp_trans_patch) {
		pr_err("%s: another transition ('%s') is in progress\n",
		       patch->mod->name, klp_trans_patch->mod->name);
		mutex_unlock(&klp_mutex);
		return -EBUSY;
	}

	ret = klp_check_conflicts(patch);
	if (ret) {
		mutex_unlock(&klp_mutex);
		return ret;
	}

	if (!try_module_get(patch->mod)) {
		mutex_unlock(&klp_mutex);
		return -ENODEV;
	}

	klp_setup_patch(patch);

	ret = klp_build_patch(patch);
	if (!ret)
		ret = klp_enable_patch_locked(patch);
	if (ret) {
		klp_release_begin(patch);
		mutex_unlock(&klp_mutex);
		klp_release_end(patch);
		return ret;
	}

	mutex_unlock(&klp_mutex);
	klp_trans_first_round();
	return 0;
}
EXPORT_SYMBOL_GPL(klp_enable_patch);

/*
 * Module loader hooks
 * -------------------
 */

/*
 * Unpatch @mod's objects in the patches before @limit (all when NULL) and
 * forget their resolution.
 */
static void klp_revert_module(struct module *mod,
			      struct klp_patch *limit)
{
	struct klp_object *obj;
	struct klp_patch *patch;

	klp_for_each_registered(patch) {
		if (patch == limit)
			break;

		klp_for_each_object(patch, obj) {
			if (!klp_obj_is_module(obj) || obj->mod != mod)
				continue;

			if (obj->patched) {
				if (patch != klp_trans_patch)
					klp_run_pre_unpatch(obj);

				pr_notice("reverting patch '%s' on unloading module '%s'\n",
					  patch->mod->name, obj->mod->name);
				klp_restore_object(obj);
				klp_run_post_unpatch(obj);
			}
			klp_forget_object(patch, obj);
			break;
		}
	}
	/* Once for all patches: the module's sites are gone by now. */
	klp_direct_update();
}

static int klp_apply_to_coming_module(struct klp_patch *patch,
				      struct klp_object *obj,
				      struct module *mod)
{
	int ret;

	obj->mod = mod;

	ret = klp_resolve_object(patch, obj);
	if (ret) {
		pr_warn("failed to initialize patch '%s' for module '%s' (%d)\n",
			patch->mod->name, mod->name, ret);
		return ret;
	}

	pr_notice("applying patch '%s' to loading module '%s'\n",
		  patch->mod->name, mod->name);

	ret = klp_run_pre_patch(obj);
	if (ret) {
		pr_warn("pre-patch callback failed for object '%s'\n",
			obj->name);
		return ret;
	}

	ret = klp_redirect_object(obj);
	if (ret) {
		pr_warn("failed to apply patch '%s' to module '%s' (%d)\n",
			patch->mod->name, mod->name, ret);
		klp_run_post_unpatch(obj);
		return ret;
	}

	/* A patch in transition runs post_patch when the transition ends. */
	if (patch != klp_trans_patch)
		klp_run_post_patch(obj);
	return 0;
}

/**
 * klp_module_coming() - apply the live patches that target a loading module
 * @mod: the module, in MODULE_STATE_COMING, before its init runs
 *
 * Return: 0, or an error that makes the loader refuse @mod.
 */
int klp_module_coming(struct module *mod)
{
	struct klp_object *obj;
	struct klp_patch *patch;
	int ret = 0;

	if (WARN_ON(mod->state != MODULE_STATE_COMING))
		return -EINVAL;

	if (!strcmp(mod->name, "vmlinux")) {
		pr_err("vmlinux.ko: invalid module name\n");
		return -EINVAL;
	}

	mutex_lock(&klp_mutex);

	/* From now on klp_enable_patch() finds the module. */
	mod->klp_alive = true;

	klp_for_each_registered(patch) {
		klp_for_each_object(patch, obj) {
			if (!klp_obj_is_module(obj) || strcmp(obj->name, mod->name))
				continue;

			ret = klp_apply_to_coming_module(patch, obj, mod);
			if (ret)
				goto err;
			break;
		}
	}
	/*
	 * Once for all patches: each site gets the newest patch's function
	 * at once, not first that of an older patch (a change of a stub's
	 * target waits for grace periods).
	 */
	klp_direct_update();

	mutex_unlock(&klp_mutex);
	return 0;

err:
	pr_warn("patch '%s' failed for module '%s', refusing to load module '%s'\n",
		patch->mod->name, mod->name, mod->name);
	mod->klp_alive = false;
	klp_forget_object(patch, obj);
	klp_revert_module(mod, patch);
	mutex_unlock(&klp_mutex);
	return ret;
}

/**
 * klp_module_going() - revert the live patches on a module that goes away
 * @mod: the module, going or failing to come
 */
void klp_module_going(struct module *mod)
{
	if (WARN_ON(mod->state != MODULE_STATE_GOING &&
		    mod->state != MODULE_STATE_COMING))
		return;

	mutex_lock(&klp_mutex);
	mod->klp_alive = false;
	klp_revert_module(mod, NULL);
	mutex_unlock(&klp_mutex);
}

static int __init klp_init(void)
{
	klp_trans_init();
	klp_direct_init();
	klp_sysfs_root = kobject_create_and_add("livepatch", kernel_kobj);
	return klp_sysfs_root ? 0 : -ENOMEM;
}

module_init(klp_init);
