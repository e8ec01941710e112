// floor.h: what the two floor references share: the frame's magic, error
// exit, the open-files limit and the stats signals.
#ifndef FLOOR_H
#define FLOOR_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#define FRAME 24

static const char magic[8] = {'T', 'C', 'P', 'P', 'I', 'N', 'G', 0};

static void die(const char *what) {
	perror(what);
	exit(1);
}

// raise_nofile raises the soft open-files limit to the hard one.
static void raise_nofile(void) {
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

// watch_signals blocks SIGUSR1, SIGINT and SIGTERM and adds a signalfd for
// them to the epoll set ep, its event data being the signalfd itself when
// by_fd, else a NULL pointer; it returns the signalfd.
static int watch_signals(int ep, int by_fd) {
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	struct epoll_event sev = {.events = EPOLLIN};
	if (by_fd)
		sev.data.fd = sfd;
	else
		sev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &sev) < 0)
		die("epoll_ctl");
	return sfd;
}

#endif
