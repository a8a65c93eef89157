// SPDX-License-Identifier: GPL-2.0
/*
 * klpctl - look at and control kernel live patches
 *
 * Reads and writes /sys/kernel/livepatch (see
 * Documentation/ABI/testing/sysfs-kernel-livepatch) and /proc/<pid>/stack.
 * Plain C, libc only.  "klpctl --help" lists the commands and exit codes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#define POLL_MS			50
#define MAX_FALLBACK_TASKS	32
#define ATTR_MAX		64

#define __STR(x)		#x
#define STR(x)			__STR(x)

static const char *prog = "klpctl";
static const char *sysfs_root = "/sys/kernel/livepatch";
static const char *proc_root = "/proc";

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
	"  help, --help, -h          this text\n"
	"\n"
	"Exit codes:\n"
	"  0  success (for disable: the patch is gone; for force: the transition\n"
	"     completed)\n"
	"  1  error: no live patching in this kernel, the kernel refused a write,\n"
	"     nothing to do (force on a patch not in transition), a reversal by\n"
	"     someone else\n"
	"  2  usage error, or force without --yes\n"
	"  3  timeout: the transition is still running (it goes on in the\n"
	"     background; see 'klpctl status PATCH')\n"
	"  4  no such patch\n"
	"  5  busy: another patch is in transition\n"
	"\n"
	"Environment: KLPCTL_SYSFS (default /sys/kernel/livepatch) and KLPCTL_PROC\n"
	"(default /proc) point the tool elsewhere, for testing.\n"
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

/* Print /proc/<pid>/stack, indented; @pid 0 is an idle task. */
static void print_stack(long pid, const char *indent)
{
	char path[PATH_MAX], *buf, *line, *save;
	ssize_t n;

	if (pid <= 0) {
		printf("%s(idle task: no /proc entry, no stack)\n", indent);
		return;
	}
	buf = malloc(65536);
	if (!buf) {
		printf("%s(out of memory)\n", indent);
		return;
	}
	snprintf(path, sizeof(path), "%s/%ld/stack", proc_root, pid);
	n = read_file(path, buf, 65536);
	if (n < 0) {
		if (n == -ENOENT || n == -ESRCH)
			printf("%s(task gone)\n", indent);
		else if (n == -EACCES || n == -EPERM)
			printf("%s(cannot read %s: %s; run as root)\n", indent,
			       path, strerror((int)-n));
		else
			printf("%s(cannot read %s: %s)\n", indent, path,
			       strerror((int)-n));
	} else if (n == 0) {
		printf("%s(empty stack)\n", indent);
	} else {
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			printf("%s%s\n", indent, line);
	}
	free(buf);
}

/*
 * Print one line of transition_blockers, "<pid> <comm> <user|kthread>
 * <reason> <function>", and the task's stack.  <comm> may contain spaces:
 * the first field and the last three are the others.
 */
static void print_blocker(char *line)
{
	char *f[3], *pid_end, *comm, *p;
	long pid;
	int i;

	for (i = 2; i >= 0; i--) {
		p = strrchr(line, ' ');
		if (!p) {
			printf("    %s (unexpected format)\n", line);
			return;
		}
		f[i] = p + 1;
		*p = '\0';
	}
	errno = 0;
	pid = strtol(line, &pid_end, 10);
	if (errno || pid_end == line || *pid_end != ' ') {
		printf("    %s %s %s %s (unexpected format)\n", line, f[0], f[1],
		       f[2]);
		return;
	}
	comm = pid_end + 1;
	printf("    pid %ld (%s, %s): %s", pid, comm,
	       pid == 0 ? "idle task" :
	       !strcmp(f[0], "kthread") ? "kernel thread" : "user task", f[1]);
	if (strcmp(f[2], "-"))
		printf(" %s", f[2]);
	printf("\n");
	print_stack(pid, "        ");
}

static const char *direction(long enabled)
{
	return enabled == 1 ? "patching" : enabled == 0 ? "unpatching" : "?";
}

/*
 * Stock 6.1 has no progress files: look for tasks whose
 * /proc/<pid>/task/<tid>/patch_state is not the target.
 */
static void print_fallback(long target)
{
	char path[PATH_MAX], buf[ATTR_MAX], comm[64];
	struct dirent *pde, *tde;
	unsigned int found = 0;
	DIR *pd, *td;

	printf("  progress files (transition_tasks, transition_ms, transition_signals,\n"
	       "  transition_blockers) are not available on this kernel (stock Linux 6.1?)\n");
	if (target < 0)
		return;
	pd = opendir(proc_root);
	if (!pd)
		return;
	printf("  tasks not switched yet, from %s/<pid>/task/<tid>/patch_state\n"
	       "  (idle tasks are not listed):\n", proc_root);
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
			printf("    pid %s (%s)\n", tde->d_name, comm);
			print_stack(atol(tde->d_name), "        ");
		}
		closedir(td);
	}
	closedir(pd);
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
		print_blocker(line);
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

int main(int argc, char **argv)
{
	const char *cmd, *patch = NULL, *env;
	bool yes = false, has_timeout = false;
	double timeout = 0;
	int i, ret;

	env = getenv("KLPCTL_SYSFS");
	if (env && *env)
		sysfs_root = env;
	env = getenv("KLPCTL_PROC");
	if (env && *env)
		proc_root = env;

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
	if (strcmp(cmd, "list") && strcmp(cmd, "status") &&
	    strcmp(cmd, "disable") && strcmp(cmd, "force"))
		return usage_error("unknown command '%s'", cmd);

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_help(stdout);
			return KLPCTL_OK;
		}
		if (!strcmp(a, "--yes") && !strcmp(cmd, "force")) {
			yes = true;
		} else if (!strncmp(a, "--timeout=", 10) &&
			   (!strcmp(cmd, "disable") || !strcmp(cmd, "force"))) {
			ret = parse_timeout(a + 10, &timeout);
			if (ret)
				return ret;
			has_timeout = true;
		} else if (!strcmp(a, "--timeout") &&
			   (!strcmp(cmd, "disable") || !strcmp(cmd, "force"))) {
			if (++i >= argc)
				return usage_error("--timeout needs a number of seconds");
			ret = parse_timeout(argv[i], &timeout);
			if (ret)
				return ret;
			has_timeout = true;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s' for '%s'", a,
					   cmd);
		} else if (!patch && strcmp(cmd, "list")) {
			patch = a;
		} else {
			return usage_error("unexpected argument '%s'", a);
		}
	}

	if (!strcmp(cmd, "list"))
		return cmd_list();
	if (!strcmp(cmd, "status"))
		return cmd_status(patch);
	if (!patch)
		return usage_error("'%s' needs a PATCH", cmd);
	if (!strcmp(cmd, "disable"))
		return cmd_disable(patch, has_timeout ? timeout :
				   DEFAULT_DISABLE_TIMEOUT);
	return cmd_force(patch, yes, has_timeout ? timeout :
			 DEFAULT_FORCE_TIMEOUT);
}
