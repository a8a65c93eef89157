// SPDX-License-Identifier: GPL-2.0
/*
 * klp_fail_nth - load a module with the N-th allocation of the loading task
 * made to fail (CONFIG_FAULT_INJECTION, /proc/thread-self/fail-nth).
 *
 * Usage: klp_fail_nth N MODULE.ko [PARAMS]
 *
 * The counter is armed just before finit_module(2), so that only the
 * allocations of the module loader and of the module's init are counted,
 * not those of exec or of reading the file.  Prints one line:
 *
 *	<errno> <injected> <text>
 *
 * errno is 0 when the load succeeded, injected is 1 when the N-th
 * allocation was reached (and made to fail), 0 when the load made fewer
 * than N allocations.  Then the kernel log records written meanwhile, one
 * per line (continuation lines of a record are separate records in the
 * kernel log and come out as they are).  Exit status 0, or 2 on a usage
 * or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int write_str(int fd, const char *s)
{
	size_t len = strlen(s);

	return pwrite(fd, s, len, 0) == (ssize_t)len ? 0 : -1;
}

/* Print the message part of every record /dev/kmsg still has for @fd. */
static void print_kmsg(int fd)
{
	char rec[8192];
	ssize_t len;
	char *msg;

	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip them */
		if (len <= 0)
			return;
		rec[len] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		/* Drop the dictionary (" KEY=value" lines) after the text. */
		msg[strcspn(msg, "\n")] = '\0';
		printf("%s\n", msg);
	}
}

int main(int argc, char **argv)
{
	const char *params = argc > 3 ? argv[3] : "";
	int modfd, nthfd, kmsgfd, ret, err;
	char buf[32] = "";
	unsigned long n;
	char *end;
	ssize_t len;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s N MODULE.ko [PARAMS]\n", argv[0]);
		return 2;
	}
	n = strtoul(argv[1], &end, 10);
	if (*end || !n) {
		fprintf(stderr, "%s: N must be a positive number\n", argv[0]);
		return 2;
	}

	modfd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (modfd < 0) {
		perror(argv[2]);
		return 2;
	}
	nthfd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nthfd < 0) {
		perror("/proc/thread-self/fail-nth");
		return 2;
	}
	kmsgfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsgfd < 0 || lseek(kmsgfd, 0, SEEK_END) < 0) {
		perror("/dev/kmsg");
		return 2;
	}

	if (write_str(nthfd, argv[1])) {
		perror("writing fail-nth");
		return 2;
	}
	ret = syscall(SYS_finit_module, modfd, params, 0);
	err = ret ? errno : 0;

	/* What is left of the count: 0 once the N-th allocation failed. */
	len = pread(nthfd, buf, sizeof(buf) - 1, 0);
	if (len <= 0 || write_str(nthfd, "0")) {
		perror("reading fail-nth");
		return 2;
	}
	buf[len] = '\0';

	printf("%d %d %s\n", err, strtoul(buf, NULL, 10) == 0,
	       err ? strerror(err) : "OK");
	print_kmsg(kmsgfd);
	return 0;
}
