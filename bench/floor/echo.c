// Copyright 2026 The tcpping_exporter Authors
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

// echo: the floor reference of the tcpping echo server. One thread, one
// epoll set, non-blocking sockets. It reads whole 24-byte frames (magic
// "TCPPING\0", seq, unix-ns), writes each one back unchanged and in order,
// and closes a connection whose frame has the wrong magic. Nothing else:
// no deadlines, no metrics, no limits. Its CPU per echoed frame is the
// least this kernel lets an echo server spend.
//
// usage: echo -l HOST:PORT [-l HOST:PORT ...] [-t SECONDS]
//
// SIGUSR1 prints a stats line; SIGINT/SIGTERM (or -t) print it and exit:
//   stats frames=N conns=N accepted=N closed=N utime_us=N stime_us=N maxrss_kib=N
// utime/stime come from getrusage(RUSAGE_SELF).

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define MAX_LISTEN 8
#define READ_BUF (64 * FRAME)


// conn is one client connection: a partial frame carried between reads.
struct conn {
	int fd;
	int have;
	unsigned char part[FRAME];
};

static struct conn **conns; // indexed by fd
static int nconns_max;
static uint64_t frames, accepted, closed_conns, open_conns;

// alloc_conns sizes the connection table to the open-files limit.
static void alloc_conns(void) {
	struct rlimit r;
	raise_nofile();
	if (getrlimit(RLIMIT_NOFILE, &r) != 0)
		die("getrlimit");
	nconns_max = r.rlim_cur > 1 << 20 ? 1 << 20 : (int)r.rlim_cur;
	conns = calloc(nconns_max, sizeof(*conns));
	if (!conns)
		die("calloc");
}

static int listen_on(const char *hostport) {
	char host[256];
	const char *colon = strrchr(hostport, ':');
	if (!colon || colon - hostport >= (long)sizeof(host)) {
		fprintf(stderr, "bad address %s\n", hostport);
		exit(2);
	}
	memcpy(host, hostport, colon - hostport);
	host[colon - hostport] = 0;
	char *h = host;
	if (h[0] == '[') { // [::1]:port
		h++;
		h[strlen(h) - 1] = 0;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
	struct addrinfo *ai;
	int rc = getaddrinfo(h, colon + 1, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", hostport, gai_strerror(rc));
		exit(2);
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die(hostport);
	if (listen(fd, 4096) < 0)
		die("listen");
	freeaddrinfo(ai);
	return fd;
}

static void print_stats(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("stats frames=%llu conns=%llu accepted=%llu closed=%llu utime_us=%lld stime_us=%lld maxrss_kib=%ld\n",
	       (unsigned long long)frames, (unsigned long long)open_conns,
	       (unsigned long long)accepted, (unsigned long long)closed_conns,
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
	fflush(stdout);
}

static void close_conn(struct conn *c) {
	close(c->fd); // also removes it from the epoll set
	conns[c->fd] = NULL;
	free(c);
	closed_conns++;
	open_conns--;
}

static void accept_all(int ep, int lfd) {
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				perror("accept4");
			return;
		}
		if (fd >= nconns_max) {
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c)
			die("calloc");
		c->fd = fd;
		conns[fd] = c;
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl");
		accepted++;
		open_conns++;
	}
}

// serve reads what is there and echoes every whole frame in one write.
static void serve(struct conn *c) {
	unsigned char buf[FRAME + READ_BUF];
	for (;;) {
		memcpy(buf, c->part, c->have);
		ssize_t n = read(c->fd, buf + c->have, READ_BUF);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			close_conn(c);
			return;
		}
		size_t total = c->have + n, whole = total - total % FRAME;
		for (size_t off = 0; off < whole; off += FRAME) {
			if (memcmp(buf + off, magic, sizeof(magic)) != 0) {
				close_conn(c);
				return;
			}
		}
		if (whole > 0) {
			// A reply of at most READ_BUF bytes into a socket whose
			// peer reads its replies fits the send buffer; a short
			// write means a client that does not read: drop it.
			ssize_t w = write(c->fd, buf, whole);
			if (w != (ssize_t)whole) {
				close_conn(c);
				return;
			}
			frames += whole / FRAME;
		}
		c->have = total - whole;
		memcpy(c->part, buf + whole, c->have);
		if ((size_t)n < READ_BUF)
			return; // drained: level-triggered epoll calls again
	}
}

int main(int argc, char **argv) {
	const char *addrs[MAX_LISTEN];
	int naddrs = 0, seconds = 0, opt;
	while ((opt = getopt(argc, argv, "l:t:")) != -1) {
		switch (opt) {
		case 'l':
			if (naddrs == MAX_LISTEN) {
				fprintf(stderr, "at most %d -l\n", MAX_LISTEN);
				return 2;
			}
			addrs[naddrs++] = optarg;
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s -l HOST:PORT [-l HOST:PORT ...] [-t SECONDS]\n", argv[0]);
			return 2;
		}
	}
	if (naddrs == 0) {
		fprintf(stderr, "usage: %s -l HOST:PORT [-l HOST:PORT ...] [-t SECONDS]\n", argv[0]);
		return 2;
	}
	alloc_conns();
	signal(SIGPIPE, SIG_IGN);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	int lfds[MAX_LISTEN];
	for (int i = 0; i < naddrs; i++) {
		lfds[i] = listen_on(addrs[i]);
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfds[i]};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfds[i], &ev) < 0)
			die("epoll_ctl");
	}
	int sfd = watch_signals(ep, 1);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	printf("listening\n");
	fflush(stdout);

	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, seconds > 0 ? 1000 : -1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == sfd) {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					print_stats();
					if (si.ssi_signo != SIGUSR1)
						return 0;
				}
				continue;
			}
			int listener = 0;
			for (int j = 0; j < naddrs; j++)
				if (fd == lfds[j]) {
					accept_all(ep, fd);
					listener = 1;
				}
			if (!listener && conns[fd])
				serve(conns[fd]);
		}
		if (seconds > 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec >= seconds) {
				print_stats();
				return 0;
			}
		}
	}
}
