#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn marked references of a live patch module into livepatch relocations.

Usage: klp_convert.py IN.ko OUT.ko

A patch module's source refers to a symbol the module loader cannot
resolve (a static variable or function of vmlinux or of a module) through
a weak extern declaration whose assembler name is a marker:

    extern int target_value
        __asm__(".klp.ref.<objname>.<symbol>.<sympos>") __weak;

<objname> is "vmlinux" or a module name, <symbol> the name in kallsyms
(it may contain dots), <sympos> its position, 0 for a unique name (see
Documentation/livepatch/module-elf-format.rst).  The compiler leaves each
use as a relocation against an undefined symbol of that name; being weak,
modpost does not report it.  This script rewrites the module so that

  - every relocation against a marker symbol moves out of its section
    (".rela.text", ...) into ".klp.rela.<objname>.<section>" (SHT_RELA,
    flags SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH, sh_link the
    symbol table, sh_info the relocated section), one section per object
    and relocated section;
  - every marker symbol becomes ".klp.sym.<objname>.<symbol>,<sympos>",
    global, with section index SHN_LIVEPATCH.

The module loader then leaves these to the livepatch core, which applies
them when the object is present.

It must run on the finished module, after the last "ld -r" and after
"strip --strip-debug" (modules_install with INSTALL_MOD_STRIP): both
rebuild the symbol table and mangle the new sections (ld turns them into
data of an unknown type, strip re-points their symbols).  kbuild has no
step after the final link of a module, so the harness converts the
installed copies (harness/build-kernel.sh).

Only ELF64 little-endian (x86_64) relocatable files are handled; the
standard library is all it needs.
"""

import struct
import sys

MARKER = ".klp.ref."
SYM_PREFIX = ".klp.sym."
RELA_PREFIX = ".klp.rela."

SHT_SYMTAB = 2
SHT_RELA = 4
SHF_ALLOC = 0x2
SHF_INFO_LINK = 0x40
SHF_RELA_LIVEPATCH = 0x00100000
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_LIVEPATCH = 0xFF20
STB_GLOBAL = 1

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
RELA = struct.Struct("<QQq")


class ConvertError(Exception):
    pass


def cstr(table, off):
    end = table.index(b"\0", off)
    return table[off:end].decode()


def parse_marker(name):
    """Return (objname, symbol, sympos) of a marker symbol name."""
    rest = name[len(MARKER):]
    obj, dot, rest = rest.partition(".")
    sym, dot2, pos = rest.rpartition(".")
    if not obj or not dot or not dot2 or not sym or not pos.isdigit():
        raise ConvertError(f"badly formed marker symbol '{name}' "
                           f"(want {MARKER}<objname>.<symbol>.<sympos>)")
    return obj, sym, int(pos)


def convert(data):
    ehdr = list(EHDR.unpack_from(data, 0))
    ident = ehdr[0]
    if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
        raise ConvertError("not an ELF64 little-endian file")
    if ehdr[1] != 1:
        raise ConvertError("not a relocatable object (ET_REL)")
    shoff, shentsize, shnum, shstrndx = ehdr[6], ehdr[11], ehdr[12], ehdr[13]
    if shentsize != SHDR.size or shnum == 0 or shnum >= SHN_LORESERVE:
        raise ConvertError("unsupported section header table")

    shdrs = [list(SHDR.unpack_from(data, shoff + i * SHDR.size))
             for i in range(shnum)]
    shstrtab = bytes(data[shdrs[shstrndx][4]:
                          shdrs[shstrndx][4] + shdrs[shstrndx][5]])

    def secname(i):
        return cstr(shstrtab, shdrs[i][0])

    symtabs = [i for i, s in enumerate(shdrs) if s[1] == SHT_SYMTAB]
    if len(symtabs) != 1:
        raise ConvertError("need exactly one symbol table")
    symndx = symtabs[0]
    strndx = shdrs[symndx][6]
    strtab = bytearray(data[shdrs[strndx][4]:
                            shdrs[strndx][4] + shdrs[strndx][5]])
    nsyms = shdrs[symndx][5] // SYM.size
    symoff = shdrs[symndx][4]

    # Marker symbols, renamed in place: symbol index -> objname
    markers = {}
    for i in range(1, nsyms):
        st = list(SYM.unpack_from(data, symoff + i * SYM.size))
        name = cstr(strtab, st[0])
        if not name.startswith(MARKER):
            continue
        if st[3] != SHN_UNDEF:
            raise ConvertError(f"marker symbol '{name}' is defined here")
        obj, sym, pos = parse_marker(name)
        newname = f"{SYM_PREFIX}{obj}.{sym},{pos}"
        st[0] = len(strtab)
        st[1] = (STB_GLOBAL << 4) | (st[1] & 0xF)  # the marker was weak
        st[3] = SHN_LIVEPATCH
        strtab += newname.encode() + b"\0"
        SYM.pack_into(data, symoff + i * SYM.size, *st)
        markers[i] = obj
    if not markers:
        raise ConvertError(f"no symbol named {MARKER}*: nothing to convert")

    # Split the relocation sections.
    new_secs = []       # (name, sh_info, entries bytes)
    for i, sh in enumerate(shdrs):
        if sh[1] != SHT_RELA or sh[6] != symndx or sh[2] & SHF_RELA_LIVEPATCH:
            continue
        keep, moved = [], {}
        for off in range(sh[4], sh[4] + sh[5], RELA.size):
            entry = bytes(data[off:off + RELA.size])
            r_sym = RELA.unpack(entry)[1] >> 32
            if r_sym in markers:
                moved.setdefault(markers[r_sym], []).append(entry)
            else:
                keep.append(entry)
        if not moved:
            continue
        target = secname(sh[7])
        if target.startswith((".init", ".exit")):
            # applied after the patch module loaded: init code is gone
            raise ConvertError(f"livepatch reference from {target}")
        kept = b"".join(keep)
        data[sh[4]:sh[4] + len(kept)] = kept
        sh[5] = len(kept)
        for obj, entries in sorted(moved.items()):
            new_secs.append((f"{RELA_PREFIX}{obj}.{target}", sh[7],
                             b"".join(entries)))

    # Append the new tables and sections, then a new section header table.
    shstr = bytearray(shstrtab)

    def append(blob, align):
        while len(data) % align:
            data.append(0)
        off = len(data)
        data.extend(blob)
        return off

    shdrs[strndx][4] = append(strtab, 1)
    shdrs[strndx][5] = len(strtab)
    for name, info, entries in new_secs:
        name_off = len(shstr)
        shstr += name.encode() + b"\0"
        off = append(entries, 8)
        shdrs.append([name_off, SHT_RELA,
                      SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH,
                      0, off, len(entries), symndx, info, 8, RELA.size])
    shdrs[shstrndx][4] = append(shstr, 1)
    shdrs[shstrndx][5] = len(shstr)
    if len(shdrs) >= SHN_LORESERVE:
        raise ConvertError("too many sections")

    ehdr[6] = append(b"".join(SHDR.pack(*s) for s in shdrs), 8)
    ehdr[12] = len(shdrs)
    EHDR.pack_into(data, 0, *ehdr)
    return [name for name, _, _ in new_secs]


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = bytearray(f.read())
    try:
        convert(data)
    except (ConvertError, struct.error, ValueError, IndexError) as e:
        print(f"klp_convert: {argv[1]}: {e}", file=sys.stderr)
        return 1
    with open(argv[2], "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
