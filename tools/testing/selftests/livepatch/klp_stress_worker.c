// SPDX-License-Identifier: GPL-2.0
/*
 * klp_stress_worker - helper of test-stress.sh.
 *
 * Usage: klp_stress_worker serve
 *        klp_stress_worker loadloop MODULE.ko NAME
 *        klp_stress_worker execloop NTHREADS [EXECS]
 *
 * klp_stress_worker serve: reads commands, one a line, on stdin, and
 * answers each with one line on stdout ("ok", or "err <errno> <text>"):
 *   load MODULE.ko [PARAMS]   finit_module(2) (the test script loads and
 *                             unloads its modules through this, which
 *                             spares an exec of insmod or rmmod each)
 *   unload NAME               delete_module(2), without waiting
 *   start NTASKS BIGFUNCS     start NTASKS worker processes (below);
 *                             BIGFUNCS is how many functions
 *                             test_klp_stress_big patches; answered with
 *                             "ready <NTASKS>" instead of "ok"
 *   allow STATE...            from now on, the workers' calls may see the
 *                             versions of these patch states only (below)
 *   mismatches                answer "ok <n>", the bad and disallowed
 *                             results so far
 *   stop                      stop the workers and answer
 *      "done tasks <n> calls <n> pair <n> bad <n> disallowed <n> died <n>
 *       idle <n> absent <n> cpus <hex>"
 *   and exit 0 if no call was bad or disallowed, every worker ended
 *   normally and made calls, 1 otherwise (details on stderr).  SIGTERM or
 *   the end of stdin stops the workers too (the "done" line then goes to
 *   stderr).
 *
 * A patch state is a number, the sum of the patches enabled: 1
 * test_klp_stress_big, 2 test_klp_stress_vmlinux, 4 test_klp_stress_consist,
 * 8 test_klp_stress_cum.  It gives every function one version: f000..f009
 * 3 with the cumulative patch, else 2 with the big one, else 1; f010 ..
 * f<BIGFUNCS - 1> 2 with the big patch and without the cumulative one, else
 * 1; the others 1; the pair and test_klp_stress_mod2_val() 3 with the
 * cumulative patch, else 2 with test_klp_stress_consist, else 1;
 * /proc/cmdline the text of the cumulative patch, else that of
 * test_klp_stress_vmlinux, else the original.
 *
 * The test script sends "allow" with the state before and the states after
 * an operation before it starts the operation, and "allow" with the state
 * it reached once the operation's transition has ended.  Every "allow" is a
 * new generation in memory shared with the workers (the parent answers once
 * the workers can see it).  A worker reads the generation before and after
 * each read of a check file (a batch of calls); every version a call
 * returned must be one of the states of a generation in between: a call
 * made at any moment of that read ran while one of those generations was
 * the newest.  Anything else is a "disallowed" result.
 *
 * Each worker loops over:
 *   /proc/test_klp_stress_target/check    the module calls its 1000
 *	functions and its consistency pair, reports the versions it saw and
 *	its bad results (no version of the function called, or a mix of the
 *	pair's versions); this file must always be there
 *   /proc/test_klp_stress_target2/check   the same for the module that
 *	comes and goes: its absence (ENOENT, or EIO when the module went
 *	away while the file was open) is counted, not an error
 *   /proc/cmdline                         one call of cmdline_proc_show()
 * and records the CPUs it ran on.  The workers run at nice 19 so that the
 * test script stays responsive.
 *
 * klp_stress_worker loadloop MODULE.ko NAME: loads and unloads the module
 * in a loop, with a random pause of up to 90 ms after each operation, at
 * nice 5, until SIGTERM; then unloads it if loaded, prints
 * "done loads <n> unloads <n> failures <n>" and exits 0 if no operation
 * failed (each failure is printed on stderr), 1 otherwise.
 *
 * klp_stress_worker execloop NTHREADS [EXECS]: a process of NTHREADS + 2
 * threads, of which one, not the leader, exec()s the program again after
 * 20 to 110 ms, with EXECS + 1, until a signal ends the group.  exec() by a
 * thread that is not the leader (de_thread()) releases the old leader and
 * moves the group's process ID to the thread that called it: the walks of
 * the task list (kernel/livepatch/transition.c) must go through such a
 * group, more than a batch of threads, while that happens.  EXECS, in
 * /proc/PID/cmdline, tells how many exec()s the process went through.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include "klp_workers.h"

#define TARGET_CHECK	"/proc/test_klp_stress_target/check"
#define TARGET2_CHECK	"/proc/test_klp_stress_target2/check"
#define CMDLINE		"/proc/cmdline"
#define CMDLINE_V2	"test_klp_stress_vmlinux: cmdline v2\n"
#define CMDLINE_V3	"test_klp_stress_cum: cmdline v3\n"

#define NFUNCS		1000	/* TEST_KLP_STRESS_NFUNCS */
#define NCUM		10	/* TEST_KLP_STRESS_NCUM */
/* The patch state bits (see the top of this file). */
#define ST_BIG		1
#define ST_VM		2
#define ST_CONS		4
#define ST_CUM		8
#define NSTATES		16
/* Generations of "allow": enough for thousands of rounds. */
#define MAX_GENS	65536
/* Details printed per worker at most. */
#define MAX_NOTES	10

/* Shared with the parent (MAP_SHARED). */
struct shared {
	unsigned long gen;		/* the newest generation */
	unsigned int cpus;		/* CPUs (< 32) the workers ran on */
	unsigned short sets[MAX_GENS];	/* the states of each generation */
};

/* Per worker, shared with the parent; accessed with READ()/WRITE(). */
struct child {
	unsigned long calls;
	unsigned long pair_calls;
	unsigned long bad;		/* reported bad by the modules */
	unsigned long disallowed;	/* versions not allowed at the time */
	unsigned long absent;	/* reads of TARGET2_CHECK without the module */
};

static char orig_cmdline[4096];
static struct shared *shared;
static struct child *children;
static int nr_children;
static unsigned int big_funcs;
static int notes;

/* func_version - the version of function I in patch state S. */
static unsigned int func_version(unsigned int s, unsigned int i)
{
	if (s & ST_CUM)
		return i < NCUM ? 3 : 1;
	return (s & ST_BIG) && i < big_funcs ? 2 : 1;
}

/* pair_version - the version of the pair and of test_klp_stress_mod2_val(). */
static unsigned int pair_version(unsigned int s)
{
	return s & ST_CUM ? 3 : s & ST_CONS ? 2 : 1;
}

/* cmdline_version - the version of /proc/cmdline (1 the original text). */
static unsigned int cmdline_version(unsigned int s)
{
	return s & ST_CUM ? 3 : s & ST_VM ? 2 : 1;
}

/* allowed_states - the states of generations G1 .. G2. */
static unsigned int allowed_states(unsigned long g1, unsigned long g2)
{
	unsigned int set = 0;
	unsigned long g;

	for (g = g1; g <= g2; g++)
		set |= READ(shared->sets[g]);
	return set;
}

static unsigned long gen_now(void)
{
	return __atomic_load_n(&shared->gen, __ATOMIC_ACQUIRE);
}

/* note - print a detail about this worker's calls (a few per worker). */
static void note(const char *fmt, ...)
{
	va_list ap;

	if (notes++ >= MAX_NOTES)
		return;
	fprintf(stderr, "%d: ", getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

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

/*
 * hexval - the value of hex digit C, or -1.
 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * check_target - check a report of TARGET_CHECK read while generations G1 ..
 * G2 were the newest.
 */
static void check_target(struct child *c, const char *buf, unsigned long g1,
			 unsigned long g2)
{
	unsigned long calls, pair_calls, bad, disallowed = 0;
	unsigned char allowed[NFUNCS] = { 0 };
	unsigned int set, s, i, pair_allowed = 0, pair_seen;
	const char *seen;
	int n = 0, v;

	if (sscanf(buf, "calls %lu pair %lu bad %lu\nseen %n", &calls,
		   &pair_calls, &bad, &n) != 3 || !n || !calls) {
		fprintf(stderr, "%d: unexpected report from %s: '%s'\n",
			getpid(), TARGET_CHECK, buf);
		_exit(3);
	}
	seen = buf + n;
	if (strlen(seen) < NFUNCS ||
	    sscanf(seen + NFUNCS, "\npair %x", &pair_seen) != 1) {
		fprintf(stderr, "%d: unexpected report from %s: '%s'\n",
			getpid(), TARGET_CHECK, buf);
		_exit(3);
	}
	set = allowed_states(g1, g2);
	for (s = 0; s < NSTATES; s++) {
		if (!(set & (1U << s)))
			continue;
		for (i = 0; i < NFUNCS; i++)
			allowed[i] |= 1U << (func_version(s, i) - 1);
		pair_allowed |= 1U << (pair_version(s) - 1);
	}
	for (i = 0; i < NFUNCS; i++) {
		v = hexval(seen[i]);
		if (v < 0) {
			fprintf(stderr, "%d: unexpected report from %s: '%s'\n",
				getpid(), TARGET_CHECK, buf);
			_exit(3);
		}
		if (v & ~allowed[i]) {
			disallowed++;
			note("f%03u: versions %#x, allowed %#x (states %#x, gens %lu-%lu)\n",
			     i, v, allowed[i], set, g1, g2);
		}
	}
	if (pair_seen & ~pair_allowed) {
		disallowed++;
		note("pair: versions %#x, allowed %#x (states %#x, gens %lu-%lu)\n",
		     pair_seen, pair_allowed, set, g1, g2);
	}
	if (bad)
		note("%s: %s", TARGET_CHECK, buf);
	WRITE(c->calls, c->calls + calls);
	WRITE(c->pair_calls, c->pair_calls + pair_calls);
	WRITE(c->bad, c->bad + bad);
	WRITE(c->disallowed, c->disallowed + disallowed);
}

/* check_target2 - the same for a report of TARGET2_CHECK. */
static void check_target2(struct child *c, const char *buf, unsigned long g1,
			  unsigned long g2)
{
	unsigned long calls, bad;
	unsigned int set, s, allowed = 0, seen;

	if (sscanf(buf, "calls %lu bad %lu seen %x", &calls, &bad, &seen) != 3 ||
	    !calls) {
		fprintf(stderr, "%d: unexpected report from %s: '%s'\n",
			getpid(), TARGET2_CHECK, buf);
		_exit(3);
	}
	set = allowed_states(g1, g2);
	for (s = 0; s < NSTATES; s++)
		if (set & (1U << s))
			allowed |= 1U << (pair_version(s) - 1);
	if (seen & ~allowed) {
		WRITE(c->disallowed, c->disallowed + 1);
		note("mod2_val: versions %#x, allowed %#x (states %#x, gens %lu-%lu)\n",
		     seen, allowed, set, g1, g2);
	}
	if (bad)
		note("%s: %s", TARGET2_CHECK, buf);
	WRITE(c->calls, c->calls + calls);
	WRITE(c->bad, c->bad + bad);
}

/* check_cmdline - the same for a read of /proc/cmdline. */
static void check_cmdline(struct child *c, const char *buf, unsigned long g1,
			  unsigned long g2)
{
	unsigned int set, s, allowed = 0, v;

	if (!strcmp(buf, orig_cmdline)) {
		v = 1;
	} else if (!strcmp(buf, CMDLINE_V2)) {
		v = 2;
	} else if (!strcmp(buf, CMDLINE_V3)) {
		v = 3;
	} else {
		note("%s reads '%s'\n", CMDLINE, buf);
		WRITE(c->bad, c->bad + 1);
		WRITE(c->calls, c->calls + 1);
		return;
	}
	set = allowed_states(g1, g2);
	for (s = 0; s < NSTATES; s++)
		if (set & (1U << s))
			allowed |= 1U << (cmdline_version(s) - 1);
	if (!(allowed & (1U << (v - 1)))) {
		WRITE(c->disallowed, c->disallowed + 1);
		note("cmdline: version %u, allowed %#x (states %#x, gens %lu-%lu)\n",
		     v, allowed, set, g1, g2);
	}
	WRITE(c->calls, c->calls + 1);
}

static void child_loop(int i)
{
	struct child *c = &children[i];
	unsigned long g1, g2;
	char buf[4096];
	ssize_t n;
	int cpu;

	while (!READ(stop)) {
		g1 = gen_now();
		n = read_file(TARGET_CHECK, buf, sizeof(buf));
		g2 = gen_now();
		if (n < 0) {
			fprintf(stderr, "%d: cannot read %s: %s\n", getpid(),
				TARGET_CHECK, strerror(-n));
			_exit(3);
		}
		check_target(c, buf, g1, g2);

		g1 = gen_now();
		n = read_file(TARGET2_CHECK, buf, sizeof(buf));
		g2 = gen_now();
		if (n == -ENOENT || n == -EIO) {
			WRITE(c->absent, c->absent + 1);
		} else if (n < 0) {
			fprintf(stderr, "%d: cannot read %s: %s\n", getpid(),
				TARGET2_CHECK, strerror(-n));
			_exit(3);
		} else {
			check_target2(c, buf, g1, g2);
		}

		g1 = gen_now();
		n = read_file(CMDLINE, buf, sizeof(buf));
		g2 = gen_now();
		if (n < 0) {
			fprintf(stderr, "%d: cannot read %s: %s\n", getpid(),
				CMDLINE, strerror(-n));
			_exit(3);
		}
		check_cmdline(c, buf, g1, g2);

		cpu = sched_getcpu();
		if (cpu >= 0 && cpu < 32)
			__atomic_fetch_or(&shared->cpus, 1U << cpu, __ATOMIC_RELAXED);
	}
	_exit(0);
}

static unsigned long total(size_t offset)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < nr_children; i++)
		sum += READ(*(unsigned long *)((char *)&children[i] + offset));
	return sum;
}

#define TOTAL(field)	total(offsetof(struct child, field))

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

/* answer - print one answer line of the serve loop. */
static void answer(int err, const char *text)
{
	if (err)
		printf("err %d %s\n", err, text ? text : strerror(err));
	else
		printf("ok\n");
	fflush(stdout);
}

/* start - fork the workers: "start NTASKS BIGFUNCS". */
static int start(const char *args, pid_t **pids)
{
	ssize_t len;
	int n;

	if (nr_children)
		return -EBUSY;
	if (!args || sscanf(args, "%d %u", &n, &big_funcs) != 2 || n <= 0 ||
	    n > 1024 || big_funcs > NFUNCS)
		return -EINVAL;
	len = read_file(CMDLINE, orig_cmdline, sizeof(orig_cmdline));
	if (len < 0)
		return len;
	if (strstr(orig_cmdline, "test_klp_stress")) {
		fprintf(stderr, "%s is already patched: '%s'\n", CMDLINE,
			orig_cmdline);
		return -EINVAL;
	}
	children = workers_map(n * sizeof(*children));
	*pids = calloc(n, sizeof(**pids));
	if (!children || !*pids)
		return -ENOMEM;
	if (workers_start(n, *pids, child_loop))
		return -EAGAIN;
	nr_children = n;
	/*
	 * SIGTERM and SIGINT may now end the serve loop (the read of the
	 * next command fails with EINTR).
	 */
	sigprocmask(SIG_SETMASK, &workers_old_mask, NULL);
	return 0;
}

/* allow - publish a generation: "allow STATE...". */
static int allow(char *args)
{
	unsigned long gen = shared->gen;
	unsigned int set = 0;
	char *tok, *end;
	long s;

	for (tok = strtok(args, " "); tok; tok = strtok(NULL, " ")) {
		s = strtol(tok, &end, 10);
		if (*end || s < 0 || s >= NSTATES)
			return -EINVAL;
		set |= 1U << s;
	}
	if (!set)
		return -EINVAL;
	if (gen + 1 >= MAX_GENS)
		return -ENOSPC;
	WRITE(shared->sets[gen + 1], set);
	__atomic_store_n(&shared->gen, gen + 1, __ATOMIC_RELEASE);
	return 0;
}

/* finish - stop the workers, print the "done" line to OUT. */
static int finish(pid_t *pids, FILE *out)
{
	int i, idle = 0, died = 0;
	unsigned long bad, disallowed;

	if (nr_children)
		died = workers_stop(nr_children, pids);
	for (i = 0; i < nr_children; i++) {
		struct child *c = &children[i];

		if (c->bad || c->disallowed)
			fprintf(stderr, "child %d: %lu bad, %lu disallowed in %lu calls\n",
				pids[i], c->bad, c->disallowed, c->calls);
		if (!c->calls) {
			fprintf(stderr, "child %d made no calls\n", pids[i]);
			idle++;
		}
	}
	bad = TOTAL(bad);
	disallowed = TOTAL(disallowed);
	fprintf(out, "done tasks %d calls %lu pair %lu bad %lu disallowed %lu ",
		nr_children, TOTAL(calls), TOTAL(pair_calls), bad, disallowed);
	fprintf(out, "died %d idle %d absent %lu cpus %x\n",
		died, idle, TOTAL(absent), READ(shared->cpus));
	fflush(out);
	return bad || disallowed || died || idle || !nr_children ? 1 : 0;
}

static int serve(void)
{
	char line[4096], *cmd, *arg, *params;
	pid_t *pids = NULL;
	int err;

	shared = workers_map(sizeof(*shared));
	if (!shared)
		return 2;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		cmd = strtok(line, " ");
		arg = strtok(NULL, "");
		if (!cmd) {
			answer(EINVAL, "bad command");
		} else if (!strcmp(cmd, "stop")) {
			return finish(pids, stdout);
		} else if (!strcmp(cmd, "start")) {
			/* workers_start() answered "ready <n>" */
			err = start(arg, &pids);
			if (err)
				answer(-err, NULL);
		} else if (!strcmp(cmd, "mismatches") && !arg) {
			printf("ok %lu\n", nr_children ? TOTAL(bad) + TOTAL(disallowed) : 0);
			fflush(stdout);
		} else if (!strcmp(cmd, "allow")) {
			answer(arg ? -allow(arg) : EINVAL, NULL);
		} else if (arg && !strcmp(cmd, "load")) {
			arg = strtok(arg, " ");
			params = strtok(NULL, "");
			answer(load_module(arg, params ? params : ""), NULL);
		} else if (arg && !strchr(arg, ' ') && !strcmp(cmd, "unload")) {
			answer(unload_module(arg), NULL);
		} else {
			answer(EINVAL, "bad command");
		}
	}
	/* SIGTERM or the end of stdin: stop the workers all the same. */
	return finish(pids, stderr) ? 1 : 0;
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

static char execloop_nthreads[16], execloop_execs[24];

static void *execloop_sleep(void *unused)
{
	for (;;)
		pause();
	return NULL;
}

static void *execloop_exec(void *unused)
{
	nap_ms(20 + rand() % 91);
	execl("/proc/self/exe", "klp_stress_worker", "execloop",
	      execloop_nthreads, execloop_execs, (char *)NULL);
	perror("exec /proc/self/exe");
	exit(1);
}

static int execloop(const char *nthreads, const char *execs)
{
	unsigned long done = execs ? strtoul(execs, NULL, 10) : 0;
	int i, err, n = atoi(nthreads);
	pthread_t t;

	snprintf(execloop_nthreads, sizeof(execloop_nthreads), "%d", n);
	snprintf(execloop_execs, sizeof(execloop_execs), "%lu", done + 1);
	srand(getpid() ^ done);
	for (i = 0; i <= n; i++) {
		err = pthread_create(&t, NULL, i < n ? execloop_sleep :
					       execloop_exec, NULL);
		if (err) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "serve"))
		return serve();
	if (argc == 4 && !strcmp(argv[1], "loadloop"))
		return loadloop(argv[2], argv[3]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "execloop"))
		return execloop(argv[2], argc == 4 ? argv[3] : NULL);
	fprintf(stderr,
		"usage: %s serve | loadloop MODULE.ko NAME | execloop NTHREADS [EXECS]\n",
		argv[0]);
	return 2;
}
