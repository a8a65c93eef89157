/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86 parts of live patching.
 *
 * x86's apply_relocate_add() refuses to write a relocation over a non-zero
 * value.  A live patch for a module has its relocations for that module
 * applied each time the module loads, so they must be cleared again when
 * the module goes away, or the next load of the module would be refused.
 */
#ifndef _ASM_X86_LIVEPATCH_H
#define _ASM_X86_LIVEPATCH_H

#include <linux/elf.h>
#include <linux/memory.h>
#include <linux/mutex.h>
#include <asm/text-patching.h>

/* The number of bytes a relocation of @type writes, 0 for none. */
static inline size_t klp_arch_reloc_size(unsigned int type)
{
	switch (type) {
	case R_X86_64_64:
	case R_X86_64_PC64:
		return 8;
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		return 4;
	default:
		return 0;
	}
}

/**
 * klp_arch_clear_relocs() - undo what one relocation section wrote
 * @sechdrs: section headers of the live patch module
 * @relsec: index of a SHF_RELA_LIVEPATCH section
 *
 * Every place the section relocates is set back to zero.  The module's text
 * is read-only by now, so the writes go through text_poke().
 */
static inline void klp_arch_clear_relocs(Elf64_Shdr *sechdrs,
					 unsigned int relsec)
{
	static const u64 zero;
	Elf64_Shdr *relasec = &sechdrs[relsec];
	Elf64_Rela *rela = (Elf64_Rela *)relasec->sh_addr;
	unsigned long base = sechdrs[relasec->sh_info].sh_addr;
	unsigned int i, nr = relasec->sh_size / sizeof(*rela);

	mutex_lock(&text_mutex);
	for (i = 0; i < nr; i++) {
		size_t len = klp_arch_reloc_size(ELF64_R_TYPE(rela[i].r_info));

		if (len)
			text_poke((void *)(base + rela[i].r_offset), &zero,
				  len);
	}
	text_poke_sync();
	mutex_unlock(&text_mutex);
}

#define klp_arch_clear_relocs klp_arch_clear_relocs

#endif /* _ASM_X86_LIVEPATCH_H */
