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

// pinger: the floor reference of the tcpping prober. One thread, one epoll
// set, N long-lived connections. Sends are spread evenly over the interval:
// slot k (k = 0, 1, ...) is due at start + k*interval/C and goes to
// connection k mod C, where C counts every connection (the extra one too).
// Each probe is one 24-byte frame (magic "TCPPING\0", seq uint64 LE, unix-ns
// uint64 LE) written with one write(); its RTT runs from clock_gettime just
// before the write to clock_gettime just after the read() that returned the
// reply. Nothing else: no timeouts, no histograms, no reconnects. Its CPU per
// probe is the least this kernel lets a prober spend.
//
// usage: pinger -n N -i INTERVAL_US [-s SLACK_US] [-x EXTRA_PORT] [-t SECONDS] HOST PORT
//
// -s lets a wake-up come up to SLACK_US late and send every slot due by
// then in one go, as a timer wheel with that resolution would: the Go
// runtime sleeps in epoll with millisecond resolution, so -s 1000 compares
// like with like. 0 (the default) wakes exactly for every slot.
// -x adds one connection to HOST:EXTRA_PORT whose RTTs are reported apart
// (x* fields), so a packet capture can watch it alone. SIGUSR1 prints a
// stats line; SIGINT/SIGTERM (or -t) print it and exit:
//   stats conns=N sent=N recv=N rtt_sum_ns=N rtt_min_ns=N rtt_max_ns=N
//         xsent=N xrecv=N xrtt_sum_ns=N overwritten=N xoverwritten=N
//         closed=N late_sends=N
//         utime_us=N stime_us=N maxrss_kib=N
// (one line). sent/recv/rtt_* cover the N main connections only; xsent,
// xrecv, xrtt_sum_ns and xoverwritten the extra one, whose frames carry seq
// 1, 2, ... so that, while xoverwritten stays 0, xrecv at two stats lines
// bounds the seq range in between. overwritten counts probes of every
// connection given up unanswered after RING newer ones were sent.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#define RING 8 // probes in flight per connection before the oldest is given up
#define READ_BUF (16 * FRAME)


struct inflight {
	uint64_t seq, sent_ns;
};

struct conn {
	int fd;
	int extra;
	int have;
	uint64_t seq;
	struct inflight ring[RING];
	unsigned char part[FRAME];
};

// counters: probes sent, replies matched, their RTT, and probes given up
// (overwritten in the ring while still unanswered: timeouts, in prober
// terms).
struct counters {
	uint64_t sent, recv, rtt_sum, rtt_min, rtt_max, lost;
};

static struct counters main_c = {.rtt_min = UINT64_MAX}, extra_c = {.rtt_min = UINT64_MAX};
static uint64_t closed_conns, late_sends, open_conns;

static uint64_t mono_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t real_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void put64(unsigned char *b, uint64_t v) {
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *b) {
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static int dial(const char *host, const char *port) {
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	struct addrinfo *ai;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "%s:%s: %s\n", host, port, gai_strerror(rc));
		exit(2);
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect");
	freeaddrinfo(ai);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		die("fcntl");
	return fd;
}

static void print_stats(void) {
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("stats conns=%llu sent=%llu recv=%llu rtt_sum_ns=%llu rtt_min_ns=%llu rtt_max_ns=%llu "
	       "xsent=%llu xrecv=%llu xrtt_sum_ns=%llu overwritten=%llu xoverwritten=%llu closed=%llu late_sends=%llu "
	       "utime_us=%lld stime_us=%lld maxrss_kib=%ld\n",
	       (unsigned long long)open_conns, (unsigned long long)main_c.sent,
	       (unsigned long long)main_c.recv, (unsigned long long)main_c.rtt_sum,
	       (unsigned long long)(main_c.recv ? main_c.rtt_min : 0), (unsigned long long)main_c.rtt_max,
	       (unsigned long long)extra_c.sent, (unsigned long long)extra_c.recv,
	       (unsigned long long)extra_c.rtt_sum, (unsigned long long)(main_c.lost + extra_c.lost),
	       (unsigned long long)extra_c.lost,
	       (unsigned long long)closed_conns, (unsigned long long)late_sends,
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
	fflush(stdout);
}

static void close_conn(struct conn *c) {
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	closed_conns++;
	open_conns--;
}

static void send_probe(struct conn *c) {
	if (c->fd < 0)
		return;
	struct counters *k = c->extra ? &extra_c : &main_c;
	unsigned char f[FRAME];
	uint64_t seq = ++c->seq;
	memcpy(f, magic, 8);
	put64(f + 8, seq);
	put64(f + 16, real_ns());
	struct inflight *slot = &c->ring[seq % RING];
	if (slot->seq != 0)
		k->lost++; // its reply never came: a timeout in prober terms
	slot->seq = seq;
	slot->sent_ns = mono_ns(); // immediately before the write
	if (write(c->fd, f, FRAME) != FRAME) {
		close_conn(c);
		return;
	}
	k->sent++;
}

static void receive(struct conn *c) {
	unsigned char buf[FRAME + READ_BUF];
	memcpy(buf, c->part, c->have);
	ssize_t n = read(c->fd, buf + c->have, READ_BUF);
	uint64_t now = mono_ns(); // immediately after the read
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_conn(c);
		return;
	}
	struct counters *k = c->extra ? &extra_c : &main_c;
	size_t total = c->have + n, off = 0;
	for (; total - off >= FRAME; off += FRAME) {
		if (memcmp(buf + off, magic, 8) != 0) {
			close_conn(c);
			return;
		}
		uint64_t seq = get64(buf + off + 8);
		struct inflight *slot = &c->ring[seq % RING];
		if (slot->seq != seq)
			continue; // given up already
		uint64_t rtt = now - slot->sent_ns;
		slot->seq = 0;
		k->recv++;
		k->rtt_sum += rtt;
		if (rtt < k->rtt_min)
			k->rtt_min = rtt;
		if (rtt > k->rtt_max)
			k->rtt_max = rtt;
	}
	c->have = total - off;
	memcpy(c->part, buf + off, c->have);
}

// wait_ns waits for events for at most timeout_ns, with nanosecond
// resolution where the kernel has epoll_pwait2 (Linux 5.11).
static int wait_ns(int ep, struct epoll_event *evs, int max, int64_t timeout_ns) {
	static int no_pwait2;
	if (timeout_ns < 0)
		timeout_ns = 0;
	if (!no_pwait2) {
		struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
		int n = epoll_pwait2(ep, evs, max, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = 1;
	}
	return epoll_wait(ep, evs, max, (int)((timeout_ns + 999999) / 1000000));
}

static void usage(const char *argv0) {
	fprintf(stderr, "usage: %s -n N -i INTERVAL_US [-s SLACK_US] [-x EXTRA_PORT] [-t SECONDS] HOST PORT\n", argv0);
	exit(2);
}

int main(int argc, char **argv) {
	long n = 0, interval_us = 0, seconds = 0, slack_us = 0;
	const char *extra_port = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "n:i:s:x:t:")) != -1) {
		switch (opt) {
		case 'n':
			n = atol(optarg);
			break;
		case 'i':
			interval_us = atol(optarg);
			break;
		case 's':
			slack_us = atol(optarg);
			break;
		case 'x':
			extra_port = optarg;
			break;
		case 't':
			seconds = atol(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind + 2 != argc || n < 0 || interval_us <= 0 || slack_us < 0 || (n == 0 && !extra_port))
		usage(argv[0]);
	const char *host = argv[optind], *port = argv[optind + 1];
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);

	long total = n + (extra_port ? 1 : 0);
	struct conn *conns = calloc(total, sizeof(*conns));
	if (!conns)
		die("calloc");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	for (long i = 0; i < total; i++) {
		struct conn *c = &conns[i];
		c->extra = i == n;
		c->fd = dial(host, c->extra ? extra_port : port);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl");
		open_conns++;
	}

	int sfd = watch_signals(ep, 0);
	printf("connected %ld\n", total);
	fflush(stdout);

	const uint64_t interval_ns = (uint64_t)interval_us * 1000;
	const uint64_t start = mono_ns();
	const uint64_t end = seconds > 0 ? start + (uint64_t)seconds * 1000000000ull : UINT64_MAX;
	uint64_t next = 0; // next slot
	struct epoll_event evs[256];
	for (;;) {
		uint64_t now = mono_ns();
		uint64_t due;
		while ((due = start + next * interval_ns / total) <= now) {
			if (now - due > 1000000 + (uint64_t)slack_us * 1000)
				late_sends++;
			send_probe(&conns[next % total]);
			next++;
		}
		if (now >= end) {
			print_stats();
			return 0;
		}
		int k = wait_ns(ep, evs, 256, (int64_t)(due - now) + slack_us * 1000);
		if (k < 0 && errno != EINTR)
			die("epoll_pwait2");
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c) {
				if (c->fd >= 0)
					receive(c);
				continue;
			}
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				print_stats();
				if (si.ssi_signo != SIGUSR1)
					return 0;
			}
		}
	}
}
