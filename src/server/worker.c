/* server/worker.c -- query workers: a thread for each UDP socket, an epoll loop for TCP */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "runtime/metrics.h"
#include "runtime/runtime.h"
#include "server/tcp.h"
#include "server/udp.h"
#include "server/worker.h"
#include "server/worker_impl.h"
#include "wire/pkt.h"

worker_t *worker_new(worker_shared_t *shared, int id, const int *udp_fds, size_t udp_count,
                     const int *tcp_fds, size_t tcp_count)
{
	worker_t *w = calloc(1, sizeof(*w));
	size_t taken = 0;   /* UDP sockets handed to their threads (which close them) */
	if (w == NULL)
		goto fail;
	w->shared = shared;
	w->id = id;
	w->cell = id * (int)(1 + udp_count);
	w->epfd = w->evfd = -1;
	w->udp = calloc(udp_count ? udp_count : 1, sizeof(*w->udp));
	w->socks = calloc(tcp_count ? tcp_count : 1, sizeof(worker_sock_t));
	w->tcp_scratch = malloc(PKT_MAXLEN);
	if (w->udp == NULL || w->socks == NULL || w->tcp_scratch == NULL)
		goto fail;
	for (; taken < udp_count; taken++) {
		w->udp[taken] = udp_thread_new(shared, udp_fds[taken], w->cell + 1 + (int)taken);
		if (w->udp[taken] == NULL) {
			taken++;   /* closed by udp_thread_new */
			goto fail;
		}
		w->nudp++;
	}
	for (size_t i = 0; i < tcp_count; i++)
		w->socks[w->nsocks++] = (worker_sock_t){ .kind = WORKER_SOCK_TCP, .fd = tcp_fds[i] };
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->evfd < 0)
		goto fail;
	w->wake = (worker_sock_t){ .kind = WORKER_SOCK_WAKE, .fd = w->evfd };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->wake };
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) != 0)
		goto fail;
	for (size_t i = 0; i < w->nsocks; i++) {
		ev.data.ptr = &w->socks[i];
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->socks[i].fd, &ev) != 0)
			goto fail;
	}
	return w;
fail:
	for (size_t i = taken; i < udp_count; i++)
		close(udp_fds[i]);
	if (w == NULL || w->nsocks < tcp_count)
		for (size_t i = w != NULL ? w->nsocks : 0; i < tcp_count; i++)
			close(tcp_fds[i]);
	worker_free(w);
	return NULL;
}

void worker_answered(worker_t *w, const uint8_t *resp, size_t len)
{
	int64_t poll = udp_update_poll(w->shared->srv, resp, len);
	if (poll != 0)
		w->poll_until = poll;
}

/* How long the next epoll_wait may sleep (ms): not at all while an UPDATE's poll lasts. */
static int wait_ms(worker_t *w)
{
	if (w->poll_until != 0 && clock_us() < w->poll_until)
		return 0;
	w->poll_until = 0;
	return tcp_wait_ms(w);
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	struct epoll_event events[64];
	rcu_register_thread();
	while (!atomic_load(&w->shared->stop)) {
		int n = epoll_wait(w->epfd, events, 64, wait_ms(w));
		if (n < 0 && errno != EINTR) {
			log_err("worker %d: epoll_wait failed (%s)", w->id, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			worker_sock_t *s = events[i].data.ptr;
			switch (s->kind) {
			case WORKER_SOCK_TCP: tcp_accept(w, s->fd); break;
			case WORKER_SOCK_CONN: tcp_ready(w, s, events[i].events); break;
			case WORKER_SOCK_WAKE: break;
			}
		}
		tcp_tick(w);
	}
	tcp_close_all(w);
	rcu_unregister_thread();
	return NULL;
}

int worker_start(worker_t *w)
{
	int ret = pthread_create(&w->thread, NULL, worker_main, w);
	if (ret != 0)
		return -ret;
	w->started = true;
	for (size_t i = 0; i < w->nudp; i++)
		if ((ret = udp_thread_start(w->udp[i])) != TDM_OK)
			return ret;
	return TDM_OK;
}

void worker_stop(worker_t *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->evfd, &one, sizeof(one));
	(void)r;
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
	for (size_t i = 0; i < w->nudp; i++)
		udp_thread_stop(w->udp[i]);
}

void worker_free(worker_t *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nsocks; i++)
		close(w->socks[i].fd);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->evfd >= 0)
		close(w->evfd);
	free(w->socks);
	for (size_t i = 0; i < w->nudp; i++)
		udp_thread_free(w->udp[i]);
	free(w->udp);
	free(w->tcp_scratch);
	free(w);
}
