// SPDX-License-Identifier: GPL-2.0
/*
 * klp-diff: compare an object file built before and after a source fix,
 * report the functions that changed and write the code a live patch needs.
 *
 *	klp-diff -s SRC -t VMLINUX -e SYMVERS [-n OBJNAME] [-p PREFIX]
 *		 [-o OUT.o] BEFORE.o AFTER.o
 *
 * Both objects must be built with -ffunction-sections -fdata-sections.
 * A function changed when its bytes, or one of its relocations (type,
 * offset, addend, and what it points at: a symbol's name, or for a
 * string or read-only datum its content), differ.  Section and symbol
 * indexes, the position of strings in a merged string section, and the
 * line numbers kept in __bug_table are not compared: a fix that only
 * moves code down a file changes nothing.
 *
 * Output, one line per function, on stdout:
 *	changed NAME SYMPOS ALIAS
 *	new NAME
 *	callback KIND NAME ALIAS
 * OUT.o (written only when something changed) holds the changed and new
 * functions (their own names, local unless new and global; changed ones
 * and callbacks also under the global ALIAS the generated klp_func or
 * klp_object refers to), the read-only data they use, the new variables,
 * the dynamic debug descriptors (__dyndbg) of their pr_debug() calls, and
 * their entries of __bug_table, __ex_table, __jump_table, .altinstructions
 * and __mcount_loc.  A reference to a symbol the module loader cannot
 * resolve (static, or not exported; any symbol of a module target)
 * becomes an undefined weak symbol named .klp.ref.OBJNAME.SYMBOL.SYMPOS,
 * which klp_convert.py turns into a livepatch relocation.
 *
 * OBJNAME is "vmlinux" (VMLINUX is then vmlinux) or the module the object
 * belongs to (VMLINUX is then that module's .ko).  Callbacks are functions
 * a section .klp.callbacks.KIND points at (livepatch_helpers.h).
 *
 * Exit status: 0 done (maybe nothing changed), 2 the change cannot be
 * live patched (the message names file and function), 1 other errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/compiler.h>	/* the kernel tree's tools/include */
#include <linux/kernel.h>
#include <linux/types.h>

#define EXIT_REFUSED	2

#define KEY_LEN		512

static const char *src_name = "?";
static const char *obj_name = "vmlinux";
static const char *alias_prefix = "klp_new_";
static bool module_target;	/* the object is a module, not vmlinux */

static void __noreturn __printf(2, 3) die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("klp-diff: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(code);
}

#define refuse(fmt, ...) die(EXIT_REFUSED, "%s: " fmt, src_name, ##__VA_ARGS__)
#define fail(fmt, ...) die(EXIT_FAILURE, fmt, ##__VA_ARGS__)

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		fail("out of memory");
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		fail("out of memory");
	return p;
}

/* ---- input objects ------------------------------------------------------ */

struct sec {
	const char *name;
	GElf_Shdr sh;
	Elf_Data *data;
	size_t rela;		/* section index of its SHT_RELA, 0 if none */
	bool taken;		/* copied into the output */
	size_t out;		/* its index in the output */
};

struct sym {
	const char *name;
	GElf_Sym s;
	int file;		/* index of the STT_FILE symbol before it */
	int taken;		/* function taken: its number (1-based) */
	bool copied;		/* an entry object copied alone (__dyndbg) */
	size_t out;		/* then its output section ... */
	u64 out_off;		/* ... and offset there */
};

struct obj {
	const char *path;
	Elf *elf;
	size_t nsecs;
	struct sec *secs;
	size_t nsyms;
	struct sym *syms;
	size_t symtab;
};

static Elf_Data *section_data(Elf *elf, size_t idx)
{
	Elf_Scn *scn = elf_getscn(elf, idx);

	return scn ? elf_getdata(scn, NULL) : NULL;
}

static void read_symbols(struct obj *o, size_t idx)
{
	Elf_Data *d = section_data(o->elf, idx);
	size_t strtab = o->secs[idx].sh.sh_link;
	int file = -1;
	size_t i;

	o->symtab = idx;
	o->nsyms = o->secs[idx].sh.sh_size / sizeof(Elf64_Sym);
	o->syms = xcalloc(o->nsyms, sizeof(*o->syms));
	for (i = 0; i < o->nsyms; i++) {
		struct sym *s = &o->syms[i];

		if (!gelf_getsym(d, i, &s->s))
			fail("%s: bad symbol %zu", o->path, i);
		s->name = elf_strptr(o->elf, strtab, s->s.st_name);
		if (!s->name)
			s->name = "";
		if (GELF_ST_TYPE(s->s.st_info) == STT_FILE)
			file = i;
		s->file = file;
	}
}

static void open_obj(struct obj *o, const char *path)
{
	size_t i, shstrndx;
	int fd;

	o->path = path;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail("%s: %s", path, strerror(errno));
	o->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF)
		fail("%s: not an ELF file", path);
	if (elf_getshdrnum(o->elf, &o->nsecs) || elf_getshdrstrndx(o->elf, &shstrndx))
		fail("%s: %s", path, elf_errmsg(-1));
	o->secs = xcalloc(o->nsecs, sizeof(*o->secs));
	for (i = 1; i < o->nsecs; i++) {
		struct sec *s = &o->secs[i];

		gelf_getshdr(elf_getscn(o->elf, i), &s->sh);
		s->name = elf_strptr(o->elf, shstrndx, s->sh.sh_name);
		s->data = section_data(o->elf, i);
	}
	for (i = 1; i < o->nsecs; i++) {
		struct sec *s = &o->secs[i];

		if (s->sh.sh_type == SHT_SYMTAB)
			read_symbols(o, i);
		else if (s->sh.sh_type == SHT_RELA && s->sh.sh_info < o->nsecs)
			o->secs[s->sh.sh_info].rela = i;
	}
	if (!o->syms)
		fail("%s: no symbol table", path);
}

static bool is_func(const struct sym *s)
{
	return GELF_ST_TYPE(s->s.st_info) == STT_FUNC &&
	       s->s.st_shndx != SHN_UNDEF && s->s.st_shndx < SHN_LORESERVE;
}

static bool is_object(const struct sym *s)
{
	return GELF_ST_TYPE(s->s.st_info) == STT_OBJECT &&
	       s->s.st_shndx != SHN_UNDEF && s->s.st_shndx < SHN_LORESERVE;
}

static bool is_local(const struct sym *s)
{
	return GELF_ST_BIND(s->s.st_info) == STB_LOCAL;
}

/*
 * The length of @s's name without the ".N" gcc appends to a function's
 * static local variable (reads.1): numbers that a static added anywhere
 * in the file shifts (WARN_ONCE()'s __warned), so no part of its identity.
 */
static int stem_len(const struct sym *s)
{
	const char *dot = strrchr(s->name, '.');
	int len = strlen(s->name);

	if (!is_local(s) || !dot || dot == s->name || !dot[1] ||
	    strspn(dot + 1, "0123456789") != strlen(dot + 1))
		return len;
	return dot - s->name;
}

static struct sym *find_sym(struct obj *o, const char *name, bool (*pred)(const struct sym *))
{
	size_t i;

	for (i = 1; i < o->nsyms; i++)
		if (pred(&o->syms[i]) && !strcmp(o->syms[i].name, name))
			return &o->syms[i];
	return NULL;
}

/* The function or object symbol of section @sec that covers offset @off. */
static struct sym *sym_at(struct obj *o, size_t sec, u64 off, bool func)
{
	size_t i;

	for (i = 1; i < o->nsyms; i++) {
		struct sym *s = &o->syms[i];
		u64 end = s->s.st_value + (s->s.st_size ? s->s.st_size : 1);

		if (s->s.st_shndx != sec || !(func ? is_func(s) : is_object(s)))
			continue;
		if (off >= s->s.st_value && off < end)
			return s;
	}
	return NULL;
}

/* ---- relocations ---------------------------------------------------------- */

struct rel {
	u64 off;
	u32 type;
	size_t sym;
	s64 addend;
};

/* Relocations of section @sec with offsets in [from, to), sorted. */
static size_t relocs_in(struct obj *o, size_t sec, u64 from, u64 to,
			struct rel **out)
{
	size_t ri = o->secs[sec].rela, n = 0, i, cnt;
	struct rel *r;
	Elf_Data *d;

	*out = NULL;
	if (!ri)
		return 0;
	d = o->secs[ri].data;
	cnt = o->secs[ri].sh.sh_size / sizeof(Elf64_Rela);
	r = xcalloc(cnt, sizeof(*r));
	for (i = 0; i < cnt; i++) {
		GElf_Rela ra;

		gelf_getrela(d, i, &ra);
		if (ra.r_offset < from || ra.r_offset >= to)
			continue;
		r[n].off = ra.r_offset - from;
		r[n].type = GELF_R_TYPE(ra.r_info);
		r[n].sym = GELF_R_SYM(ra.r_info);
		r[n].addend = ra.r_addend;
		n++;
	}
	for (i = 1; i < n; i++) {	/* insertion sort: few, mostly sorted */
		struct rel t = r[i];
		size_t j = i;

		for (; j > 0 && r[j - 1].off > t.off; j--)
			r[j] = r[j - 1];
		r[j] = t;
	}
	*out = r;
	return n;
}

static bool pc_relative(u32 type)
{
	return type == R_X86_64_PC32 || type == R_X86_64_PLT32 ||
	       type == R_X86_64_PC64;
}

/*
 * The function or object symbol of section @sec a relocation points into.
 * A PC-relative one has the end of the instruction in its addend: after
 * the displacement, an immediate of 0, 1, 2 or 4 bytes may follow.  With
 * -fdata-sections a section usually holds one symbol, taken when no
 * offset fits.
 */
static struct sym *reloc_target(struct obj *o, size_t sec, const struct rel *r, bool func)
{
	static const int pcrel_tail[] = { 4, 5, 6, 8 };
	struct sym *t = NULL, *only = NULL;
	size_t i, n = 0;

	if (!pc_relative(r->type))
		t = sym_at(o, sec, r->addend, func);
	for (i = 0; !t && pc_relative(r->type) && i < ARRAY_SIZE(pcrel_tail); i++)
		t = sym_at(o, sec, r->addend + pcrel_tail[i], func);
	if (t)
		return t;
	for (i = 1; i < o->nsyms; i++) {
		if (o->syms[i].s.st_shndx == sec &&
		    (func ? is_func(&o->syms[i]) : is_object(&o->syms[i]))) {
			only = &o->syms[i];
			n++;
		}
	}
	return n == 1 ? only : NULL;
}

/* Offset in the target section a relocation points at (strings). */
static u64 target_offset(const struct rel *r)
{
	return r->addend + (pc_relative(r->type) ? 4 : 0);
}

static u64 hash_bytes(const void *p, size_t len)
{
	const unsigned char *c = p;
	u64 h = 1469598103934665603ULL;

	while (len--) {
		h ^= *c++;
		h *= 1099511628211ULL;
	}
	return h;
}

static const unsigned char *sec_bytes(struct obj *o, size_t sec)
{
	struct sec *s = &o->secs[sec];

	if (s->sh.sh_type == SHT_NOBITS || !s->data)
		return NULL;
	return s->data->d_buf;
}

static bool is_entry_object_section(const char *name)
{
	return !strcmp(name, "__dyndbg");
}

static void reloc_key(struct obj *o, const struct rel *r, char *key);

/*
 * A dynamic debug descriptor, by what its pointers point at (format,
 * function and file name), not by its name, which __COUNTER__ numbers
 * (a pr_debug() added above renames every one below), nor by its line
 * number, which a line shift changes.
 */
static u64 descriptor_hash(struct obj *o, const struct sym *d)
{
	u64 from = d->s.st_value, to = d->s.st_value + d->s.st_size;
	struct rel *r;
	size_t n = relocs_in(o, d->s.st_shndx, from, to, &r);
	size_t i;
	u64 h = n;

	for (i = 0; i < n; i++) {
		char k[KEY_LEN];

		reloc_key(o, &r[i], k);
		h = h * 31 + hash_bytes(k, strlen(k)) + r[i].off;
	}
	free(r);
	return h;
}

/*
 * What a relocation points at, independent of section and symbol
 * indexes and of where in a merged section a string landed.
 */
static void reloc_key(struct obj *o, const struct rel *r, char *key)
{
	const struct sym *s = &o->syms[r->sym];
	size_t sec = s->s.st_shndx;
	const unsigned char *b;
	const struct sym *t;
	u64 off;

	if (sec != SHN_UNDEF && sec < SHN_LORESERVE && is_entry_object_section(o->secs[sec].name)) {
		bool via_section = GELF_ST_TYPE(s->s.st_info) == STT_SECTION;

		t = via_section ? reloc_target(o, sec, r, false) : s;
		if (t && is_object(t)) {
			s64 delta = r->addend - (via_section ? (s64)t->s.st_value : 0);

			snprintf(key, KEY_LEN, "desc %016llx %+lld",
				 (unsigned long long)descriptor_hash(o, t), (long long)delta);
			return;
		}
	}
	if (GELF_ST_TYPE(s->s.st_info) != STT_SECTION) {
		snprintf(key, KEY_LEN, "sym %.*s %+lld", stem_len(s), s->name,
			 (long long)r->addend);
		return;
	}
	off = target_offset(r);
	b = sec_bytes(o, sec);
	if ((o->secs[sec].sh.sh_flags & SHF_STRINGS) && b && off < o->secs[sec].sh.sh_size) {
		size_t len = strnlen((const char *)b + off, o->secs[sec].sh.sh_size - off);

		/* not the section's name: gcc may move a string to another one */
		snprintf(key, KEY_LEN, "str %016llx %lld",
			 (unsigned long long)hash_bytes(b + off, len),
			 (long long)(r->addend - off));
		return;
	}
	t = reloc_target(o, sec, r, o->secs[sec].sh.sh_flags & SHF_EXECINSTR);
	if (t) {
		int len = stem_len(t);
		u64 h = 0;

		/*
		 * Read-only data by content too; a local one without the
		 * number gcc appends (__func__.3), which other statics can
		 * shift.
		 */
		if (!(o->secs[sec].sh.sh_flags & (SHF_WRITE | SHF_EXECINSTR)) && b) {
			h = hash_bytes(b + t->s.st_value, t->s.st_size);
			if (is_local(t) && strchr(t->name, '.'))
				len = strchr(t->name, '.') - t->name;
		}
		snprintf(key, KEY_LEN, "sym %.*s %+lld %016llx", len, t->name,
			 (long long)(r->addend - (s64)t->s.st_value),
			 (unsigned long long)h);
		return;
	}
	snprintf(key, KEY_LEN, "sec %s %+lld %016llx", o->secs[sec].name, (long long)r->addend,
		 b && !(o->secs[sec].sh.sh_flags & SHF_WRITE) ?
		 (unsigned long long)hash_bytes(b, o->secs[sec].sh.sh_size) : 0ULL);
}

/* Do @a in @oa and @b in @ob hold the same bytes and relocations? */
static bool same_content(struct obj *oa, const struct sym *a, struct obj *ob, const struct sym *b)
{
	const unsigned char *ba = sec_bytes(oa, a->s.st_shndx);
	const unsigned char *bb = sec_bytes(ob, b->s.st_shndx);
	struct rel *ra, *rb;
	size_t na, nb, i;
	bool same;

	if (a->s.st_size != b->s.st_size || !ba != !bb)
		return false;
	if (ba && memcmp(ba + a->s.st_value, bb + b->s.st_value, a->s.st_size))
		return false;
	na = relocs_in(oa, a->s.st_shndx, a->s.st_value, a->s.st_value + a->s.st_size, &ra);
	nb = relocs_in(ob, b->s.st_shndx, b->s.st_value, b->s.st_value + b->s.st_size, &rb);
	same = na == nb;
	for (i = 0; same && i < na; i++) {
		char ka[KEY_LEN], kb[KEY_LEN];

		reloc_key(oa, &ra[i], ka);
		reloc_key(ob, &rb[i], kb);
		same = ra[i].off == rb[i].off && ra[i].type == rb[i].type && !strcmp(ka, kb);
	}
	free(ra);
	free(rb);
	return same;
}

/* ---- the running kernel's symbols (vmlinux) and the exports --------------- */

static struct obj target;
static char **exports;
static size_t nexports;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static void read_exports(const char *path)
{
	char line[1024];
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *name = strchr(line, '\t'), *end;

		if (!name)
			continue;
		end = strchr(++name, '\t');
		if (!end)
			continue;
		*end = '\0';
		if (nexports == cap) {
			cap = cap ? cap * 2 : 1024;
			exports = xrealloc(exports, cap * sizeof(*exports));
		}
		exports[nexports++] = strdup(name);
	}
	fclose(f);
	qsort(exports, nexports, sizeof(*exports), cmp_str);
}

static bool exported(const char *name)
{
	return bsearch(&name, exports, nexports, sizeof(*exports), cmp_str);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The STT_FILE group of the target that holds our object's locals. */
static int our_file = -2;

static size_t group_score(struct obj *after, int file)
{
	size_t i, score = 0;

	for (i = 1; i < target.nsyms; i++) {
		struct sym *t = &target.syms[i];

		if (t->file != file || !is_local(t))
			continue;
		if (find_sym(after, t->name, is_func) || find_sym(after, t->name, is_object))
			score++;
	}
	return score;
}

/*
 * Among the target's files named like our source, the one with most of
 * our local symbols (two cmdline.c are linked into vmlinux).
 */
static int find_our_file(struct obj *after)
{
	const char *base = base_name(src_name);
	size_t i, best = 0, score;
	int file = -1;
	bool tie = false;

	for (i = 1; i < target.nsyms; i++) {
		struct sym *t = &target.syms[i];

		if (GELF_ST_TYPE(t->s.st_info) != STT_FILE || strcmp(t->name, base))
			continue;
		score = group_score(after, i);
		if (score > best) {
			best = score;
			file = i;
			tie = false;
		} else if (score == best) {
			tie = true;
		}
	}
	if (file >= 0 && tie)
		file = -1;
	return file;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct sym *x = *(struct sym * const *)a, *y = *(struct sym * const *)b;

	if (x->s.st_value != y->s.st_value)
		return x->s.st_value < y->s.st_value ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * The livepatch sympos of @name: 0 when the target has one symbol of that
 * name, else the 1-based position of ours (the local one of our file, or
 * the global one) in the order the livepatch core counts them: kallsyms
 * (address) order for vmlinux, symbol table order for a module.
 */
static unsigned long sympos(struct obj *after, const char *name, bool local)
{
	struct sym **all = NULL;
	size_t i, n = 0, cap = 0, pos = 0, found = 0;

	for (i = 1; i < target.nsyms; i++) {
		struct sym *t = &target.syms[i];
		int type = GELF_ST_TYPE(t->s.st_info);

		if ((type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) ||
		    t->s.st_shndx == SHN_UNDEF || strcmp(t->name, name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			all = xrealloc(all, cap * sizeof(*all));
		}
		all[n++] = t;
	}
	if (n == 0)
		refuse("%s: no symbol of that name in %s", name, target.path);
	if (n == 1) {
		free(all);
		return 0;
	}
	if (!module_target)
		qsort(all, n, sizeof(*all), cmp_addr);
	if (local && our_file == -2)
		our_file = find_our_file(after);
	for (i = 0; i < n; i++) {
		bool mine = local ? is_local(all[i]) && all[i]->file == our_file && our_file >= 0
				  : !is_local(all[i]);
		if (mine) {
			pos = i + 1;
			found++;
		}
	}
	free(all);
	if (found != 1)
		refuse("%s: %zu symbols of that name in %s, cannot tell which is ours",
		       name, n, target.path);
	return pos;
}

/* ---- comparing -------------------------------------------------------------- */

static struct obj before, after;

struct change {
	struct sym *sym;	/* in after */
	bool is_new;
	unsigned long pos;
	const char *callback;	/* a klp_object callback of this kind */
	bool copied;		/* notrace, carried for its patched callers */
};

static struct change *changes;
static size_t nchanges;

static bool is_cold_part(const char *name)
{
	const char *dot = strstr(name, ".cold");

	return dot && (dot[5] == '\0' || dot[5] == '.');
}

static bool shares_section(struct obj *o, const struct sym *f)
{
	size_t i;

	for (i = 1; i < o->nsyms; i++) {
		const struct sym *s = &o->syms[i];

		if (s != f && is_func(s) && s->s.st_shndx == f->s.st_shndx)
			return true;
	}
	return false;
}

/* Does __mcount_loc of @o record an ftrace call site inside @f? */
static bool has_ftrace_site(struct obj *o, const struct sym *f)
{
	size_t i, n;
	struct rel *r;
	bool found = false;

	for (i = 1; i < o->nsecs && !found; i++) {
		size_t j;

		if (strcmp(o->secs[i].name, "__mcount_loc"))
			continue;
		n = relocs_in(o, i, 0, o->secs[i].sh.sh_size, &r);
		for (j = 0; j < n; j++) {
			const struct sym *t = &o->syms[r[j].sym];
			u64 at = r[j].addend;

			if (GELF_ST_TYPE(t->s.st_info) != STT_SECTION)
				at += t->s.st_value;
			if (t->s.st_shndx == f->s.st_shndx && at >= f->s.st_value &&
			    at < f->s.st_value + f->s.st_size)
				found = true;
		}
		free(r);
	}
	return found;
}

static void check_patchable(const struct sym *old)
{
	const char *sec = before.secs[old->s.st_shndx].name;

	if (!strncmp(sec, ".init.", 6))
		refuse("%s: __init function changed; init code is gone after boot",
		       old->name);
	if (!strncmp(sec, ".exit.", 6))
		refuse("%s: __exit function changed (section %s); it cannot be patched",
		       old->name, sec);
	if (!has_ftrace_site(&before, old))
		refuse("%s: function has no ftrace call site (notrace); it cannot be patched",
		       old->name);
	if (shares_section(&before, old))
		refuse("%s: function shares section %s with other functions; it cannot be patched",
		       old->name, sec);
}

static void add_change(struct sym *s, bool is_new)
{
	changes = xrealloc(changes, (nchanges + 1) * sizeof(*changes));
	changes[nchanges].sym = s;
	changes[nchanges].is_new = is_new;
	changes[nchanges].pos = 0;
	changes[nchanges].callback = NULL;
	changes[nchanges].copied = false;
	s->taken = ++nchanges;
}

static bool special_section(const char *name);

/*
 * A changed static function without ftrace call site (a "static inline"
 * that the compiler kept out of line is notrace, so is a system call's
 * __do_sys_*()) cannot be patched itself; its callers can, when every
 * reference to it is a direct call from a function of this file that can
 * be patched.  Those are patched (their code may be the same: they call
 * the module's copy of @f), @f is carried as a copy.  False when that
 * does not work out: the caller refuses then.
 */
static bool patch_callers(struct sym *f)
{
	struct sym **callers = NULL;
	size_t ncallers = 0, i, j, n;
	bool ok = true;
	struct rel *r;

	for (i = 1; i < after.nsecs && ok; i++) {
		const struct sec *sec = &after.secs[i];

		if (!(sec->sh.sh_flags & SHF_ALLOC) || special_section(sec->name))
			continue;
		n = relocs_in(&after, i, 0, sec->sh.sh_size, &r);
		for (j = 0; j < n && ok; j++) {
			const struct sym *t = &after.syms[r[j].sym];
			struct sym *caller;

			if (t != f && !(GELF_ST_TYPE(t->s.st_info) == STT_SECTION &&
					t->s.st_shndx == f->s.st_shndx))
				continue;
			caller = sym_at(&after, i, r[j].off, true);
			if (caller == f)
				continue;
			if (!caller || !(sec->sh.sh_flags & SHF_EXECINSTR) ||
			    (r[j].type != R_X86_64_PLT32 && r[j].type != R_X86_64_PC32)) {
				ok = false;	/* its address is taken */
				break;
			}
			callers = xrealloc(callers, (ncallers + 1) * sizeof(*callers));
			callers[ncallers++] = caller;
		}
		free(r);
	}
	for (i = 0; i < ncallers && ok; i++) {
		const struct sym *old = find_sym(&before, callers[i]->name, is_func);
		const char *sec = old ? before.secs[old->s.st_shndx].name : "";

		if (old && (!strncmp(sec, ".init.", 6) || !strncmp(sec, ".exit.", 6) ||
			    !has_ftrace_site(&before, old) || shares_section(&before, old)))
			ok = false;
	}
	if (ok && ncallers) {
		add_change(f, true);
		changes[nchanges - 1].copied = true;
		for (i = 0; i < ncallers; i++) {
			struct sym *c = callers[i];

			if (c->taken)
				continue;
			add_change(c, !find_sym(&before, c->name, is_func));
			if (!changes[nchanges - 1].is_new)
				changes[nchanges - 1].pos = sympos(&after, c->name, is_local(c));
		}
	}
	free(callers);
	return ok && ncallers;
}

static void compare_functions(void)
{
	size_t i;

	for (i = 1; i < after.nsyms; i++) {
		struct sym *s = &after.syms[i];
		struct sym *old;

		if (!is_func(s) || is_cold_part(s->name) || s->taken)
			continue;
		old = find_sym(&before, s->name, is_func);
		if (!old) {
			add_change(s, true);
			continue;
		}
		if (same_content(&before, old, &after, s) &&
		    !strcmp(before.secs[old->s.st_shndx].name, after.secs[s->s.st_shndx].name))
			continue;
		if (is_local(s) && strncmp(before.secs[old->s.st_shndx].name, ".init.", 6) &&
		    strncmp(before.secs[old->s.st_shndx].name, ".exit.", 6) &&
		    !has_ftrace_site(&before, old) && patch_callers(s))
			continue;
		check_patchable(old);
		add_change(s, false);
		changes[nchanges - 1].pos = sympos(&after, s->name, is_local(s));
	}
}

static bool data_section(const struct sec *s)
{
	return (s->sh.sh_flags & SHF_ALLOC) && !(s->sh.sh_flags & SHF_EXECINSTR) &&
	       (!strncmp(s->name, ".data", 5) || !strncmp(s->name, ".rodata", 7) ||
		!strncmp(s->name, ".bss", 4));
}

/* A variable that exists before and after must keep its initial value. */
static void compare_variables(void)
{
	size_t i;

	for (i = 1; i < after.nsyms; i++) {
		struct sym *s = &after.syms[i];
		const struct sec *sec;
		bool was_bss, is_bss;
		struct sym *old;

		if (!is_object(s))
			continue;
		sec = &after.secs[s->s.st_shndx];
		old = find_sym(&before, s->name, is_object);
		if (!old || !data_section(sec) || !data_section(&before.secs[old->s.st_shndx]))
			continue;
		/* read-only statics used by changed code are copied */
		if (is_local(s) && !(sec->sh.sh_flags & SHF_WRITE) &&
		    !(before.secs[old->s.st_shndx].sh.sh_flags & SHF_WRITE))
			continue;
		was_bss = before.secs[old->s.st_shndx].sh.sh_type == SHT_NOBITS;
		is_bss = sec->sh.sh_type == SHT_NOBITS;
		if (same_content(&before, old, &after, s) && was_bss == is_bss)
			continue;
		refuse("%s: changes the initial value of a variable; a patch cannot change data",
		       s->name);
	}
}

/*
 * Callbacks a fix declares through livepatch_helpers.h: a pointer to the
 * function in section .klp.callbacks.<kind>.  The function goes into the
 * module (new, or a copy) and klp-build names it in the klp_object.
 */
static const char * const callback_kinds[] = {
	"pre_patch", "post_patch", "pre_unpatch", "post_unpatch",
};

#define CALLBACK_SEC ".klp.callbacks."

static void find_callbacks(void)
{
	size_t i, j, k, n;
	struct rel *r;

	for (i = 1; i < after.nsecs; i++) {
		const char *kind = after.secs[i].name;

		if (strncmp(kind, CALLBACK_SEC, strlen(CALLBACK_SEC)))
			continue;
		kind += strlen(CALLBACK_SEC);
		for (k = 0; k < ARRAY_SIZE(callback_kinds); k++)
			if (!strcmp(kind, callback_kinds[k]))
				break;
		if (k == ARRAY_SIZE(callback_kinds))
			refuse("%s: unknown kind of callback", after.secs[i].name);
		n = relocs_in(&after, i, 0, after.secs[i].sh.sh_size, &r);
		for (j = 0; j < n; j++) {
			struct sym *f = &after.syms[r[j].sym];

			if (GELF_ST_TYPE(f->s.st_info) == STT_SECTION &&
			    f->s.st_shndx < SHN_LORESERVE)
				f = reloc_target(&after, f->s.st_shndx, &r[j], true);
			if (!f || !is_func(f))
				refuse("%s callback: not a function of this file",
				       callback_kinds[k]);
			if (!f->taken)
				add_change(f, true);
			if (changes[f->taken - 1].callback)
				refuse("%s: declared as a callback twice", f->name);
			changes[f->taken - 1].callback = callback_kinds[k];
		}
		free(r);
	}
}

/* ---- choosing what goes into the output ------------------------------------ */

static bool copyable_data(const struct sec *s)
{
	return (s->sh.sh_flags & SHF_ALLOC) && !(s->sh.sh_flags & SHF_WRITE) &&
	       !(s->sh.sh_flags & SHF_EXECINSTR);
}

static const char *running_name(const struct sym *t, const char *user);

/* Is @s, which function @user refers to, one that before lacks? */
static bool new_symbol(struct sym *s, const char *user)
{
	const char *name = running_name(s, user);

	return !find_sym(&before, name, is_func) && !find_sym(&before, name, is_object);
}

/*
 * Sections of entries that code refers to, one object each, of which the
 * module needs those of its code only (and must have its own: the
 * descriptor names come from __COUNTER__ and do not tell which of the
 * running kernel's is the same): the dynamic debug descriptors of
 * pr_debug().  The module loader registers the module's.
 */
static const char *user_name(size_t sec);

static bool entry_object_section(const struct sec *s)
{
	return is_entry_object_section(s->name);
}

/*
 * Mark the sections the code or data in [@from, @to) of section @sec
 * needs copied; true if any new.
 */
static bool take_referenced_range(size_t sec, u64 from, u64 to)
{
	struct rel *r;
	size_t n = relocs_in(&after, sec, from, to, &r), i;
	bool more = false;

	for (i = 0; i < n; i++) {
		struct sym *t = &after.syms[r[i].sym];
		size_t ts = t->s.st_shndx;
		struct sec *tsec;

		if (ts == SHN_UNDEF || ts >= SHN_LORESERVE)
			continue;
		tsec = &after.secs[ts];
		if (entry_object_section(tsec)) {
			struct sym *e = t;

			if (GELF_ST_TYPE(t->s.st_info) == STT_SECTION)
				e = reloc_target(&after, ts, &r[i], false);
			if (!e || !is_object(e))
				refuse("%s: refers to %s+%lld, which holds no object",
				       user_name(sec), tsec->name, (long long)r[i].addend);
			if (!e->copied) {
				e->copied = true;
				more = true;
			}
			continue;
		}
		if (tsec->taken)
			continue;
		if (GELF_ST_TYPE(t->s.st_info) == STT_SECTION) {
			struct sym *f = reloc_target(&after, ts, &r[i], true);

			if (f && is_cold_part(f->name)) {
				tsec->taken = true;
				more = true;
				continue;
			}
			t = reloc_target(&after, ts, &r[i], false);
		}
		if (tsec->sh.sh_flags & SHF_EXECINSTR) {
			if (t && is_cold_part(t->name)) {
				tsec->taken = true;
				more = true;
			}
			continue;
		}
		if ((copyable_data(tsec) && (!t || is_local(t))) ||
		    (t && is_object(t) && new_symbol(t, user_name(sec)))) {
			tsec->taken = true;
			more = true;
		}
	}
	free(r);
	return more;
}

static void choose_sections(void)
{
	bool more = true;
	size_t i;

	for (i = 0; i < nchanges; i++)
		after.secs[changes[i].sym->s.st_shndx].taken = true;
	while (more) {
		more = false;
		for (i = 1; i < after.nsecs; i++)
			if (after.secs[i].taken &&
			    take_referenced_range(i, 0, after.secs[i].sh.sh_size))
				more = true;
		for (i = 1; i < after.nsyms; i++) {
			struct sym *e = &after.syms[i];

			if (e->copied && take_referenced_range(e->s.st_shndx, e->s.st_value,
							       e->s.st_value + e->s.st_size))
				more = true;
		}
	}
}

/* ---- output ------------------------------------------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

static size_t buf_add(struct buf *b, const void *p, size_t len)
{
	size_t at = b->len;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 256;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return at;
}

static size_t str_add(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s) + 1);
}

struct osec {
	const char *name;
	GElf_Shdr sh;
	struct buf data;
	size_t from;		/* section of after it was made from */
	struct buf rela;	/* Elf64_Rela, symbol = output symbol ref (see below) */
};

/* Output symbols: locals get even refs, globals odd, fixed up at write. */
struct osym {
	const char *name;
	GElf_Sym s;
};

static struct osec *osecs;
static size_t nosecs = 1;
static struct osym *olocals, *oglobals;
static size_t nolocals = 1, noglobals;
static struct buf strtab = { 0 }, shstrtab = { 0 };

static size_t new_osec(const char *name, const GElf_Shdr *sh, size_t from)
{
	struct osec *o;

	osecs = xrealloc(osecs, (nosecs + 1) * sizeof(*osecs));
	o = &osecs[nosecs];
	memset(o, 0, sizeof(*o));
	o->name = name;
	o->sh = *sh;
	o->from = from;
	return nosecs++;
}

static size_t add_local(const char *name, unsigned char type, size_t shndx, u64 value,
			u64 size)
{
	struct osym *s;

	olocals = xrealloc(olocals, (nolocals + 1) * sizeof(*olocals));
	s = &olocals[nolocals];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->s.st_info = GELF_ST_INFO(STB_LOCAL, type);
	s->s.st_shndx = shndx;
	s->s.st_value = value;
	s->s.st_size = size;
	return nolocals++ * 2;
}

static size_t add_global(const char *name, unsigned char bind, unsigned char type,
			 size_t shndx, u64 value, u64 size)
{
	struct osym *s;
	size_t i;

	for (i = 0; i < noglobals; i++)
		if (!strcmp(oglobals[i].name, name))
			return i * 2 + 1;
	oglobals = xrealloc(oglobals, (noglobals + 1) * sizeof(*oglobals));
	s = &oglobals[noglobals];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	s->s.st_info = GELF_ST_INFO(bind, type);
	s->s.st_shndx = shndx;
	s->s.st_value = value;
	s->s.st_size = size;
	return noglobals++ * 2 + 1;
}

static size_t osec_symbol(size_t osec)
{
	return osecs[osec].sh.sh_link;	/* kept there until written */
}

static bool defined_in_target(const char *name)
{
	size_t i;

	for (i = 1; i < target.nsyms; i++)
		if (target.syms[i].s.st_shndx != SHN_UNDEF && !strcmp(target.syms[i].name, name))
			return true;
	return false;
}

/*
 * An undefined symbol the module gets from elsewhere: by name (an export,
 * or a global the target does not have: a new one of another object of
 * the live patch, which the module's link resolves), or as a klp ref.  A
 * module target's own symbols are always reached through klp refs, also
 * those it exports: a plain reference would make the live patch depend on
 * the module, and it could not be loaded before it.
 */
static size_t extern_ref(const char *name, bool local, unsigned char type, const char *user)
{
	char marker[KEY_LEN];

	if (!local && ((!module_target && exported(name)) || !defined_in_target(name)))
		return add_global(name, STB_GLOBAL, STT_NOTYPE, SHN_UNDEF, 0, 0);
	if (strchr(name, ' '))
		refuse("%s: cannot refer to '%s'", user, name);
	snprintf(marker, sizeof(marker), ".klp.ref.%s.%s.%lu", obj_name, name,
		 sympos(&after, name, local));
	return add_global(marker, STB_WEAK, type, SHN_UNDEF, 0, 0);
}

static const char *user_name(size_t sec)
{
	size_t i;

	for (i = 1; i < after.nsyms; i++)
		if (after.syms[i].s.st_shndx == sec && is_func(&after.syms[i]))
			return after.syms[i].name;
	return after.secs[sec].name;
}

/* The symbol relocation @r of @o points at, through a section symbol too. */
static struct sym *named_target(struct obj *o, const struct rel *r)
{
	struct sym *s = &o->syms[r->sym];
	size_t sec = s->s.st_shndx;

	if (GELF_ST_TYPE(s->s.st_info) != STT_SECTION)
		return s;
	if (sec == SHN_UNDEF || sec >= SHN_LORESERVE)
		return NULL;
	return reloc_target(o, sec, r, o->secs[sec].sh.sh_flags & SHF_EXECINSTR);
}

/*
 * The name the running kernel knows after's numbered static local @t by,
 * @t being one that function @user refers to: gcc numbers a function's
 * static locals in the order of the whole file (reads.1), so a static
 * added above it (WARN_ONCE()'s __warned) renumbers it, and after's name
 * may belong to another function's variable in the running kernel.  It is
 * the name of the local with the same stem that before's @user refers to;
 * @t's own when before has no such function (a new one) or it refers to
 * none.
 */
static const char *running_name(const struct sym *t, const char *user)
{
	struct sym *f = find_sym(&before, user, is_func);
	int len = stem_len(t);
	const char *found = NULL;
	struct rel *r;
	size_t n, i;

	if (len == (int)strlen(t->name) || !f)
		return t->name;
	n = relocs_in(&before, f->s.st_shndx, f->s.st_value, f->s.st_value + f->s.st_size, &r);
	for (i = 0; i < n; i++) {
		struct sym *s = named_target(&before, &r[i]);

		if (!s || !is_local(s) || stem_len(s) != len || strncmp(s->name, t->name, len))
			continue;
		if (found && strcmp(found, s->name))
			refuse("%s: refers to two static variables named %.*s, which is %s?",
			       user, len, t->name, t->name);
		found = s->name;
	}
	free(r);
	return found ? found : t->name;
}

/*
 * The output symbol a relocation of after's section @from against @r must
 * use, and its addend; false when there is none (caller decides).
 */
static size_t map_target(size_t from, const struct rel *r, s64 *addend)
{
	struct sym *t = &after.syms[r->sym];
	size_t ts = t->s.st_shndx;

	*addend = r->addend;
	if (GELF_ST_TYPE(t->s.st_info) == STT_SECTION) {
		struct sym *named;

		if (after.secs[ts].taken)
			return osec_symbol(after.secs[ts].out);
		named = reloc_target(&after, ts, r, after.secs[ts].sh.sh_flags & SHF_EXECINSTR);
		if (!named)
			refuse("%s: refers to %s+%lld, which holds no symbol", user_name(from),
			       after.secs[ts].name, (long long)r->addend);
		*addend -= named->s.st_value;
		t = named;
	}
	if (t->copied) {
		*addend += t->out_off;
		return osec_symbol(t->out);
	}
	if (t->s.st_shndx != SHN_UNDEF && t->s.st_shndx < SHN_LORESERVE &&
	    after.secs[t->s.st_shndx].taken) {
		*addend += t->s.st_value;
		return osec_symbol(after.secs[t->s.st_shndx].out);
	}
	return extern_ref(running_name(t, user_name(from)), is_local(t),
			  GELF_ST_TYPE(t->s.st_info), user_name(from));
}

static void add_rela(struct osec *o, u64 off, u32 type, size_t ref, s64 addend)
{
	Elf64_Rela ra = {
		.r_offset = off,
		.r_info = ((u64)ref << 32) | type,	/* ref fixed up at write */
		.r_addend = addend,
	};

	buf_add(&o->rela, &ra, sizeof(ra));
}

static bool is_klp_ref(size_t ref)
{
	return (ref & 1) && !strncmp(oglobals[ref / 2].name, ".klp.ref.", 9);
}

static void copy_section(size_t i)
{
	struct sec *s = &after.secs[i];
	GElf_Shdr sh = s->sh;
	size_t o;

	sh.sh_addr = 0;
	sh.sh_offset = 0;
	o = new_osec(s->name, &sh, i);
	if (s->sh.sh_type != SHT_NOBITS && s->data)
		buf_add(&osecs[o].data, s->data->d_buf, s->sh.sh_size);
	s->out = o;
}

static void copy_relocs(size_t i)
{
	struct osec *o = &osecs[after.secs[i].out];
	struct rel *r;
	size_t n = relocs_in(&after, i, 0, after.secs[i].sh.sh_size, &r), j;

	for (j = 0; j < n; j++) {
		s64 addend;
		size_t ref = map_target(i, &r[j], &addend);

		add_rela(o, r[j].off, r[j].type, ref, addend);
	}
	free(r);
}

struct special {
	const char *name;
	size_t entsize;
};

/* Entry tables whose entries are kept when their first field points into taken code. */
static const struct special specials[] = {
	{ "__bug_table", 12 },
	{ "__ex_table", 12 },
	{ "__jump_table", 16 },
	{ ".altinstructions", 12 },
	{ "__mcount_loc", 8 },
};

static bool special_section(const char *name)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(specials); k++)
		if (!strcmp(name, specials[k].name))
			return true;
	return false;
}

/* Does the entry at @off of special section @sec describe taken code? */
static bool entry_taken(size_t sec, u64 off, size_t entsize)
{
	struct rel *r;
	size_t n = relocs_in(&after, sec, off, off + entsize, &r);
	bool taken = false;

	if (n && r[0].off == 0) {
		struct sym *t = &after.syms[r[0].sym];

		taken = t->s.st_shndx < SHN_LORESERVE && t->s.st_shndx != SHN_UNDEF &&
			(after.secs[t->s.st_shndx].sh.sh_flags & SHF_EXECINSTR) &&
			after.secs[t->s.st_shndx].taken;
	}
	free(r);
	return taken;
}

static void copy_entry(size_t sec, size_t osec, u64 off, size_t entsize)
{
	struct osec *o = &osecs[osec];
	u64 at = o->data.len;
	struct rel *r;
	size_t n, j;

	buf_add(&o->data, (const char *)after.secs[sec].data->d_buf + off, entsize);
	n = relocs_in(&after, sec, off, off + entsize, &r);
	for (j = 0; j < n; j++) {
		s64 addend;
		size_t ref = map_target(sec, &r[j], &addend);

		/* these are applied at module load, before livepatch relocations */
		if (is_klp_ref(ref))
			refuse("%s: entry of %s needs %s, which the module loader cannot resolve",
			       user_name(after.syms[r[0].sym].s.st_shndx), after.secs[sec].name,
			       oglobals[ref / 2].name + 9);
		add_rela(&osecs[osec], at + r[j].off, r[j].type, ref, addend);
	}
	free(r);
}

static void copy_special(size_t sec, size_t entsize)
{
	struct sec *s = &after.secs[sec];
	GElf_Shdr sh = s->sh;
	u64 off;
	size_t o = 0;

	if (s->sh.sh_size % entsize)
		fail("%s: %s is not made of %zu-byte entries", after.path, s->name, entsize);
	for (off = 0; off < s->sh.sh_size; off += entsize) {
		if (!entry_taken(sec, off, entsize))
			continue;
		if (!o) {
			sh.sh_offset = 0;
			o = new_osec(s->name, &sh, sec);
		}
		copy_entry(sec, o, off, entsize);
	}
}

/*
 * Kept entries of the special sections point at strings (the file names of
 * __bug_table) and at .altinstr_replacement: those go along.
 */
static void take_special_refs(void)
{
	size_t i, k, n, j;
	u64 off;
	struct rel *r;

	for (i = 1; i < after.nsecs; i++) {
		for (k = 0; k < ARRAY_SIZE(specials); k++) {
			size_t es = specials[k].entsize;

			if (strcmp(after.secs[i].name, specials[k].name))
				continue;
			for (off = 0; off + es <= after.secs[i].sh.sh_size; off += es) {
				if (!entry_taken(i, off, es))
					continue;
				n = relocs_in(&after, i, off, off + es, &r);
				for (j = 0; j < n; j++) {
					size_t ts = after.syms[r[j].sym].s.st_shndx;
					struct sec *t;

					if (ts == SHN_UNDEF || ts >= SHN_LORESERVE)
						continue;
					t = &after.secs[ts];
					if (copyable_data(t) ||
					    !strcmp(t->name, ".altinstr_replacement"))
						t->taken = true;
				}
				free(r);
			}
		}
	}
}

/*
 * The copied objects of entry section @sec (__dyndbg) into one output
 * section of that name, each at its alignment.
 */
static void copy_entry_objects(size_t sec)
{
	struct sec *s = &after.secs[sec];
	u64 align = s->sh.sh_addralign ? s->sh.sh_addralign : 1;
	GElf_Shdr sh = s->sh;
	size_t i, o = 0;
	static const char zeros[64];

	for (i = 1; i < after.nsyms; i++) {
		struct sym *e = &after.syms[i];
		struct osec *os;

		if (!e->copied || e->s.st_shndx != sec)
			continue;
		if (!o) {
			sh.sh_offset = 0;
			sh.sh_size = 0;
			o = new_osec(s->name, &sh, sec);
		}
		os = &osecs[o];
		while (os->data.len % align)
			buf_add(&os->data, zeros, min_t(size_t, sizeof(zeros),
							align - os->data.len % align));
		e->out = o;
		e->out_off = buf_add(&os->data, (const char *)s->data->d_buf + e->s.st_value,
				     e->s.st_size);
	}
}

static void copy_entry_object_relocs(void)
{
	size_t i, j, n;
	struct rel *r;

	for (i = 1; i < after.nsyms; i++) {
		struct sym *e = &after.syms[i];

		if (!e->copied)
			continue;
		n = relocs_in(&after, e->s.st_shndx, e->s.st_value,
			      e->s.st_value + e->s.st_size, &r);
		for (j = 0; j < n; j++) {
			s64 addend;
			size_t ref = map_target(e->s.st_shndx, &r[j], &addend);

			add_rela(&osecs[e->out], e->out_off + r[j].off, r[j].type, ref, addend);
		}
		free(r);
	}
}

static void build_output(void)
{
	size_t i, k;

	take_special_refs();
	for (i = 1; i < after.nsecs; i++)
		if (after.secs[i].taken)
			copy_section(i);
	for (i = 1; i < after.nsecs; i++)
		if (entry_object_section(&after.secs[i]))
			copy_entry_objects(i);
	for (i = 1; i < nosecs; i++)
		osecs[i].sh.sh_link = add_local("", STT_SECTION, i, 0, 0);
	/*
	 * Functions and variables keep their names; new global ones stay
	 * global, for the other objects of the live patch to use.
	 */
	for (i = 1; i < after.nsyms; i++) {
		struct sym *s = &after.syms[i];
		size_t out;

		if ((!is_func(s) && !is_object(s)) || !after.secs[s->s.st_shndx].taken)
			continue;
		out = after.secs[s->s.st_shndx].out;
		if (!is_local(s) && new_symbol(s, ""))
			add_global(s->name, STB_GLOBAL, GELF_ST_TYPE(s->s.st_info), out,
				   s->s.st_value, s->s.st_size);
		else if (is_func(s))
			add_local(s->name, STT_FUNC, out, s->s.st_value, s->s.st_size);
	}
	for (k = 0; k < nchanges; k++) {
		char alias[KEY_LEN];
		struct sym *s = changes[k].sym;

		if (changes[k].is_new && !changes[k].callback)
			continue;
		snprintf(alias, sizeof(alias), "%s%zu", alias_prefix, k);
		add_global(alias, STB_GLOBAL, STT_FUNC, after.secs[s->s.st_shndx].out,
			   s->s.st_value, s->s.st_size);
	}
	for (i = 1; i < after.nsecs; i++)
		if (after.secs[i].taken)
			copy_relocs(i);
	copy_entry_object_relocs();
	for (i = 1; i < after.nsecs; i++)
		for (k = 0; k < ARRAY_SIZE(specials); k++)
			if (!strcmp(after.secs[i].name, specials[k].name))
				copy_special(i, specials[k].entsize);
}

static size_t final_index(size_t ref)
{
	return ref & 1 ? nolocals + ref / 2 : ref / 2;
}

static Elf_Scn *write_section(Elf *elf, const char *name, const GElf_Shdr *tmpl,
			      const void *p, size_t len)
{
	Elf_Scn *scn = elf_newscn(elf);
	Elf_Data *d = elf_newdata(scn);
	GElf_Shdr sh = *tmpl;

	if (sh.sh_type == SHT_NOBITS) {
		p = NULL;
		len = sh.sh_size;
	}
	d->d_buf = (void *)p;
	d->d_size = len;
	d->d_align = sh.sh_addralign ? sh.sh_addralign : 1;
	d->d_type = ELF_T_BYTE;
	sh.sh_name = str_add(&shstrtab, name);
	sh.sh_size = len;
	gelf_update_shdr(scn, &sh);
	return scn;
}

static void fix_rela_symbols(struct buf *b)
{
	Elf64_Rela *ra = (Elf64_Rela *)b->p;
	size_t i;

	for (i = 0; i < b->len / sizeof(*ra); i++) {
		size_t ref = ra[i].r_info >> 32;

		ra[i].r_info = ((u64)final_index(ref) << 32) | (u32)ra[i].r_info;
	}
}

static void write_output(const char *path)
{
	size_t symtab_idx = nosecs, strtab_idx = nosecs + 1, shstr_idx = nosecs + 2, i;
	struct buf syms = { 0 };
	GElf_Shdr sh;
	GElf_Ehdr eh;
	Elf *elf;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("%s: %s", path, strerror(errno));
	elf = elf_begin(fd, ELF_C_WRITE, NULL);
	gelf_newehdr(elf, ELFCLASS64);
	gelf_getehdr(elf, &eh);
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shstrndx = shstr_idx;
	gelf_update_ehdr(elf, &eh);
	str_add(&strtab, "");
	str_add(&shstrtab, "");

	for (i = 1; i < nosecs; i++) {
		sh = osecs[i].sh;
		sh.sh_link = 0;
		sh.sh_info = 0;
		write_section(elf, osecs[i].name, &sh, osecs[i].data.p, osecs[i].data.len);
	}

	for (i = 0; i < nolocals + noglobals; i++) {
		struct osym *o = i < nolocals ? &olocals[i] : &oglobals[i - nolocals];
		Elf64_Sym s = { 0 };

		if (i) {
			s.st_name = o->name[0] ? str_add(&strtab, o->name) : 0;
			s.st_info = o->s.st_info;
			s.st_shndx = o->s.st_shndx;
			s.st_value = o->s.st_value;
			s.st_size = o->s.st_size;
		}
		buf_add(&syms, &s, sizeof(s));
	}
	memset(&sh, 0, sizeof(sh));
	sh.sh_type = SHT_SYMTAB;
	sh.sh_entsize = sizeof(Elf64_Sym);
	sh.sh_addralign = 8;
	sh.sh_link = strtab_idx;
	sh.sh_info = nolocals;
	write_section(elf, ".symtab", &sh, syms.p, syms.len);

	memset(&sh, 0, sizeof(sh));
	sh.sh_type = SHT_STRTAB;
	sh.sh_addralign = 1;
	write_section(elf, ".strtab", &sh, strtab.p, strtab.len);

	/* its data is set last, when it holds every section name */
	write_section(elf, ".shstrtab", &sh, NULL, 0);

	for (i = 1; i < nosecs; i++) {
		char *name;

		if (!osecs[i].rela.len)
			continue;
		name = xcalloc(strlen(osecs[i].name) + 6, 1);
		sprintf(name, ".rela%s", osecs[i].name);
		fix_rela_symbols(&osecs[i].rela);
		memset(&sh, 0, sizeof(sh));
		sh.sh_type = SHT_RELA;
		sh.sh_flags = SHF_INFO_LINK;
		sh.sh_entsize = sizeof(Elf64_Rela);
		sh.sh_addralign = 8;
		sh.sh_link = symtab_idx;
		sh.sh_info = i;
		write_section(elf, name, &sh, osecs[i].rela.p, osecs[i].rela.len);
	}

	{
		Elf_Scn *scn = elf_getscn(elf, shstr_idx);
		Elf_Data *d = elf_getdata(scn, NULL);

		gelf_getshdr(scn, &sh);
		d->d_buf = shstrtab.p;
		d->d_size = shstrtab.len;
		sh.sh_size = shstrtab.len;
		gelf_update_shdr(scn, &sh);
	}
	if (elf_update(elf, ELF_C_WRITE) < 0)
		fail("%s: %s", path, elf_errmsg(-1));
	elf_end(elf);
	close(fd);
}

static void print_changes(void)
{
	size_t i;

	for (i = 0; i < nchanges; i++) {
		if (changes[i].callback)
			printf("callback %s %s %s%zu\n", changes[i].callback,
			       changes[i].sym->name, alias_prefix, i);
		else if (changes[i].copied)
			printf("copied %s\n", changes[i].sym->name);
		else if (changes[i].is_new)
			printf("new %s\n", changes[i].sym->name);
		else
			printf("changed %s %lu %s%zu\n", changes[i].sym->name, changes[i].pos,
			       alias_prefix, i);
	}
}

static void bad_usage(void)
{
	fputs("usage: klp-diff -s SRC -t VMLINUX -e SYMVERS [-n OBJNAME] [-p PREFIX]\n"
	      "                [-o OUT.o] BEFORE.o AFTER.o\n", stderr);
	exit(EXIT_FAILURE);
}

int main(int argc, char **argv)
{
	const char *out = NULL, *tgt = NULL, *symvers = NULL;
	bool any_changed = false;
	size_t i;
	int c;

	while ((c = getopt(argc, argv, "s:t:e:n:p:o:")) != -1) {
		switch (c) {
		case 's':
			src_name = optarg;
			break;
		case 't':
			tgt = optarg;
			break;
		case 'e':
			symvers = optarg;
			break;
		case 'n':
			obj_name = optarg;
			break;
		case 'p':
			alias_prefix = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			bad_usage();
		}
	}
	if (argc - optind != 2 || !tgt || !symvers)
		bad_usage();
	if (elf_version(EV_CURRENT) == EV_NONE)
		fail("libelf: %s", elf_errmsg(-1));
	open_obj(&before, argv[optind]);
	open_obj(&after, argv[optind + 1]);
	open_obj(&target, tgt);
	read_exports(symvers);

	module_target = strcmp(obj_name, "vmlinux");
	compare_variables();
	compare_functions();
	find_callbacks();
	for (i = 0; i < nchanges; i++)
		any_changed |= !changes[i].is_new || changes[i].callback;
	if (!any_changed)
		nchanges = 0;	/* new functions alone are never called */
	if (nchanges && out) {
		choose_sections();
		build_output();
		write_output(out);
	}
	print_changes();
	return 0;
}
