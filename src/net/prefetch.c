/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A source read ahead on a thread, through a ring of blocks (prefetch.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/prefetch.h"
#include "util/errors.h"

#define SLOTS 8
#define SLOT_SIZE (1u << 20)
/* A slot that holds something is handed on after this long, full or not: on a slow link
 * the consumer sees the first bytes (and may refuse them) without waiting for a megabyte. */
#define SLOT_WAIT_MS 200

struct prefetch {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned char *slot[SLOTS];
	size_t len[SLOTS];
	unsigned head;  /* the next slot the reader fills */
	unsigned tail;  /* the next slot the consumer takes */
	unsigned count; /* filled, not yet released */
	bool held;      /* the consumer holds slot tail */
	bool ended;     /* the reader is done: at the end, or error */
	bool stop;      /* the consumer wants no more */
	int error;
	char *why;
	/* the source; only the reader thread touches it, but for fetch_stream_cancel */
	struct fetch_stream *stream;
	int fd;
	struct fetch_opts progress;
	uint64_t done, total;
	const unsigned char *carry; /* what the stream handed out and no slot took yet */
	size_t carry_len;
};

/* Fills one slot from the source: up to SLOT_SIZE bytes, less once SLOT_WAIT_MS went by;
 * 0 at the end; or an error. */
static ssize_t fill(struct prefetch *p, unsigned char *dst)
{
	uint64_t began = fetch_now_ms();
	size_t got = 0;

	if (!p->stream) {
		ssize_t n;

		do
			n = read(p->fd, dst, SLOT_SIZE);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		p->done += (uint64_t)n;
		if (n > 0 && p->progress.progress)
			p->progress.progress(p->progress.userdata, p->done, p->total);
		return n;
	}
	while (got < SLOT_SIZE) {
		size_t take;

		if (p->carry_len == 0) {
			uint64_t waited = fetch_now_ms() - began;
			const void *data;
			/* The first bytes of a slot are waited for; more only until it is due. */
			ssize_t n = fetch_stream_read_wait(p->stream, &data,
							   got == 0 ? -1 : waited < SLOT_WAIT_MS ? (int)(SLOT_WAIT_MS - waited) : 0);

			if (n == -EAGAIN)
				break;
			if (n < 0)
				return got > 0 ? (ssize_t)got : n; /* the error comes with the next fill */
			if (n == 0)
				break;
			p->carry = data;
			p->carry_len = (size_t)n;
		}
		take = p->carry_len < SLOT_SIZE - got ? p->carry_len : SLOT_SIZE - got;
		memcpy(dst + got, p->carry, take);
		p->carry += take;
		p->carry_len -= take;
		got += take;
	}
	return (ssize_t)got;
}

static void *reader(void *userdata)
{
	struct prefetch *p = userdata;

	for (;;) {
		unsigned char *dst;
		ssize_t n;

		pthread_mutex_lock(&p->lock);
		/* A full ring: one slot is kept for the consumer's held block. */
		while (!p->stop && p->count == SLOTS)
			pthread_cond_wait(&p->changed, &p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		dst = p->slot[p->head];
		pthread_mutex_unlock(&p->lock);

		n = fill(p, dst);

		pthread_mutex_lock(&p->lock);
		if (n > 0) {
			p->len[p->head] = (size_t)n;
			p->head = (p->head + 1) % SLOTS;
			p->count++;
		} else {
			p->ended = true;
			p->error = (int)n;
			if (n < 0)
				p->why = strdup(p->stream ? fetch_stream_error(p->stream) : strerror((int)-n));
		}
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
		if (n <= 0)
			break;
	}
	return NULL;
}

ssize_t prefetch_read(struct prefetch *p, const void **ret_data)
{
	ssize_t n;

	pthread_mutex_lock(&p->lock);
	if (p->held) {
		p->held = false;
		p->tail = (p->tail + 1) % SLOTS;
		p->count--;
		pthread_cond_broadcast(&p->changed);
	}
	while (p->count == 0 && !p->ended)
		pthread_cond_wait(&p->changed, &p->lock);
	if (p->count > 0) {
		*ret_data = p->slot[p->tail];
		n = (ssize_t)p->len[p->tail];
		p->held = true;
	} else
		n = p->error;
	pthread_mutex_unlock(&p->lock);
	return n;
}

const char *prefetch_error(const struct prefetch *p)
{
	return p->why ? p->why : p->error < 0 ? gp_strerror(p->error) : "no error";
}

int prefetch_start(struct fetch_stream *stream, int fd, const struct fetch_opts *progress, struct prefetch **ret)
{
	struct prefetch *p = calloc(1, sizeof(*p));
	struct stat st;

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	p->stream = stream;
	p->fd = fd;
	if (progress)
		p->progress = *progress;
	if (!stream && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		p->total = (uint64_t)st.st_size;
	for (unsigned i = 0; i < SLOTS; i++)
		if (!(p->slot[i] = malloc(SLOT_SIZE))) {
			prefetch_stop(p);
			return -ENOMEM;
		}
	if (pthread_create(&p->thread, NULL, reader, p) != 0) {
		prefetch_stop(p);
		return -EAGAIN;
	}
	p->started = true;
	*ret = p;
	return 0;
}

struct prefetch *prefetch_stop(struct prefetch *p)
{
	if (!p)
		return NULL;
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
		/* A consumer that stops early refused what came: the transfer ends now, not
		 * after the reader's next block (minutes on a slow link). */
		if (p->stream)
			fetch_stream_cancel(p->stream);
		pthread_join(p->thread, NULL);
	}
	for (unsigned i = 0; i < SLOTS; i++)
		free(p->slot[i]);
	pthread_cond_destroy(&p->changed);
	pthread_mutex_destroy(&p->lock);
	free(p->why);
	free(p);
	return NULL;
}
