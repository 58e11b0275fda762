/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small HTTP/1.0 endpoint that lives inside the caller's poll loop: every
 * socket is non-blocking, so no call ever waits for a client. One request per
 * connection, GET only, the answer ends with the connection closed.
 *
 * Limits: a request head of at most HTTP_MAX_HEAD bytes (431 otherwise), at
 * most max_conns clients at once (the listener is not polled while all slots
 * are taken; later clients wait in the kernel's backlog), and HTTP_DEADLINE_MS
 * for a client to send its request and again for it to take the answer.
 */
#ifndef PORTSYNCD_HTTP_H
#define PORTSYNCD_HTTP_H

#include <poll.h>
#include <stddef.h>

#define HTTP_MAX_HEAD 4096
#define HTTP_DEADLINE_MS 2000

struct http_server;

/* What the handler answers; the server has set status 200 and text/plain. */
struct http_response {
	int status;               /* 200, 503, ... */
	const char *content_type; /* static or owned by the handler's userdata */
	const char *body;         /* copied once the handler returns */
	size_t body_len;
};

/*
 * Answers a GET of path (the query string removed). body must stay valid until
 * the handler returns, so it may not point to the handler's own stack. Returns
 * >= 0 when resp holds the answer, -ENOENT for 404, another -errno for 500.
 */
typedef int (*http_handler_fn)(const char *path, struct http_response *resp, void *userdata);

/*
 * Listens on address: "127.0.0.1:9101", "[::1]:9101", or ":9101" for
 * 127.0.0.1; numeric hosts only, port 0 for any free port. Returns 0, or
 * -EINVAL for a bad address or max_conns of 0, or the -errno of socket calls.
 */
int http_server_new(const char *address, unsigned max_conns, http_handler_fn handler,
		    void *userdata, struct http_server **ret);
/* Closes every socket; accepts NULL. */
void http_server_free(struct http_server *s);

/* Fills up to max pollfds (the listener, then clients); returns how many. */
int http_server_pollfds(struct http_server *s, struct pollfd *fds, size_t max);
/*
 * Accepts, reads, answers, writes and expires whatever is ready, without
 * blocking; call it after every poll(). Returns 0, or -errno when accept()
 * failed in a way other than running out of clients to accept.
 */
int http_server_dispatch(struct http_server *s);
/* Milliseconds until the nearest client deadline, for poll(); -1 when none. */
int http_server_timeout_ms(struct http_server *s);
/* The port listened on, or -errno. */
int http_server_port(struct http_server *s);

#endif
