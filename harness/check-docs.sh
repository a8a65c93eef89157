#!/bin/bash
# Documentation checks of the livepatch project.
#
#   check-docs.sh [rst [FILE|DIR]...]
#       Parse the reStructuredText files (default: Documentation/livepatch/
#       of this checkout) with docutils and check the ABI file
#       Documentation/ABI/testing/sysfs-kernel-livepatch.  Sphinx-only
#       constructs are accepted: the kernel-doc, toctree and only directives
#       and the :c:func:/:c:type:/:ref:/:doc:-style roles.  Every docutils
#       message of level 2 (WARNING) or more is printed as FILE:LINE and
#       fails the check, as do: a file without a title, a :doc: reference or
#       toctree entry naming a missing file, a file of the directory that no
#       toctree lists, a kernel-doc directive naming a missing source file
#       or an unknown option.
#
#   check-docs.sh kdoc KERNEL_TREE      (or just: check-docs.sh KERNEL_TREE)
#       Run KERNEL_TREE/scripts/kernel-doc -none on this project's C files
#       and headers; any output is a failure.  Every exported function of
#       kernel/livepatch/ and every struct defined in include/linux/
#       livepatch.h must have a kernel-doc comment.  Then run every kernel-doc
#       directive of Documentation/livepatch/api.rst through kernel-doc -rst
#       as Sphinx would; a warning, or a directive that pulls in nothing, is
#       a failure.  KLP_KDOC_VERBOSE=1 adds -v (its "info:" lines are
#       ignored, its warnings are not).  Finally the tree's get_abi.pl
#       must validate the ABI file, and its rendering must parse cleanly.
#
#   check-docs.sh sphinx KERNEL_TREE
#       make htmldocs SPHINXDIRS=livepatch in KERNEL_TREE (output in a
#       temporary directory), which must already hold this checkout's
#       Documentation/livepatch (the harness' prepared tree does).  Any
#       Sphinx warning is a failure.  Needs sphinx-build (python3-sphinx).
#
# Exit status: 0 clean, 1 problems found, 2 usage or missing tools.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCDIR=Documentation/livepatch
ABIFILE=Documentation/ABI/testing/sysfs-kernel-livepatch
# The C sources and headers this project owns.
KDOC_SOURCES=(kernel/livepatch include/linux/livepatch.h include/linux/livepatch_sched.h
	arch/x86/include/asm/livepatch.h samples/livepatch lib/livepatch)

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit "${1:-2}"
}

msg() { printf 'check-docs: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# rst: docutils with no-op stand-ins for what only Sphinx knows.
read -r -d '' RST_CHECKER <<'PYEOF' || true
import io
import os
import re
import sys

try:
    import docutils
    import docutils.core
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives, roles
except ImportError:
    sys.stderr.write("check-docs: python3-docutils is not installed\n")
    sys.exit(2)

root = sys.argv[1]
paths = sys.argv[2:]
problems = []

KERNELDOC_OPTIONS = ("doc", "export", "internal", "identifiers",
                     "no-identifiers", "functions")


class AnyOptions(dict):
    """An option_spec that accepts every option, unchanged."""

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return directives.unchanged


def doc_exists(base_dir, target):
    target = target.strip()
    if target.startswith("/"):
        path = os.path.join(root, "Documentation", target.lstrip("/"))
    else:
        path = os.path.join(base_dir, target)
    return os.path.isfile(path + ".rst") or os.path.isfile(path)


class KernelDoc(Directive):
    required_arguments = 1
    optional_arguments = 4
    final_argument_whitespace = True
    has_content = False
    option_spec = AnyOptions()

    def run(self):
        rep = self.state.document.reporter
        out = []
        src = self.arguments[0].split()[0]
        if not os.path.isfile(os.path.join(root, src)):
            out.append(rep.warning("kernel-doc: no such source file: %s"
                                   % src, line=self.lineno))
        for opt in self.options:
            if opt not in KERNELDOC_OPTIONS:
                out.append(rep.warning("kernel-doc: unknown option :%s:"
                                       % opt, line=self.lineno))
        return out


class TocTree(Directive):
    has_content = True
    option_spec = AnyOptions()

    def run(self):
        rep = self.state.document.reporter
        base = os.path.dirname(self.state.document["source"])
        out = []
        entries = self.state.document.settings.klp_toctree
        for i, entry in enumerate(self.content):
            entry = entry.strip()
            if not entry or entry.startswith(":"):
                continue
            m = re.match(r"^(?:.*<(.+)>|(.+))$", entry)
            target = (m.group(1) or m.group(2)).strip()
            entries.add(os.path.normpath(os.path.join(base, target)))
            if not doc_exists(base, target):
                out.append(rep.warning("toctree: no such document: %s"
                                       % target,
                                       line=self.content_offset + i + 1))
        return out


class Transparent(Directive):
    """Sphinx's "only": keep the content, ignore the condition."""
    required_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def run(self):
        node = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class Ignored(Directive):
    optional_arguments = 99
    final_argument_whitespace = True
    has_content = True
    option_spec = AnyOptions()

    def run(self):
        return []


def plain_role(name, rawtext, text, lineno, inliner, options=None,
               content=None):
    return [nodes.literal(rawtext, text)], []


def doc_role(name, rawtext, text, lineno, inliner, options=None,
             content=None):
    m = re.match(r"^(?:.*<(.+)>|(.+))$", text, re.S)
    target = (m.group(1) or m.group(2)).strip()
    base = os.path.dirname(inliner.document["source"])
    msgs = []
    if not doc_exists(base, target):
        msgs.append(inliner.reporter.warning(":doc: no such document: %s"
                                             % target, line=lineno))
    return [nodes.literal(rawtext, text)], msgs


directives.register_directive("kernel-doc", KernelDoc)
directives.register_directive("toctree", TocTree)
directives.register_directive("only", Transparent)
for name in ("c:function", "c:type", "c:macro", "c:struct", "c:member",
             "c:var", "c:enum", "c:enumerator", "c:union", "index",
             "kernel-feat", "kernel-abi", "kernel-include",
             "maintainers-include", "flat-table", "kernel-figure",
             "kernel-image", "kernel-render", "highlight", "code-block"):
    directives.register_directive(name, Ignored)
for name in ("c:func", "c:type", "c:macro", "c:data", "c:member",
             "c:struct", "c:union", "c:enum", "c:expr", "c:texpr", "ref",
             "numref", "term", "envvar", "option", "file", "samp",
             "kbd", "command", "program", "abbr", "manpage"):
    roles.register_local_role(name, plain_role)
roles.register_local_role("doc", doc_role)

LINE = re.compile(r"^(?P<file>.*?):(?P<line>\d+)?:? ?\((?P<kind>[A-Z]+)/"
                  r"(?P<level>\d)\) (?P<text>.*)$")

toc_entries = set()
checked = []
for path in paths:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    stream = io.StringIO()
    settings = {
        "report_level": 2,
        "halt_level": 5,
        "warning_stream": stream,
        "file_insertion_enabled": False,
        "raw_enabled": False,
        "input_encoding": "utf-8",
        "klp_toctree": toc_entries,
        "doctitle_xform": True,
    }
    try:
        doctree = docutils.core.publish_doctree(
            text, source_path=path, settings_overrides=settings)
    except Exception as exc:  # a halt or a crash of a stand-in
        problems.append("%s:1: parse aborted: %s" % (path, exc))
        continue
    checked.append(path)
    for line in stream.getvalue().splitlines():
        m = LINE.match(line)
        if m:
            problems.append("%s:%s: %s: %s" % (
                m.group("file"), m.group("line") or "1",
                m.group("kind").lower(), m.group("text")))
        elif line.strip() and problems:
            problems[-1] += "\n    " + line.strip()
        elif line.strip():
            problems.append("%s:1: %s" % (path, line.strip()))
    if not doctree.get("title"):
        problems.append("%s:1: error: no document title (an over- and "
                        "underlined heading at the top)" % path)

# Sphinx warns about documents that no toctree lists.
indexed_dirs = {os.path.dirname(e) for e in toc_entries}
for path in checked:
    base, name = os.path.split(os.path.normpath(path))
    if name == "index.rst" or base not in indexed_dirs:
        continue
    if os.path.splitext(os.path.normpath(path))[0] not in toc_entries:
        problems.append("%s:1: warning: document is not in any toctree"
                        % path)

# docutils reports some problems twice (e.g. when it re-parses a section).
problems = list(dict.fromkeys(problems))
for p in problems:
    if p.startswith(root + "/"):
        p = p[len(root) + 1:]
    print(p)
print("check-docs: rst: %d file(s), %d problem(s) (docutils %s)"
      % (len(paths), len(problems), docutils.__version__), file=sys.stderr)
sys.exit(1 if problems else 0)
PYEOF

# ABI files: "Tag: value" blocks, one per What:, in the format of
# Documentation/ABI/README.
read -r -d '' ABI_CHECKER <<'PYEOF' || true
import re
import sys

REQUIRED = ("What", "Date", "KernelVersion", "Contact", "Description")
KNOWN = REQUIRED + ("Users",)
bad = 0


def complain(path, line, text):
    global bad
    bad += 1
    print("%s:%d: error: %s" % (path, line, text))


for path in sys.argv[1:]:
    entries = []
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    cur = None
    tag = None
    for n, line in enumerate(lines, 1):
        m = re.match(r"^([A-Za-z]+):(\s+|$)(.*)$", line)
        if m and not line[0].isspace():
            tag = m.group(1)
            if tag not in KNOWN:
                complain(path, n, "unknown tag %s:" % tag)
                continue
            if tag == "What" and (cur is None or "What" not in cur["seen"]
                                  or len(cur["seen"]) > 1):
                cur = {"line": n, "seen": [], "desc": 0}
                entries.append(cur)
            if cur is None:
                complain(path, n, "%s: before the first What:" % tag)
                continue
            if tag in cur["seen"] and tag != "What":
                complain(path, n, "%s: given twice" % tag)
            cur["seen"].append(tag)
            if tag == "Description" and m.group(3).strip():
                cur["desc"] += 1
            elif tag not in ("Description",) and not m.group(3).strip():
                complain(path, n, "%s: has no value" % tag)
        elif line.strip() and cur is not None and tag == "Description":
            if not line[0].isspace():
                complain(path, n, "Description text must be indented")
            cur["desc"] += 1
        elif line.strip():
            complain(path, n, "text outside of a Description")
    if not entries:
        complain(path, 1, "no What: entries")
    for e in entries:
        for t in REQUIRED:
            if t not in e["seen"]:
                complain(path, e["line"], "entry lacks %s:" % t)
        if not e["desc"]:
            complain(path, e["line"], "entry has an empty Description")
print("check-docs: abi: %d file(s), %d problem(s)" % (len(sys.argv) - 1, bad),
      file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF

check_rst() {
	local files=() p f rc=0
	if (($# == 0)); then
		set -- "$ROOT/$DOCDIR"
	fi
	for p in "$@"; do
		if [[ -d $p ]]; then
			for f in "$p"/*.rst; do
				[[ -e $f ]] && files+=("$f")
			done
		elif [[ -f $p ]]; then
			files+=("$p")
		else
			msg "no such file or directory: $p"
			return 2
		fi
	done
	if ((${#files[@]} == 0)); then
		msg "no .rst files found in: $*"
		return 1
	fi
	command -v python3 >/dev/null || {
		msg "python3 is not installed"
		return 2
	}
	python3 -c "$RST_CHECKER" "$ROOT" "${files[@]}" || rc=$?
	if [[ -f $ROOT/$ABIFILE ]]; then
		(cd "$ROOT" && python3 -c "$ABI_CHECKER" "$ABIFILE") || ((rc)) || rc=1
	else
		msg "$ABIFILE is missing"
		rc=1
	fi
	return "$rc"
}

# ---------------------------------------------------------------------------
# kdoc: the kernel's own kernel-doc script on our sources and on api.rst.

# kdoc_sources: our C files and headers, one per line, relative to ROOT.
kdoc_sources() {
	local p
	for p in "${KDOC_SOURCES[@]}"; do
		if [[ -d $ROOT/$p ]]; then
			find "$ROOT/$p" -type f \( -name '*.c' -o -name '*.h' \) \
				-printf "$p/%P\n"
		elif [[ -f $ROOT/$p ]]; then
			echo "$p"
		fi
	done | sort
}

# kdoc_public_symbols: "FILE SYMBOL" for each exported function of the core
# and each struct defined in include/linux/livepatch.h.
kdoc_public_symbols() {
	local f
	for f in kernel/livepatch/*.c; do
		[[ -f $f ]] || continue
		{ grep -oE 'EXPORT_SYMBOL(_GPL)?\([A-Za-z0-9_]+\)' "$f" || true; } |
			sed -E "s|.*\\(([A-Za-z0-9_]+)\\)|$f \\1|"
	done
	f=include/linux/livepatch.h
	[[ -f $f ]] && sed -nE "s|^struct ([A-Za-z0-9_]+) \\{.*|$f \\1|p" "$f"
	return 0
}

# kdoc_filter: drop what kernel-doc -v prints that is not a warning.
kdoc_filter() {
	grep -v -E '^[^ ]+:[0-9]+: info: |^[0-9]+ warnings?$' || true
}

# api_directives FILE: print each kernel-doc directive of FILE as
# "LINE<TAB>SOURCE<TAB>ARGS", ARGS being the kernel-doc options that Sphinx's
# kerneldoc extension would pass, separated by the character \037.
api_directives() {
	awk '
	function add(a) { args = args (args == "" ? "" : "\037") a }
	function flush() {
		if (src != "") printf "%d\t%s\t%s\n", line, src, args
		src = ""
	}
	/^\.\. kernel-doc::/ {
		flush(); line = NR; src = $3; args = ""; next
	}
	src != "" && /^[ \t]+:[a-z-]+:/ {
		opt = $0; sub(/^[ \t]+:/, "", opt)
		name = opt; sub(/:.*/, "", name)
		val = opt; sub(/^[a-z-]+:[ \t]*/, "", val)
		if (name == "export") add("-export")
		else if (name == "internal") add("-internal")
		else if (name == "doc") { add("-function"); add(val) }
		else if (name == "identifiers" || name == "functions") {
			n = split(val, ids, /[ \t]+/)
			for (i = 1; i <= n; i++)
				if (ids[i] != "") { add("-function"); add(ids[i]) }
		} else if (name == "no-identifiers") {
			n = split(val, ids, /[ \t]+/)
			for (i = 1; i <= n; i++)
				if (ids[i] != "") { add("-nosymbol"); add(ids[i]) }
		}
		next
	}
	{ flush() }
	END { flush() }
	' "$1"
}

check_kdoc() {
	local tree=${1:-} kdoc f out n=0 bad=0 line src args pulled errf
	local verbose=() argv=() i
	[[ -n $tree ]] || usage
	kdoc=$tree/scripts/kernel-doc
	[[ -x $kdoc || -f $kdoc ]] || {
		msg "$kdoc not found (is $tree a kernel tree?)"
		return 2
	}
	command -v perl >/dev/null || {
		msg "perl is not installed (scripts/kernel-doc needs it)"
		return 2
	}
	[[ ${KLP_KDOC_VERBOSE:-0} == 1 ]] && verbose=(-v)

	cd "$ROOT"
	while read -r f; do
		n=$((n + 1))
		out=$(perl "$kdoc" "${verbose[@]}" -none "$f" 2>&1 | kdoc_filter)
		if [[ -n $out ]]; then
			printf '%s\n' "$out"
			bad=$((bad + $(printf '%s\n' "$out" | wc -l)))
		fi
	done < <(kdoc_sources)
	msg "kernel-doc -none: $n file(s), $bad problem(s)"

	# Every exported function and every struct defined in the public
	# header needs a kernel-doc comment somewhere in our sources.
	local documented missing=0 sym
	documented=$(while read -r f; do
		perl "$kdoc" -v -none "$f" 2>&1
	done < <(kdoc_sources) |
		sed -n 's/.*: info: Scanning doc for [a-z]* \([A-Za-z0-9_]*\).*/\1/p' |
		sort -u)
	while read -r f sym; do
		grep -qx -- "$sym" <<<"$documented" && continue
		# 6.1's kernel-doc documents no variables: an exported one
		# defined by a DEFINE_*() macro (a static key) needs a comment
		# ending on the line right above its definition instead.
		if grep -qE "^DEFINE_[A-Z_]+\($sym\);" "$f"; then
			grep -B1 -E "^DEFINE_[A-Z_]+\($sym\);" "$f" | head -n 1 |
				grep -qE '\*/$' && continue
			echo "$f: $sym (a variable) has no comment right above its definition"
		else
			echo "$f: $sym has no kernel-doc comment"
		fi
		missing=$((missing + 1))
	done < <(kdoc_public_symbols)
	msg "kernel-doc coverage: $missing undocumented public symbol(s)"
	bad=$((bad + missing))

	if [[ -f $DOCDIR/api.rst ]]; then
		local d=0 dbad=0
		errf=$(mktemp)
		# shellcheck disable=SC2064 # expand now: errf is local
		trap "rm -f '$errf'" EXIT
		while IFS=$'\t' read -r line src args; do
			d=$((d + 1))
			if [[ ! -f $src ]]; then
				echo "$DOCDIR/api.rst:$line: kernel-doc source $src not found"
				dbad=$((dbad + 1))
				continue
			fi
			argv=()
			[[ -n $args ]] && IFS=$'\037' read -r -a argv <<<"$args"
			pulled=$(perl "$kdoc" -rst -enable-lineno -sphinx-version 5.3.0 \
				"${argv[@]}" "$src" 2>"$errf") || true
			out=$(kdoc_filter <"$errf")
			if [[ -n $out ]]; then
				printf '%s: %s\n' "$DOCDIR/api.rst:$line" "$out"
				dbad=$((dbad + 1))
			fi
			if ! grep -q '^\.\. c:' <<<"$pulled"; then
				echo "$DOCDIR/api.rst:$line: kernel-doc:: $src ${argv[*]} pulls in nothing"
				dbad=$((dbad + 1))
			fi
			# kernel-doc -function stays silent about a name it
			# does not find as long as it finds another one.
			for ((i = 0; i < ${#argv[@]}; i++)); do
				[[ ${argv[i]} == -function ]] || continue
				sym=${argv[i + 1]}
				grep -qE "^\.\. c:[a-z]+:: (.*[ *])?$sym( |\(|$)" <<<"$pulled" && continue
				echo "$DOCDIR/api.rst:$line: kernel-doc:: $src: no kernel-doc for '$sym'"
				dbad=$((dbad + 1))
			done
		done < <(api_directives "$DOCDIR/api.rst")
		msg "api.rst: $d kernel-doc directive(s), $dbad problem(s)"
		bad=$((bad + dbad))
	else
		msg "$DOCDIR/api.rst is missing"
		bad=$((bad + 1))
	fi
	check_abi_tree "$tree" || bad=$((bad + 1))
	((bad == 0))
}

# check_abi_tree KERNEL_TREE: the kernel's get_abi.pl must accept our ABI
# file, and the reStructuredText it makes of it must parse cleanly.
check_abi_tree() {
	local tree=$1 getabi=$1/scripts/get_abi.pl dir out rc=0
	if [[ ! -f $getabi ]]; then
		msg "$getabi not found, ABI file not checked against it"
		return 0
	fi
	dir=$(mktemp -d)
	mkdir "$dir/testing"
	cp "$ROOT/$ABIFILE" "$dir/testing/"
	out=$(perl "$getabi" validate --dir "$dir" 2>&1) || rc=1
	if [[ -n $out ]]; then
		printf '%s\n' "$out"
		rc=1
	fi
	{
		printf '===\nABI\n===\n\n'
		perl "$getabi" rest --dir "$dir" 2>&1
	} >"$dir/abi.rst"
	if ! python3 -c "$RST_CHECKER" "$ROOT" "$dir/abi.rst" >"$dir/out" 2>&1; then
		msg "get_abi.pl rest output of $ABIFILE does not parse cleanly:"
		cat "$dir/out"
		rc=1
	fi
	rm -rf "$dir"
	msg "get_abi.pl: $ABIFILE $( ((rc)) && echo FAILED || echo ok)"
	return "$rc"
}

# ---------------------------------------------------------------------------
# sphinx: the kernel's own documentation build, for one directory.
check_sphinx() {
	local tree=${1:-} out log f rc=0
	[[ -n $tree && -f $tree/Documentation/conf.py ]] || {
		msg "sphinx: $tree is not a kernel tree"
		return 2
	}
	command -v sphinx-build >/dev/null || {
		msg "sphinx: sphinx-build not installed (Debian: python3-sphinx)"
		return 2
	}
	for f in "$ROOT/$DOCDIR"/*.rst; do
		cmp -s "$f" "$tree/$DOCDIR/${f##*/}" || {
			msg "sphinx: $tree/$DOCDIR/${f##*/} differs from this checkout (lay the files in first)"
			return 2
		}
	done
	out=$(mktemp -d)
	log=$out/htmldocs.log
	PYTHONDONTWRITEBYTECODE=1 make -C "$tree" O="$out/o" htmldocs \
		SPHINXDIRS=livepatch >"$log" 2>&1 || rc=1
	# dot(1) is only needed for graphs, which these documents lack.
	if grep -E 'WARNING|ERROR|SEVERE' "$log" | grep -v 'dot(1) not found'; then
		rc=1
	fi
	((rc == 0)) || tail -n 20 "$log" >&2
	rm -rf "$out"
	msg "sphinx: make htmldocs SPHINXDIRS=livepatch $( ((rc)) && echo FAILED || echo ok)"
	return "$rc"
}

# ---------------------------------------------------------------------------
case ${1:-} in
-h | --help) usage 0 ;;
"") check_rst ;;
rst)
	shift
	check_rst "$@"
	;;
sphinx)
	shift
	(($# == 1)) || usage
	check_sphinx "$1"
	;;
kdoc)
	shift
	(($# == 1)) || usage
	check_kdoc "$1"
	;;
*)
	if (($# == 1)) && [[ -f $1/scripts/kernel-doc ]]; then
		check_kdoc "$1"
	else
		usage
	fi
	;;
esac
