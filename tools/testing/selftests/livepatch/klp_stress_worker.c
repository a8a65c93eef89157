// SPDX-License-Identifier: GPL-2.0
/*
 * klp_stress_worker - helper of test-stress.sh.
 *
 * Usage: klp_stress_worker NTASKS
 *        klp_stress_worker modctl
 *        klp_stress_worker loadloop MODULE.ko NAME
 *
 * klp_stress_worker NTASKS: NTASKS processes call the functions that the
 * stress test patches, in a loop, and count every result that is neither
 * the old nor a new version.
 *
 * Each child loops over:
 *   /proc/test_klp_stress_target/check    the module calls its 1000
 *	functions and its consistency pair and reports "calls <n> bad <n>";
 *	this file must always be there
 *   /proc/test_klp_stress_target2/check   the same for the module that
 *	comes and goes: its absence (ENOENT, or EIO when the module went
 *	away while the file was open) is counted, not an error
 *   /proc/cmdline                         one call of cmdline_proc_show():
 *	the original text or one of the two patched ones
 * The children run at nice 19 so that the test script stays responsive.
 *
 * The parent reads the original /proc/cmdline, which must not be patched
 * yet, prints "ready <NTASKS>" once all children run, then waits:
 *   SIGUSR1  print "calls <total calls so far> mismatches <total>"
 *   SIGTERM  stop the children, print
 *            "done tasks <n> calls <n> mismatches <n> died <n> idle <n>
 *             absent <n>"
 *            and exit 0 if there was no mismatch, every child ended
 *            normally and made calls, 1 otherwise (details on stderr).
 *
 * klp_stress_worker modctl: loads and unloads modules for the test script,
 * which saves an exec of insmod or rmmod per operation.  Reads commands,
 * one a line, on stdin, and answers each with one line on stdout:
 *   load MODULE.ko [PARAMS]   finit_module(2)
 *   unload NAME               delete_module(2), without waiting
 * answered with "ok" or "err <errno> <strerror text>".
 *
 * klp_stress_worker loadloop MODULE.ko NAME: loads and unloads the module
 * in a loop, with a random pause of up to 90 ms after each operation, at
 * nice 5, until SIGTERM; then unloads it if loaded, prints
 * "done loads <n> unloads <n> failures <n>" and exits 0 if no operation
 * failed (each failure is printed on stderr), 1 otherwise.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include "klp_workers.h"

#define TARGET_CHECK	"/proc/test_klp_stress_target/check"
#define TARGET2_CHECK	"/proc/test_klp_stress_target2/check"
#define CMDLINE		"/proc/cmdline"
#define CMDLINE_V2	"test_klp_stress_vmlinux: cmdline v2\n"
#define CMDLINE_V3	"test_klp_stress_cum: cmdline v3\n"

/* Shared with the parent (MAP_SHARED); accessed with READ()/WRITE(). */
struct child {
	unsigned long calls;
	unsigned long bad;
	unsigned long absent;	/* reads of TARGET2_CHECK without the module */
};

static char orig_cmdline[4096];
static struct child *children;
static int nr_children;

/*
 * read_file - read PATH (at most SIZE - 1 bytes) into BUF, NUL-terminated.
 * Returns the length, or -errno.
 */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd, err;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			close(fd);
			return -err;
		}
		if (!n)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* check_report - add a "calls <n> bad <n>" report of PATH to C. */
static void check_report(struct child *c, const char *path, const char *buf)
{
	unsigned long calls, bad;

	if (sscanf(buf, "calls %lu bad %lu", &calls, &bad) != 2 || !calls) {
		fprintf(stderr, "%d: unexpected report from %s: '%s'\n",
			getpid(), path, buf);
		_exit(3);
	}
	if (bad)
		fprintf(stderr, "%d: %s: %s", getpid(), path, buf);
	WRITE(c->calls, c->calls + calls);
	WRITE(c->bad, c->bad + bad);
}

static void child_loop(int i)
{
	struct child *c = &children[i];
	char buf[4096];
	ssize_t n;

	while (!READ(stop)) {
		n = read_file(TARGET_CHECK, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "%d: cannot read %s: %s\n", getpid(),
				TARGET_CHECK, strerror(-n));
			_exit(3);
		}
		check_report(c, TARGET_CHECK, buf);

		n = read_file(TARGET2_CHECK, buf, sizeof(buf));
		if (n == -ENOENT || n == -EIO) {
			WRITE(c->absent, c->absent + 1);
		} else if (n < 0) {
			fprintf(stderr, "%d: cannot read %s: %s\n", getpid(),
				TARGET2_CHECK, strerror(-n));
			_exit(3);
		} else {
			check_report(c, TARGET2_CHECK, buf);
		}

		n = read_file(CMDLINE, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "%d: cannot read %s: %s\n", getpid(),
				CMDLINE, strerror(-n));
			_exit(3);
		}
		if (strcmp(buf, orig_cmdline) && strcmp(buf, CMDLINE_V2) &&
		    strcmp(buf, CMDLINE_V3)) {
			fprintf(stderr, "%d: %s reads '%s'\n", getpid(), CMDLINE,
				buf);
			WRITE(c->bad, c->bad + 1);
		}
		WRITE(c->calls, c->calls + 1);
	}
	_exit(0);
}

static unsigned long total(int bad)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < nr_children; i++)
		sum += bad ? READ(children[i].bad) : READ(children[i].calls);
	return sum;
}

static void print_progress(void)
{
	printf("calls %lu mismatches %lu\n", total(0), total(1));
}

static int load_module(const char *path, const char *params)
{
	int fd, ret, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ret = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	close(fd);
	return ret ? err : 0;
}

static int unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? errno : 0;
}

static int modctl(void)
{
	char line[4096], *cmd, *arg, *params;
	int err;

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		cmd = strtok(line, " ");
		arg = strtok(NULL, " ");
		params = strtok(NULL, "");
		if (cmd && arg && !strcmp(cmd, "load")) {
			err = load_module(arg, params ? params : "");
		} else if (cmd && arg && !params && !strcmp(cmd, "unload")) {
			err = unload_module(arg);
		} else {
			printf("err %d bad command\n", EINVAL);
			fflush(stdout);
			continue;
		}
		if (err)
			printf("err %d %s\n", err, strerror(err));
		else
			printf("ok\n");
		fflush(stdout);
	}
	return 0;
}

static void nap_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
}

static int loadloop(const char *path, const char *name)
{
	unsigned long loads = 0, unloads = 0, failures = 0;
	struct sigaction sa;
	int loaded = 0, err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = workers_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (setpriority(PRIO_PROCESS, 0, 5))
		perror("setpriority");
	srand(getpid());

	while (!READ(stop) || loaded) {
		if (loaded) {
			err = unload_module(name);
			if (!err) {
				loaded = 0;
				unloads++;
			}
		} else {
			err = load_module(path, "");
			if (!err) {
				loaded = 1;
				loads++;
			}
		}
		if (err) {
			fprintf(stderr, "%s %s: %s\n", loaded ? "unloading" : "loading",
				name, strerror(err));
			if (++failures > 100)
				break;
		}
		if (!READ(stop))
			nap_ms(rand() % 91);
	}
	printf("done loads %lu unloads %lu failures %lu\n", loads, unloads,
	       failures);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long absent = 0;
	int n, i, idle = 0, died;
	pid_t *pids;
	ssize_t len;

	if (argc == 2 && !strcmp(argv[1], "modctl"))
		return modctl();
	if (argc == 4 && !strcmp(argv[1], "loadloop"))
		return loadloop(argv[2], argv[3]);
	n = argc == 2 ? atoi(argv[1]) : 0;
	if (n <= 0 || n > 1024) {
		fprintf(stderr, "usage: %s NTASKS (1..1024) | modctl | loadloop MODULE.ko NAME\n",
			argv[0]);
		return 2;
	}
	len = read_file(CMDLINE, orig_cmdline, sizeof(orig_cmdline));
	if (len < 0) {
		fprintf(stderr, "cannot read %s: %s\n", CMDLINE, strerror(-len));
		return 2;
	}
	if (strstr(orig_cmdline, "test_klp_stress")) {
		fprintf(stderr, "%s is already patched: '%s'\n", CMDLINE,
			orig_cmdline);
		return 2;
	}
	children = workers_map(n * sizeof(*children));
	pids = calloc(n, sizeof(*pids));
	if (!children || !pids)
		return 2;
	nr_children = n;
	if (workers_start(n, pids, child_loop))
		return 2;
	workers_wait(print_progress);
	died = workers_stop(n, pids);

	for (i = 0; i < n; i++) {
		struct child *c = &children[i];

		if (c->bad)
			fprintf(stderr, "child %d: %lu mismatches in %lu calls\n",
				pids[i], c->bad, c->calls);
		if (!c->calls) {
			fprintf(stderr, "child %d made no calls\n", pids[i]);
			idle++;
		}
		absent += c->absent;
	}
	printf("done tasks %d calls %lu mismatches %lu died %d idle %d absent %lu\n",
	       n, total(0), total(1), died, idle, absent);
	return total(1) || died || idle ? 1 : 0;
}
