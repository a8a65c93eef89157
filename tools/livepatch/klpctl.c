// SPDX-License-Identifier: GPL-2.0
/*
 * klpctl - look at and control kernel live patches
 *
 * Reads and writes /sys/kernel/livepatch (see
 * Documentation/ABI/testing/sysfs-kernel-livepatch) and /proc/<pid>/stack.
 * Plain C, libc only.  "klpctl --help" lists the commands and exit codes.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* Exit codes; keep in sync with print_help() and livepatch.rst. */
enum {
	KLPCTL_OK = 0,
	KLPCTL_ERROR = 1,
	KLPCTL_USAGE = 2,
	KLPCTL_TIMEOUT = 3,
	KLPCTL_NOT_FOUND = 4,
	KLPCTL_BUSY = 5,
};

#define DEFAULT_DISABLE_TIMEOUT	60	/* seconds */
#define DEFAULT_FORCE_TIMEOUT	10	/* seconds */
#define DEFAULT_LOAD_TIMEOUT	60	/* seconds, for each patch */
#define POLL_MS			50
#define MAX_FALLBACK_TASKS	32
#define ATTR_MAX		64

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
/* The kernel command line parameter that keeps load-installed from loading. */
#define DISABLE_PARAM		"livepatch.disable_installed"

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ELFDATA_NATIVE		ELFDATA2LSB
#else
#define ELFDATA_NATIVE		ELFDATA2MSB
#endif

#define __STR(x)		#x
#define STR(x)			__STR(x)

static const char *prog = "klpctl";
static const char *sysfs_root = "/sys/kernel/livepatch";
static const char *proc_root = "/proc";
static const char *state_root = "/var/lib/livepatch";
static const char *cmdline_path = "/proc/cmdline";

static const char help_text[] =
	"Usage: klpctl COMMAND [ARGS]\n"
	"\n"
	"Look at and control kernel live patches (/sys/kernel/livepatch).\n"
	"\n"
	"Commands:\n"
	"  list                      every patch: enabled, transition, replace,\n"
	"                            stack_order; its objects, whether they are\n"
	"                            patched, and the functions it replaces\n"
	"  status [PATCH]            progress of a transition: direction, elapsed\n"
	"                            time, tasks still to switch, signals sent and\n"
	"                            the blocking tasks with reason, function and\n"
	"                            kernel stack (/proc/<pid>/stack, root only);\n"
	"                            without PATCH, the patch in transition\n"
	"  disable PATCH [--timeout SECONDS]\n"
	"                            write 0 to PATCH/enabled and wait until the\n"
	"                            patch is gone (default "
	STR(DEFAULT_DISABLE_TIMEOUT) " s; 0: do not wait);\n"
	"                            during a patching transition this reverses it\n"
	"  force PATCH --yes [--timeout SECONDS]\n"
	"                            force PATCH's transition to complete, then wait\n"
	"                            for it (default "
	STR(DEFAULT_FORCE_TIMEOUT) " s).  Unsafe: read what\n"
	"                            'klpctl force PATCH' without --yes prints first\n"
	"  load MODULE.ko [--timeout SECONDS]\n"
	"                            load the live patch module (finit_module(2))\n"
	"                            and wait until its patching transition is\n"
	"                            complete (default "
	STR(DEFAULT_LOAD_TIMEOUT) " s; 0: do not wait), printing\n"
	"                            the tasks that hold it up\n"
	"  install MODULE.ko         copy the live patch module to the directory of\n"
	"                            this kernel release,\n"
	"                            /var/lib/livepatch/$(uname -r)/, after those\n"
	"                            installed before (a module of the same name is\n"
	"                            replaced in its place); it does not load it\n"
	"  uninstall PATCH           remove PATCH from that directory (it stays loaded)\n"
	"  list --installed          the installed patches in load order, and whether\n"
	"                            each is loaded\n"
	"  load-installed [--timeout SECONDS]\n"
	"                            load the installed patches in order, as 'load'\n"
	"                            does, and stop at the first that fails; nothing\n"
	"                            with livepatch.disable_installed=1 on the kernel\n"
	"                            command line (klpctl-load-installed.service runs\n"
	"                            it at boot)\n"
	"  help, --help, -h          this text\n"
	"\n"
	"Exit codes:\n"
	"  0  success (for disable: the patch is gone; for force and load: the\n"
	"     transition completed; for load-installed: every installed patch is\n"
	"     loaded, or none is installed, or disable_installed=1)\n"
	"  1  error: no live patching in this kernel, the kernel refused a write\n"
	"     or a module, not a live patch module, the patch is already loaded,\n"
	"     nothing to do (force on a patch not in transition), a reversal by\n"
	"     someone else; load-installed: the code of the load that failed\n"
	"  2  usage error, or force without --yes\n"
	"  3  timeout: the transition is still running (it goes on in the\n"
	"     background; see 'klpctl status PATCH')\n"
	"  4  no such patch (loaded, or installed for uninstall)\n"
	"  5  busy: another patch is in transition\n"
	"\n"
	"Environment: KLPCTL_SYSFS (default /sys/kernel/livepatch), KLPCTL_PROC\n"
	"(default /proc), KLPCTL_STATE_DIR (default /var/lib/livepatch) and\n"
	"KLPCTL_CMDLINE (default /proc/cmdline) point the tool elsewhere, for testing.\n"
	"See Documentation/livepatch/livepatch.rst, \"Why is my transition not\n"
	"finishing?\".\n";

static void print_help(FILE *f)
{
	fputs(help_text, f);
}

/* Messages on stderr, checked like printf() formats. */
#define err(fmt, ...) \
	fprintf(stderr, "%s: " fmt "\n", prog, ##__VA_ARGS__)
/* A usage error: say so, point to --help, evaluate to KLPCTL_USAGE. */
#define usage_error(fmt, ...)						\
	(fprintf(stderr, "%s: " fmt "\nTry '%s --help'.\n", prog,	\
		 ##__VA_ARGS__, prog), KLPCTL_USAGE)

/* ---- files ------------------------------------------------------------- */

/*
 * Read at most @size - 1 bytes of @path into @buf, NUL-terminated.
 * Return the length, or -errno.
 */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (len + 1 < size) {
		size_t n = fread(buf + len, 1, size - 1 - len, f);

		if (n == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		fclose(f);
		return -e;
	}
	fclose(f);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Write @val to @path with a single write(); return 0 or -errno. */
static int write_file(const char *path, const char *val)
{
	FILE *f;
	int ret = 0;

	f = fopen(path, "we");
	if (!f)
		return -errno;
	setvbuf(f, NULL, _IONBF, 0);
	if (fputs(val, f) == EOF)
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static void patch_path(char *buf, size_t size, const char *patch,
		       const char *attr)
{
	if (attr)
		snprintf(buf, size, "%s/%s/%s", sysfs_root, patch, attr);
	else
		snprintf(buf, size, "%s/%s", sysfs_root, patch);
}

/* Read attribute @attr of @patch, trimmed; return 0 or -errno. */
static int read_attr(const char *patch, const char *attr, char *buf,
		     size_t size)
{
	char path[PATH_MAX];
	ssize_t n;

	patch_path(path, sizeof(path), patch, attr);
	n = read_file(path, buf, size);
	if (n < 0)
		return (int)n;
	chomp(buf);
	return 0;
}

/* Read an integer attribute; @missing when it cannot be read. */
static long read_long_attr(const char *patch, const char *attr, long missing)
{
	char buf[ATTR_MAX], *end;
	long v;

	if (read_attr(patch, attr, buf, sizeof(buf)))
		return missing;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || *end)
		return missing;
	return v;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool attr_exists(const char *patch, const char *attr)
{
	char path[PATH_MAX];

	patch_path(path, sizeof(path), patch, attr);
	return access(path, F_OK) == 0;
}

static bool patch_exists(const char *patch)
{
	char path[PATH_MAX];

	patch_path(path, sizeof(path), patch, NULL);
	return is_dir(path);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- directory listings -------------------------------------------------- */

struct names {
	char **v;
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(struct names *names)
{
	size_t i;

	for (i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
	names->v = NULL;
	names->n = 0;
}

/* The subdirectories of @dir, sorted; return 0 or -errno. */
static int list_subdirs(const char *dir, struct names *out)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	out->v = NULL;
	out->n = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char **v;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!is_dir(path))
			continue;
		v = realloc(out->v, (out->n + 1) * sizeof(*v));
		if (!v) {
			closedir(d);
			free_names(out);
			return -ENOMEM;
		}
		out->v = v;
		v[out->n] = strdup(de->d_name);
		if (!v[out->n]) {
			closedir(d);
			free_names(out);
			return -ENOMEM;
		}
		out->n++;
	}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

/* Check that live patching is there; print why not.  0 or an exit code. */
static int check_root(void)
{
	struct stat st;

	if (stat(sysfs_root, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		err("%s is not a directory", sysfs_root);
	} else if (errno == ENOENT) {
		err("%s does not exist: no live patching in this kernel (CONFIG_LIVEPATCH)",
		    sysfs_root);
	} else {
		err("cannot access %s: %s", sysfs_root, strerror(errno));
	}
	return KLPCTL_ERROR;
}

static int check_patch_name(const char *patch)
{
	if (!*patch || strchr(patch, '/') || !strcmp(patch, ".") ||
	    !strcmp(patch, ".."))
		return usage_error("invalid patch name '%s'", patch);
	return 0;
}

/* 0 when @patch exists, otherwise print why and return an exit code. */
static int find_patch(const char *patch)
{
	int ret = check_patch_name(patch);

	if (!ret)
		ret = check_root();
	if (ret)
		return ret;
	if (patch_exists(patch))
		return 0;
	err("no live patch '%s' (not in %s; 'klpctl list' shows the patches)",
	    patch, sysfs_root);
	return KLPCTL_NOT_FOUND;
}

/* ---- list ---------------------------------------------------------------- */

struct patch_info {
	char *name;
	long enabled, transition, replace, stack_order;
};

static int cmp_patch(const void *a, const void *b)
{
	const struct patch_info *pa = a, *pb = b;

	/* By stack order (oldest first) when known, then by name. */
	if (pa->stack_order > 0 && pb->stack_order > 0 &&
	    pa->stack_order != pb->stack_order)
		return pa->stack_order < pb->stack_order ? -1 : 1;
	return strcmp(pa->name, pb->name);
}

static void print_long(const char *key, long v)
{
	if (v < 0)
		printf(" %s=-", key);
	else
		printf(" %s=%ld", key, v);
}

static void print_objects(const char *patch)
{
	char path[PATH_MAX], val[ATTR_MAX];
	struct names objs, funcs;
	size_t i, j;

	patch_path(path, sizeof(path), patch, NULL);
	if (list_subdirs(path, &objs))
		return;
	for (i = 0; i < objs.n; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s/patched", sysfs_root,
			 patch, objs.v[i]);
		if (read_file(path, val, sizeof(val)) < 0)
			strcpy(val, "-");
		chomp(val);
		printf("    %s: patched=%s functions=", objs.v[i], val);
		snprintf(path, sizeof(path), "%s/%s/%s", sysfs_root, patch,
			 objs.v[i]);
		if (list_subdirs(path, &funcs) || !funcs.n) {
			printf("-\n");
			continue;
		}
		for (j = 0; j < funcs.n; j++)
			printf("%s%s", j ? " " : "", funcs.v[j]);
		printf("\n");
		free_names(&funcs);
	}
	free_names(&objs);
}

static int cmd_list(void)
{
	struct patch_info *info;
	bool missing = false;
	struct names names;
	size_t i;
	int ret;

	ret = check_root();
	if (ret)
		return ret;
	ret = list_subdirs(sysfs_root, &names);
	if (ret) {
		err("cannot list %s: %s", sysfs_root, strerror(-ret));
		return KLPCTL_ERROR;
	}
	if (!names.n) {
		printf("no live patches\n");
		return KLPCTL_OK;
	}
	info = calloc(names.n, sizeof(*info));
	if (!info) {
		err("out of memory");
		free_names(&names);
		return KLPCTL_ERROR;
	}
	for (i = 0; i < names.n; i++) {
		info[i].name = names.v[i];
		info[i].enabled = read_long_attr(names.v[i], "enabled", -1);
		info[i].transition = read_long_attr(names.v[i], "transition", -1);
		info[i].replace = read_long_attr(names.v[i], "replace", -1);
		info[i].stack_order = read_long_attr(names.v[i], "stack_order", -1);
		if (!attr_exists(names.v[i], "replace") ||
		    !attr_exists(names.v[i], "stack_order"))
			missing = true;
	}
	qsort(info, names.n, sizeof(*info), cmp_patch);

	for (i = 0; i < names.n; i++) {
		printf("%s:", info[i].name);
		print_long("enabled", info[i].enabled);
		print_long("transition", info[i].transition);
		print_long("replace", info[i].replace);
		print_long("stack_order", info[i].stack_order);
		if (info[i].transition == 1)
			printf(" (%s)", info[i].enabled == 1 ? "patching" :
			       "unpatching");
		printf("\n");
		print_objects(info[i].name);
	}
	if (missing)
		printf("(replace and stack_order are not available on this kernel,\n"
		       " stock Linux 6.1?)\n");
	free(info);
	free_names(&names);
	return KLPCTL_OK;
}

/* ---- status -------------------------------------------------------------- */

/* Print /proc/<pid>/stack to @f, indented; @pid 0 is an idle task. */
static void print_stack(FILE *f, long pid, const char *indent)
{
	char path[PATH_MAX], *buf, *line, *save;
	ssize_t n;

	if (pid <= 0) {
		fprintf(f, "%s(idle task: no /proc entry, no stack)\n", indent);
		return;
	}
	buf = malloc(65536);
	if (!buf) {
		fprintf(f, "%s(out of memory)\n", indent);
		return;
	}
	snprintf(path, sizeof(path), "%s/%ld/stack", proc_root, pid);
	n = read_file(path, buf, 65536);
	if (n < 0) {
		if (n == -ENOENT || n == -ESRCH)
			fprintf(f, "%s(task gone)\n", indent);
		else if (n == -EACCES || n == -EPERM)
			fprintf(f, "%s(cannot read %s: %s; run as root)\n",
				indent, path, strerror((int)-n));
		else
			fprintf(f, "%s(cannot read %s: %s)\n", indent, path,
				strerror((int)-n));
	} else if (n == 0) {
		fprintf(f, "%s(empty stack)\n", indent);
	} else {
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			fprintf(f, "%s%s\n", indent, line);
	}
	free(buf);
}

/*
 * Print one line of transition_blockers, "<pid> <comm> <user|kthread>
 * <reason> <function>", to @f after @indent, and with @stack the task's
 * stack below it.  <comm> may contain spaces: the first field and the last
 * three are the others.  @line is cut up.
 */
static void print_blocker(FILE *f, char *line, const char *indent, bool stack)
{
	char *fld[3], *pid_end, *comm, *p;
	long pid;
	int i;

	for (i = 2; i >= 0; i--) {
		p = strrchr(line, ' ');
		if (!p) {
			fprintf(f, "%s%s (unexpected format)\n", indent, line);
			return;
		}
		fld[i] = p + 1;
		*p = '\0';
	}
	errno = 0;
	pid = strtol(line, &pid_end, 10);
	if (errno || pid_end == line || *pid_end != ' ') {
		fprintf(f, "%s%s %s %s %s (unexpected format)\n", indent, line,
			fld[0], fld[1], fld[2]);
		return;
	}
	comm = pid_end + 1;
	fprintf(f, "%spid %ld (%s, %s): %s", indent, pid, comm,
		pid == 0 ? "idle task" :
		!strcmp(fld[0], "kthread") ? "kernel thread" : "user task",
		fld[1]);
	if (strcmp(fld[2], "-"))
		fprintf(f, " %s", fld[2]);
	fprintf(f, "\n");
	if (stack)
		print_stack(f, pid, "        ");
}

static const char *direction(long enabled)
{
	return enabled == 1 ? "patching" : enabled == 0 ? "unpatching" : "?";
}

/*
 * Stock 6.1 has no progress files: walk the tasks whose
 * /proc/<pid>/task/<tid>/patch_state is not @target (idle tasks have no
 * /proc entry and are not found).  @fn is called for the first
 * MAX_FALLBACK_TASKS of them; return how many there are.
 */
static unsigned int walk_unswitched(long target,
				    void (*fn)(long tid, const char *comm,
					       void *arg), void *arg)
{
	char path[PATH_MAX], buf[ATTR_MAX], comm[64];
	struct dirent *pde, *tde;
	unsigned int found = 0;
	DIR *pd, *td;

	pd = opendir(proc_root);
	if (!pd)
		return 0;
	while ((pde = readdir(pd))) {
		if (pde->d_name[0] < '1' || pde->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/task", proc_root,
			 pde->d_name);
		td = opendir(path);
		if (!td)
			continue;
		while ((tde = readdir(td))) {
			if (tde->d_name[0] < '1' || tde->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "%s/%s/task/%s/patch_state",
				 proc_root, pde->d_name, tde->d_name);
			if (read_file(path, buf, sizeof(buf)) <= 0 ||
			    atol(buf) == target || atol(buf) < 0)
				continue;
			if (++found > MAX_FALLBACK_TASKS)
				continue;
			snprintf(path, sizeof(path), "%s/%s/task/%s/comm",
				 proc_root, pde->d_name, tde->d_name);
			if (read_file(path, comm, sizeof(comm)) < 0)
				strcpy(comm, "?");
			chomp(comm);
			fn(atol(tde->d_name), comm, arg);
		}
		closedir(td);
	}
	closedir(pd);
	return found;
}

/* A task walk_unswitched() found, for 'klpctl status': with its stack. */
static void status_unswitched(long tid, const char *comm, void *arg)
{
	FILE *f = arg;

	fprintf(f, "    pid %ld (%s)\n", tid, comm);
	print_stack(f, tid, "        ");
}

static void print_fallback(long target)
{
	unsigned int found;

	printf("  progress files (transition_tasks, transition_ms, transition_signals,\n"
	       "  transition_blockers) are not available on this kernel (stock Linux 6.1?)\n");
	if (target < 0)
		return;
	printf("  tasks not switched yet, from %s/<pid>/task/<tid>/patch_state\n"
	       "  (idle tasks are not listed):\n", proc_root);
	found = walk_unswitched(target, status_unswitched, stdout);
	if (!found)
		printf("    (none found)\n");
	else if (found > MAX_FALLBACK_TASKS)
		printf("    ... and %u more\n", found - MAX_FALLBACK_TASKS);
}

static int show_status(const char *patch)
{
	char *blockers, *line, *save;
	long enabled, transition, v;
	unsigned int nr = 0;
	int ret;

	enabled = read_long_attr(patch, "enabled", -1);
	transition = read_long_attr(patch, "transition", -1);
	if (enabled < 0 || transition < 0) {
		if (!patch_exists(patch)) {
			err("patch '%s' went away", patch);
			return KLPCTL_NOT_FOUND;
		}
		err("cannot read %s/%s/enabled or transition", sysfs_root, patch);
		return KLPCTL_ERROR;
	}
	if (transition != 1) {
		printf("%s: no transition in progress (enabled=%ld)\n", patch,
		       enabled);
		return KLPCTL_OK;
	}
	printf("%s: %s transition in progress (enabled=%ld)\n", patch,
	       direction(enabled), enabled);

	if (!attr_exists(patch, "transition_blockers")) {
		print_fallback(enabled);
		return KLPCTL_OK;
	}

	v = read_long_attr(patch, "transition_ms", -1);
	if (v >= 0)
		printf("  elapsed:         %ld ms\n", v);
	v = read_long_attr(patch, "transition_tasks", -1);
	if (v >= 0)
		printf("  tasks remaining: %ld\n", v);
	v = read_long_attr(patch, "transition_signals", -1);
	if (v >= 0)
		printf("  signals sent:    %ld\n", v);

	blockers = malloc(65536);
	if (!blockers) {
		err("out of memory");
		return KLPCTL_ERROR;
	}
	ret = read_attr(patch, "transition_blockers", blockers, 65536);
	if (ret) {
		printf("  blocking tasks:  (cannot read: %s)\n", strerror(-ret));
		free(blockers);
		return KLPCTL_OK;
	}
	for (line = blockers; *line; line++)
		nr += *line == '\n';
	if (*blockers)
		nr++;
	printf("  blocking tasks:  %u%s\n", nr,
	       nr ? "" : " (none found by the last round of checks)");
	for (line = strtok_r(blockers, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		print_blocker(stdout, line, "    ", true);
	free(blockers);
	return KLPCTL_OK;
}

static int cmd_status(const char *patch)
{
	struct names names;
	unsigned int shown = 0;
	size_t i;
	int ret;

	if (patch) {
		ret = find_patch(patch);
		return ret ? ret : show_status(patch);
	}
	ret = check_root();
	if (ret)
		return ret;
	ret = list_subdirs(sysfs_root, &names);
	if (ret) {
		err("cannot list %s: %s", sysfs_root, strerror(-ret));
		return KLPCTL_ERROR;
	}
	for (i = 0; i < names.n; i++) {
		if (read_long_attr(names.v[i], "transition", 0) != 1)
			continue;
		/* A patch that went away meanwhile is not an error here. */
		if (show_status(names.v[i]) == KLPCTL_ERROR)
			ret = KLPCTL_ERROR;
		shown++;
	}
	if (!shown)
		printf("no transition in progress (%zu live patch%s)\n", names.n,
		       names.n == 1 ? "" : "es");
	free_names(&names);
	return ret;
}

/* ---- disable and force --------------------------------------------------- */

/* Why a transition did not finish in time, in one line. */
static void explain_timeout(const char *patch)
{
	long tasks = read_long_attr(patch, "transition_tasks", -1);

	if (tasks >= 0)
		fprintf(stderr, "%s: %ld task%s still to switch; ", prog, tasks,
			tasks == 1 ? "" : "s");
	else
		fprintf(stderr, "%s: ", prog);
	fprintf(stderr, "the transition goes on in the background; "
		"'klpctl status %s' shows what blocks it\n", patch);
}

static int write_error(const char *patch, const char *attr, int e)
{
	if (e == -ENOENT && !patch_exists(patch)) {
		err("patch '%s' went away", patch);
		return KLPCTL_NOT_FOUND;
	}
	if (e == -EBUSY) {
		err("cannot write %s/%s/%s: another patch is in transition; "
		    "wait for it to finish ('klpctl status')", sysfs_root,
		    patch, attr);
		return KLPCTL_BUSY;
	}
	err("cannot write %s/%s/%s: %s%s", sysfs_root, patch, attr,
	    strerror(-e), e == -EACCES || e == -EPERM ? " (run as root)" : "");
	return KLPCTL_ERROR;
}

static int cmd_disable(const char *patch, double timeout)
{
	char path[PATH_MAX];
	double start, deadline;
	long enabled;
	int ret;

	ret = find_patch(patch);
	if (ret)
		return ret;

	start = now();
	enabled = read_long_attr(patch, "enabled", -1);
	if (enabled < 0) {
		if (!patch_exists(patch)) {
			printf("%s: gone\n", patch);
			return KLPCTL_OK;
		}
		err("cannot read %s/%s/enabled", sysfs_root, patch);
		return KLPCTL_ERROR;
	}
	if (enabled == 1) {
		bool reversing = read_long_attr(patch, "transition", 0) == 1;

		patch_path(path, sizeof(path), patch, "enabled");
		ret = write_file(path, "0\n");
		if (ret)
			return write_error(patch, "enabled", ret);
		printf("%s: %s\n", patch, reversing ?
		       "reversing its patching transition" :
		       "unpatching transition started");
	} else {
		printf("%s: already being disabled\n", patch);
	}
	fflush(stdout);

	if (timeout == 0)
		return KLPCTL_OK;

	deadline = start + timeout;
	for (;;) {
		if (!patch_exists(patch)) {
			printf("%s: disabled and removed after %.0f ms\n", patch,
			       (now() - start) * 1000);
			return KLPCTL_OK;
		}
		if (read_long_attr(patch, "enabled", 0) == 1) {
			err("%s was enabled again while waiting (its transition was reversed)",
			    patch);
			return KLPCTL_ERROR;
		}
		if (now() >= deadline)
			break;
		sleep_ms(POLL_MS);
	}
	err("timed out after %g s: '%s' is still being disabled", timeout,
	    patch);
	explain_timeout(patch);
	return KLPCTL_TIMEOUT;
}

static void explain_force(const char *patch)
{
	fprintf(stderr,
		"%s: refusing to force the transition of '%s' without --yes.\n"
		"\n"
		"Forcing switches every task that has not switched yet to the target\n"
		"state without checking its stack.  This gives up the guarantees of the\n"
		"consistency model: a task may go on running code that is being removed,\n"
		"or call old and new functions of the patch in a mix its author did not\n"
		"expect, which can corrupt data or crash the kernel.  Afterwards the module\n"
		"of a patch whose unpatching was forced (or the modules of the patches an\n"
		"atomic-replace patch took over) can never be unloaded.\n"
		"\n"
		"First see what blocks the transition ('klpctl status %s') and whether\n"
		"it can be made to leave.  Reversing the transition is always safe (write\n"
		"the opposite value to enabled; 'klpctl disable %s' reverses a patching\n"
		"transition).  Force only if the provider of the patch agrees, with:\n"
		"\n"
		"    klpctl force %s --yes\n",
		prog, patch, patch, patch, patch);
}

static int cmd_force(const char *patch, bool yes, double timeout)
{
	char path[PATH_MAX];
	double start, deadline;
	long enabled;
	int ret;

	ret = find_patch(patch);
	if (ret)
		return ret;
	if (!yes) {
		explain_force(patch);
		return KLPCTL_USAGE;
	}
	if (read_long_attr(patch, "transition", 0) != 1) {
		err("'%s' is not in transition: nothing to force", patch);
		return KLPCTL_ERROR;
	}
	enabled = read_long_attr(patch, "enabled", -1);
	start = now();
	patch_path(path, sizeof(path), patch, "force");
	ret = write_file(path, "1\n");
	if (ret == -EINVAL && patch_exists(patch) &&
	    read_long_attr(patch, "transition", 0) != 1) {
		printf("%s: the transition finished by itself before it was forced\n",
		       patch);
		return KLPCTL_OK;
	}
	if (ret)
		return write_error(patch, "force", ret);
	printf("%s: %s transition forced\n", patch, direction(enabled));
	fflush(stdout);

	deadline = start + timeout;
	for (;;) {
		if (!patch_exists(patch) ||
		    read_long_attr(patch, "transition", 1) == 0) {
			printf("%s: transition complete after %.0f ms\n", patch,
			       (now() - start) * 1000);
			return KLPCTL_OK;
		}
		if (now() >= deadline)
			break;
		sleep_ms(POLL_MS);
	}
	err("timed out after %g s waiting for the forced transition of '%s' to complete",
	    timeout, patch);
	explain_timeout(patch);
	return KLPCTL_TIMEOUT;
}

/* ---- patch modules ------------------------------------------------------- */

/* MODULE_NAME_LEN of the kernel: a module name is shorter. */
#define MODULE_NAME_MAX		56
#define KO_MAX_SIZE		(1024L * 1024 * 1024)
#define BLOCKERS_EVERY_MS	1000

struct ko_info {
	char name[MODULE_NAME_MAX];
	bool livepatch;
};

/* A module name as the kernel has them: [A-Za-z0-9_], shorter than 56. */
static bool valid_module_name(const char *name)
{
	size_t n = strlen(name), i;

	if (!n || n >= MODULE_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

static bool in_image(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

/*
 * Read the .modinfo section of the relocatable ELF64 image @img: the
 * module's "name=" and whether it says "livepatch=Y".  Return 0, or
 * -ENOEXEC when @img is not a kernel module of this machine's byte order.
 */
static int ko_parse(const unsigned char *img, size_t len, struct ko_info *info)
{
	Elf64_Shdr sh, strs;
	const char *p, *end;
	Elf64_Ehdr eh;
	size_t i;

	memset(info, 0, sizeof(*info));
	if (len < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA_NATIVE ||
	    eh.e_type != ET_REL || eh.e_shentsize != sizeof(sh) ||
	    !in_image(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(sh), len) ||
	    eh.e_shstrndx >= eh.e_shnum)
		return -ENOEXEC;
	memcpy(&strs, img + eh.e_shoff + eh.e_shstrndx * sizeof(sh),
	       sizeof(strs));
	if (!in_image(strs.sh_offset, strs.sh_size, len))
		return -ENOEXEC;

	for (i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, img + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type == SHT_NOBITS ||
		    sh.sh_name + sizeof(".modinfo") > strs.sh_size ||
		    memcmp(img + strs.sh_offset + sh.sh_name, ".modinfo",
			   sizeof(".modinfo")))
			continue;
		if (!in_image(sh.sh_offset, sh.sh_size, len))
			return -ENOEXEC;
		p = (const char *)img + sh.sh_offset;
		end = p + sh.sh_size;
		while (p < end) {
			const char *nul = memchr(p, '\0', end - p);
			size_t n;

			if (!nul)
				break;
			n = nul - p;
			if (n > 5 && n - 5 < MODULE_NAME_MAX &&
			    !strncmp(p, "name=", 5))
				memcpy(info->name, p + 5, n - 5 + 1);
			else if (n == 11 && !strncmp(p, "livepatch=Y", 11))
				info->livepatch = true;
			p = nul + 1;
		}
		return 0;
	}
	return -ENOEXEC;
}

/* Without "name=" in .modinfo: the file name, less ".ko", '-' as '_'. */
static void name_from_path(const char *path, char *name)
{
	const char *base = strrchr(path, '/');
	size_t n, i;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 3 && !strcmp(base + n - 3, ".ko"))
		n -= 3;
	if (n >= MODULE_NAME_MAX)
		n = MODULE_NAME_MAX - 1;
	for (i = 0; i < n; i++)
		name[i] = base[i] == '-' ? '_' : base[i];
	name[n] = '\0';
}

/* Whether @img starts like an xz, gzip or zstd file (a .ko.xz and such). */
static bool compressed(const unsigned char *img, size_t len)
{
	static const unsigned char xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	static const unsigned char gz[] = { 0x1f, 0x8b };
	static const unsigned char zst[] = { 0x28, 0xb5, 0x2f, 0xfd };

	return (len >= sizeof(xz) && !memcmp(img, xz, sizeof(xz))) ||
	       (len >= sizeof(gz) && !memcmp(img, gz, sizeof(gz))) ||
	       (len >= sizeof(zst) && !memcmp(img, zst, sizeof(zst)));
}

/*
 * Open the patch module @path and read it into *@img (unless @img is NULL),
 * its name and kind into @info.  Return an open descriptor, or print why
 * not and return -1.
 */
static int ko_open(const char *path, struct ko_info *info,
		   unsigned char **img, size_t *len)
{
	unsigned char *buf;
	struct stat st;
	size_t got = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size > KO_MAX_SIZE) {
		err("%s is not a kernel module (not a regular file of up to 1 GiB)",
		    path);
		goto fail;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		err("out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, st.st_size - got, got);

		if (n <= 0) {
			err("cannot read %s: %s", path,
			    n ? strerror(errno) : "file shrank");
			free(buf);
			goto fail;
		}
		got += n;
	}
	ret = ko_parse(buf, got, info);
	if (ret) {
		err("%s is not a kernel module (.ko) for this machine%s", path,
		    compressed(buf, got) ?
		    " (it is compressed: uncompress it first)" : "");
		free(buf);
		goto fail;
	}
	if (!info->name[0])
		name_from_path(path, info->name);
	if (!valid_module_name(info->name)) {
		err("%s: invalid module name '%s'", path, info->name);
		free(buf);
		goto fail;
	}
	if (!info->livepatch) {
		err("%s (module %s) is not a live patch module: no livepatch=Y in .modinfo",
		    path, info->name);
		free(buf);
		goto fail;
	}
	if (img) {
		*img = buf;
		*len = got;
	} else {
		free(buf);
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* ---- load ---------------------------------------------------------------- */

/* A task walk_unswitched() found, for 'klpctl load': one line. */
static void load_unswitched(long tid, const char *comm, void *arg)
{
	fprintf(arg, "  pid %ld (%s)\n", tid, comm);
}

/*
 * The tasks that hold up the patching transition of @patch, one line each,
 * in a string to free(): from transition_blockers, or on a kernel without
 * it from the tasks' patch_state.  "" when none are known.
 */
static char *blocker_lines(const char *patch)
{
	char *text = NULL, *raw, *line, *save;
	size_t size = 0;
	unsigned int found;
	FILE *f;

	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	if (!attr_exists(patch, "transition_blockers")) {
		found = walk_unswitched(1, load_unswitched, f);
		if (found > MAX_FALLBACK_TASKS)
			fprintf(f, "  ... and %u more\n",
				found - MAX_FALLBACK_TASKS);
	} else {
		raw = malloc(65536);
		if (raw && !read_attr(patch, "transition_blockers", raw, 65536))
			for (line = strtok_r(raw, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				print_blocker(f, line, "  ", false);
		free(raw);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * Wait up to @timeout seconds (from @start) for the patching transition of
 * @patch; print the blocking tasks whenever they change.  An exit code.
 */
static int wait_patched(const char *patch, double start, double timeout)
{
	double deadline = start + timeout, next = start + 0.5;
	char *last = NULL, *text;
	long enabled, transition;

	for (;;) {
		if (!patch_exists(patch)) {
			free(last);
			err("the live patch '%s' went away during its transition",
			    patch);
			return KLPCTL_ERROR;
		}
		enabled = read_long_attr(patch, "enabled", -1);
		transition = read_long_attr(patch, "transition", -1);
		if (enabled == 0) {
			free(last);
			err("'%s' was disabled during its patching transition (reversed)",
			    patch);
			return KLPCTL_ERROR;
		}
		if (enabled == 1 && transition == 0) {
			free(last);
			printf("%s: patching complete after %.0f ms\n", patch,
			       (now() - start) * 1000);
			return KLPCTL_OK;
		}
		if (now() >= deadline)
			break;
		if (now() >= next) {
			next += BLOCKERS_EVERY_MS / 1000.0;
			text = blocker_lines(patch);
			if (text && *text && (!last || strcmp(text, last))) {
				printf("%s: patching transition waits for:\n%s",
				       patch, text);
				fflush(stdout);
				free(last);
				last = text;
			} else {
				free(text);
			}
		}
		sleep_ms(POLL_MS);
	}
	free(last);
	fflush(stdout);
	err("timed out after %g s: '%s' is still patching", timeout, patch);
	text = blocker_lines(patch);
	if (text && *text)
		fprintf(stderr, "%s: blocking tasks:\n%s", prog, text);
	else
		fprintf(stderr, "%s: blocking tasks: none found\n", prog);
	free(text);
	explain_timeout(patch);
	err("'klpctl disable %s' reverses the transition (safe)", patch);
	return KLPCTL_TIMEOUT;
}

/*
 * Load the live patch module @path and wait for its transition, up to
 * @timeout seconds (0: do not wait).  With @skip_loaded a patch that is
 * already there is not an error.  An exit code.
 */
static int load_patch(const char *path, double timeout, bool skip_loaded)
{
	static const char not_permitted[] =
		" (run as root; under lockdown the module must be signed)";
	struct ko_info info;
	double start;
	int fd, ret;

	fd = ko_open(path, &info, NULL, NULL);
	if (fd < 0)
		return KLPCTL_ERROR;
	ret = check_root();
	if (ret)
		goto out;
	if (patch_exists(info.name)) {
		if (skip_loaded &&
		    read_long_attr(info.name, "enabled", 0) == 1) {
			printf("%s: already loaded\n", info.name);
			goto out;
		}
		err("the live patch '%s' is already loaded ('klpctl list')",
		    info.name);
		ret = KLPCTL_ERROR;
		goto out;
	}

	start = now();
	if (syscall(SYS_finit_module, fd, "", 0)) {
		int e = errno;

		if (e == EEXIST) {
			err("module %s is loaded already, its patch disabled: rmmod %s first",
			    info.name, info.name);
			ret = KLPCTL_ERROR;
		} else if (e == EBUSY) {
			err("the kernel refused %s (%s): %s", info.name, path,
			    strerror(e));
			err("another patch is in transition ('klpctl status'), or a conflict");
			ret = KLPCTL_BUSY;
		} else {
			err("the kernel refused %s (%s): %s%s", info.name, path,
			    strerror(e), e == EPERM ? not_permitted :
			    "; see the kernel log (dmesg)");
			ret = KLPCTL_ERROR;
		}
		goto out;
	}
	printf("%s: module loaded from %s\n", info.name, path);
	fflush(stdout);
	if (!patch_exists(info.name)) {
		err("module %s is loaded but no live patch '%s' appeared in %s",
		    info.name, info.name, sysfs_root);
		ret = KLPCTL_ERROR;
	} else if (timeout == 0) {
		printf("%s: not waiting for the patching transition ('klpctl status %s')\n",
		       info.name, info.name);
	} else {
		ret = wait_patched(info.name, start, timeout);
	}
out:
	close(fd);
	return ret;
}

/* ---- installed patches --------------------------------------------------- */

struct installed {
	unsigned long seq;
	char *file;		/* "<seq>-<name>.ko" in the state directory */
	char *name;
};

/* Room for a file name below the state directory. */
#define STATE_DIR_MAX		(PATH_MAX - 128)

struct installed_list {
	char dir[STATE_DIR_MAX];
	struct installed *v;
	size_t n;
};

static int cmp_installed(const void *a, const void *b)
{
	const struct installed *ia = a, *ib = b;

	if (ia->seq != ib->seq)
		return ia->seq < ib->seq ? -1 : 1;
	return strcmp(ia->name, ib->name);
}

static void free_installed(struct installed_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].file);
		free(l->v[i].name);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The directory of this kernel release's installed patches. */
static int installed_dir(char *buf, size_t size)
{
	struct utsname u;

	if (uname(&u)) {
		err("uname: %s", strerror(errno));
		return KLPCTL_ERROR;
	}
	if ((size_t)snprintf(buf, size, "%s/%s", state_root, u.release) >= size) {
		err("state directory name too long: %s", state_root);
		return KLPCTL_ERROR;
	}
	return 0;
}

/*
 * Parse "<digits>-<name>.ko" into @e; false for any other file name (a
 * temporary file of an install, something an admin left there).
 */
static bool parse_installed(const char *file, struct installed *e)
{
	char name[MODULE_NAME_MAX];
	const char *dash;
	size_t n;

	if (file[0] < '0' || file[0] > '9')
		return false;
	dash = file + strspn(file, "0123456789");
	n = strlen(dash);
	if (*dash != '-' || n < 5 || strcmp(dash + n - 3, ".ko") ||
	    n - 4 >= MODULE_NAME_MAX)
		return false;
	memcpy(name, dash + 1, n - 4);
	name[n - 4] = '\0';
	if (!valid_module_name(name))
		return false;
	e->seq = strtoul(file, NULL, 10);
	e->file = strdup(file);
	e->name = strdup(name);
	return true;
}

/* The installed patches in load order; a missing directory is empty. */
static int read_installed(struct installed_list *l)
{
	struct installed e, *v;
	struct dirent *de;
	DIR *d;
	int ret;

	l->v = NULL;
	l->n = 0;
	ret = installed_dir(l->dir, sizeof(l->dir));
	if (ret)
		return ret;
	d = opendir(l->dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		err("cannot read %s: %s", l->dir, strerror(errno));
		return KLPCTL_ERROR;
	}
	while ((de = readdir(d))) {
		if (!parse_installed(de->d_name, &e))
			continue;
		v = realloc(l->v, (l->n + 1) * sizeof(*v));
		if (!v || !e.file || !e.name) {
			free(e.file);
			free(e.name);
			if (v)
				l->v = v;
			closedir(d);
			free_installed(l);
			err("out of memory");
			return KLPCTL_ERROR;
		}
		l->v = v;
		l->v[l->n++] = e;
	}
	closedir(d);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_installed);
	return 0;
}

static struct installed *find_installed(struct installed_list *l,
					const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) && errno != EEXIST) {
		err("cannot create %s: %s", dir, strerror(errno));
		return KLPCTL_ERROR;
	}
	return 0;
}

/* Write @len bytes of @img to @path through a temporary file and rename. */
static int write_atomically(const char *dir, const char *path,
			    const unsigned char *img, size_t len)
{
	char tmp[PATH_MAX];
	size_t done = 0;
	int fd, dfd, e;

	snprintf(tmp, sizeof(tmp), "%s/.install.%d.tmp", dir, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err("cannot create %s: %s", tmp, strerror(errno));
		return KLPCTL_ERROR;
	}
	while (done < len) {
		ssize_t n = write(fd, img + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO;
			break;
		}
		done += n;
	}
	e = done < len || fsync(fd) ? errno : 0;
	if (close(fd) && !e)
		e = errno;
	if (!e && rename(tmp, path))
		e = errno;
	if (e) {
		err("cannot write %s: %s", path, strerror(e));
		unlink(tmp);
		return KLPCTL_ERROR;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int cmd_install(const char *path)
{
	struct installed_list l;
	struct installed *old;
	char dest[PATH_MAX];
	struct ko_info info;
	unsigned char *img;
	unsigned long seq = 1;
	size_t len, pos, i;
	int fd, ret;

	fd = ko_open(path, &info, &img, &len);
	if (fd < 0)
		return KLPCTL_ERROR;
	close(fd);
	ret = read_installed(&l);
	if (ret) {
		free(img);
		return ret;
	}
	old = find_installed(&l, info.name);
	if (old) {
		snprintf(dest, sizeof(dest), "%s/%s", l.dir, old->file);
		pos = old - l.v + 1;
	} else {
		for (i = 0; i < l.n; i++)
			if (l.v[i].seq >= seq)
				seq = l.v[i].seq + 1;
		snprintf(dest, sizeof(dest), "%s/%04lu-%s.ko", l.dir, seq,
			 info.name);
		pos = l.n + 1;
	}
	ret = make_dir(state_root);
	if (!ret)
		ret = make_dir(l.dir);
	if (!ret)
		ret = write_atomically(l.dir, dest, img, len);
	if (!ret)
		printf("%s: %s %s (%zu of %zu in load order)\n", info.name,
		       old ? "installed again, in its place, as" :
		       "installed as", dest, pos, old ? l.n : l.n + 1);
	free(img);
	free_installed(&l);
	return ret;
}

static int cmd_uninstall(const char *name)
{
	struct installed_list l;
	struct installed *e;
	char path[PATH_MAX];
	int ret;

	if (!valid_module_name(name))
		return usage_error("invalid patch name '%s'", name);
	ret = read_installed(&l);
	if (ret)
		return ret;
	e = find_installed(&l, name);
	if (!e) {
		err("no installed live patch '%s' in %s ('klpctl list --installed' shows them)",
		    name, l.dir);
		free_installed(&l);
		return KLPCTL_NOT_FOUND;
	}
	snprintf(path, sizeof(path), "%s/%s", l.dir, e->file);
	if (unlink(path)) {
		err("cannot remove %s: %s", path, strerror(errno));
		free_installed(&l);
		return KLPCTL_ERROR;
	}
	printf("%s: uninstalled (removed %s)\n", name, path);
	if (patch_exists(name))
		printf("%s: still loaded in the running kernel; 'klpctl disable %s' disables it\n",
		       name, name);
	free_installed(&l);
	return KLPCTL_OK;
}

/* What the running kernel has of the installed patch @name, in words. */
static const char *installed_state(const char *name)
{
	char path[PATH_MAX];

	if (patch_exists(name)) {
		if (read_long_attr(name, "transition", 0) == 1)
			return read_long_attr(name, "enabled", 0) == 1 ?
				"loaded, patching" : "loaded, unpatching";
		return "loaded";
	}
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return is_dir(path) ? "module loaded, patch disabled" : "not loaded";
}

static int cmd_list_installed(void)
{
	struct installed_list l;
	struct utsname u;
	size_t i;
	int ret;

	ret = read_installed(&l);
	if (ret)
		return ret;
	uname(&u);
	if (!l.n) {
		printf("no live patches installed for %s (%s)\n", u.release,
		       l.dir);
		return KLPCTL_OK;
	}
	printf("live patches installed for %s (%s), in load order:\n",
	       u.release, l.dir);
	for (i = 0; i < l.n; i++)
		printf("  %zu. %s: %s\n", i + 1, l.v[i].name,
		       installed_state(l.v[i].name));
	free_installed(&l);
	return KLPCTL_OK;
}

/*
 * True when the kernel command line in @cmdline_path says
 * DISABLE_PARAM=1 (or =y, =Y; '-' may stand for '_', the
 * last one counts, as for other parameters).
 */
static bool cmdline_disables(void)
{
	static const char key[] = DISABLE_PARAM;
	char *buf, *tok, *save, *val;
	bool off = false;
	size_t i;

	buf = malloc(65536);
	if (!buf)
		return false;
	if (read_file(cmdline_path, buf, 65536) < 0) {
		free(buf);
		return false;
	}
	for (tok = strtok_r(buf, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (!strcmp(tok, "--"))
			break;
		for (i = 0; key[i] && tok[i]; i++) {
			if (tok[i] != key[i] &&
			    !(tok[i] == '-' && key[i] == '_'))
				break;
		}
		if (key[i])
			continue;
		val = tok + i;
		if (!*val)
			off = true;
		else if (*val == '=')
			off = !strcmp(val, "=1") || !strcmp(val, "=y") ||
			      !strcmp(val, "=Y");
	}
	free(buf);
	return off;
}

static int cmd_load_installed(double timeout)
{
	struct installed_list l;
	char path[PATH_MAX];
	size_t i, j;
	int ret;

	ret = installed_dir(path, sizeof(path));
	if (ret)
		return ret;
	if (cmdline_disables()) {
		printf("%s=1 on the kernel command line (%s): ", DISABLE_PARAM,
		       cmdline_path);
		printf("not loading the live patches installed in %s\n", path);
		return KLPCTL_OK;
	}
	ret = read_installed(&l);
	if (ret)
		return ret;
	if (!l.n) {
		printf("no live patches installed in %s\n", l.dir);
		return KLPCTL_OK;
	}
	printf("loading %zu installed live patch%s from %s\n", l.n,
	       l.n == 1 ? "" : "es", l.dir);
	fflush(stdout);
	for (i = 0; i < l.n; i++) {
		snprintf(path, sizeof(path), "%s/%s", l.dir, l.v[i].file);
		ret = load_patch(path, timeout, true);
		if (!ret)
			continue;
		fflush(stdout);
		fprintf(stderr, "%s: stopped at %s (%zu of %zu): ", prog,
			l.v[i].name, i + 1, l.n);
		if (i + 1 == l.n) {
			fprintf(stderr, "it is the last one\n");
		} else {
			fprintf(stderr, "not loaded:");
			for (j = i + 1; j < l.n; j++)
				fprintf(stderr, " %s", l.v[j].name);
			fprintf(stderr, "\n");
		}
		fprintf(stderr, "%s: to boot without the installed live patches, ",
			prog);
		fprintf(stderr, "add %s=1 to the kernel command line; ",
			DISABLE_PARAM);
		fprintf(stderr, "'klpctl uninstall %s' removes this one\n",
			l.v[i].name);
		free_installed(&l);
		return ret;
	}
	printf("loaded %zu installed live patch%s\n", l.n,
	       l.n == 1 ? "" : "es");
	free_installed(&l);
	return KLPCTL_OK;
}

/* ---- command line -------------------------------------------------------- */

static int parse_timeout(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e7)
		return usage_error("invalid timeout '%s' (seconds, e.g. 30 or 0.5)",
				   s);
	*out = v;
	return 0;
}

/* Whether command @cmd takes option @opt. */
static bool takes(const char *cmd, const char *opt)
{
	static const char *const table[][2] = {
		{ "disable", "--timeout" },
		{ "force", "--timeout" },
		{ "force", "--yes" },
		{ "load", "--timeout" },
		{ "load-installed", "--timeout" },
		{ "list", "--installed" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (!strcmp(table[i][0], cmd) && !strcmp(table[i][1], opt))
			return true;
	return false;
}

/* Take *@path from the environment variable @name when it is set. */
static void path_from_env(const char **path, const char *name)
{
	const char *value = getenv(name);

	if (value && *value)
		*path = value;
}

int main(int argc, char **argv)
{
	static const char *const cmds[] = {
		"list", "status", "disable", "force", "load", "install",
		"uninstall", "load-installed",
	};
	const char *cmd, *arg = NULL;
	bool yes = false, installed = false, has_timeout = false, known = false;
	double timeout = 0;
	size_t c;
	int i, ret;

	path_from_env(&sysfs_root, "KLPCTL_SYSFS");
	path_from_env(&proc_root, "KLPCTL_PROC");
	path_from_env(&state_root, "KLPCTL_STATE_DIR");
	path_from_env(&cmdline_path, "KLPCTL_CMDLINE");

	if (argc < 2) {
		print_help(stderr);
		return KLPCTL_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		print_help(stdout);
		return KLPCTL_OK;
	}
	for (c = 0; c < ARRAY_SIZE(cmds); c++)
		known |= !strcmp(cmd, cmds[c]);
	if (!known)
		return usage_error("unknown command '%s'", cmd);

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_help(stdout);
			return KLPCTL_OK;
		}
		if (!strcmp(a, "--yes") && takes(cmd, a)) {
			yes = true;
		} else if (!strcmp(a, "--installed") && takes(cmd, a)) {
			installed = true;
		} else if (!strncmp(a, "--timeout=", 10) &&
			   takes(cmd, "--timeout")) {
			ret = parse_timeout(a + 10, &timeout);
			if (ret)
				return ret;
			has_timeout = true;
		} else if (!strcmp(a, "--timeout") && takes(cmd, a)) {
			if (++i >= argc)
				return usage_error("--timeout needs a number of seconds");
			ret = parse_timeout(argv[i], &timeout);
			if (ret)
				return ret;
			has_timeout = true;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s' for '%s'", a,
					   cmd);
		} else if (!arg && strcmp(cmd, "list") &&
			   strcmp(cmd, "load-installed")) {
			arg = a;
		} else {
			return usage_error("unexpected argument '%s'", a);
		}
	}
	if (!has_timeout && !strcmp(cmd, "force"))
		timeout = DEFAULT_FORCE_TIMEOUT;
	else if (!has_timeout && !strcmp(cmd, "disable"))
		timeout = DEFAULT_DISABLE_TIMEOUT;
	else if (!has_timeout)
		timeout = DEFAULT_LOAD_TIMEOUT;

	if (!strcmp(cmd, "list"))
		return installed ? cmd_list_installed() : cmd_list();
	if (!strcmp(cmd, "status"))
		return cmd_status(arg);
	if (!strcmp(cmd, "load-installed"))
		return cmd_load_installed(timeout);
	if (!arg)
		return usage_error("'%s' needs %s", cmd,
				   !strcmp(cmd, "load") || !strcmp(cmd, "install") ?
				   "a MODULE.ko" : "a PATCH");
	if (!strcmp(cmd, "load"))
		return load_patch(arg, timeout, false);
	if (!strcmp(cmd, "install"))
		return cmd_install(arg);
	if (!strcmp(cmd, "uninstall"))
		return cmd_uninstall(arg);
	if (!strcmp(cmd, "disable"))
		return cmd_disable(arg, timeout);
	return cmd_force(arg, yes, timeout);
}
