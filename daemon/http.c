/* SPDX-License-Identifier: Apache-2.0 */
/* A non-blocking HTTP/1.0 endpoint for the daemon's poll loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"

#define DEFAULT_HOST "127.0.0.1"
#define LISTEN_BACKLOG 16
#define DEFAULT_CONTENT_TYPE "text/plain; charset=utf-8"
/* Bytes a closing client may still push at us per dispatch, so one cannot hog the loop. */
#define DRAIN_PER_DISPATCH (4 * HTTP_MAX_HEAD)

enum conn_state { CONN_FREE, CONN_READING, CONN_WRITING, CONN_DRAINING };

struct conn {
	int fd;
	enum conn_state state;
	uint64_t deadline_ms;
	size_t in_len;
	char in[HTTP_MAX_HEAD + 1]; /* + 1 keeps the head a C string */
	char *out;
	size_t out_len;
	size_t out_off;
};

struct http_server {
	int listen_fd;
	unsigned max_conns;
	unsigned n_conns;
	http_handler_fn handler;
	void *userdata;
	struct conn *conns;
	uint64_t accept_paused_until; /* after EMFILE and the like, ms */
};

/* Out of descriptors or memory, the listener stays readable: rest it a while
 * instead of letting poll wake the loop for nothing. */
#define ACCEPT_PAUSE_MS 200

static int parse_port(const char *s, in_port_t *ret)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*ret = htons((in_port_t)v);
	return 0;
}

/* Splits "host:port" or "[v6]:port" into host (bracketless) and port text. */
static int split_address(const char *address, char *host, size_t host_len, const char **port)
{
	const char *end, *colon;

	if (address[0] == '[') {
		end = strchr(address, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		address++;
		colon = end + 1;
	} else {
		colon = strrchr(address, ':');
		if (!colon || memchr(address, ':', (size_t)(colon - address)))
			return -EINVAL;
		end = colon;
	}
	if ((size_t)(end - address) >= host_len)
		return -EINVAL;
	memcpy(host, address, (size_t)(end - address));
	host[end - address] = '\0';
	*port = colon + 1;
	return 0;
}

static int make_sockaddr(const char *address, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *port;

	memset(ss, 0, sizeof(*ss));
	if (split_address(address, host, sizeof(host), &port) < 0)
		return -EINVAL;
	if (address[0] != '[' &&
	    inet_pton(AF_INET, host[0] ? host : DEFAULT_HOST, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		*len = sizeof(*in4);
		return parse_port(port, &in4->sin_port);
	}
	if (address[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		*len = sizeof(*in6);
		return parse_port(port, &in6->sin6_port);
	}
	return -EINVAL;
}

static int open_listener(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd, one = 1, r;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* v6only: "[::]:p" must not silently take the IPv4 port as well. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int http_server_new(const char *address, unsigned max_conns, http_handler_fn handler,
		    void *userdata, struct http_server **ret)
{
	struct sockaddr_storage ss;
	struct http_server *s;
	socklen_t len;
	int fd;

	if (!address || !max_conns || !handler || !ret || make_sockaddr(address, &ss, &len) < 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->conns = calloc(max_conns, sizeof(*s->conns)))) {
		free(s);
		return -ENOMEM;
	}
	fd = open_listener(&ss, len);
	if (fd < 0) {
		free(s->conns);
		free(s);
		return fd;
	}
	*s = (struct http_server){ .listen_fd = fd, .max_conns = max_conns, .handler = handler,
				   .userdata = userdata, .conns = s->conns };
	*ret = s;
	return 0;
}

static void conn_close(struct http_server *s, struct conn *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->fd = -1;
	c->state = CONN_FREE;
	s->n_conns--;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->max_conns; i++)
		if (s->conns[i].state != CONN_FREE)
			conn_close(s, &s->conns[i]);
	close(s->listen_fd);
	free(s->conns);
	free(s);
}

int http_server_port(struct http_server *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!s)
		return -EINVAL;
	if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int http_server_pollfds(struct http_server *s, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	if (!s || (!fds && max))
		return -EINVAL;
	/* With every slot taken, leaving the listener out keeps poll from spinning on it. */
	if (n < max && s->n_conns < s->max_conns && now_ms() >= s->accept_paused_until)
		fds[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	for (unsigned i = 0; i < s->max_conns && n < max; i++) {
		const struct conn *c = &s->conns[i];

		if (c->state != CONN_FREE)
			fds[n++] = (struct pollfd){
				.fd = c->fd, .events = c->state == CONN_WRITING ? POLLOUT : POLLIN
			};
	}
	return (int)n;
}

int http_server_timeout_ms(struct http_server *s)
{
	uint64_t now = now_ms(), nearest = UINT64_MAX;

	if (!s)
		return -1;
	for (unsigned i = 0; i < s->max_conns; i++)
		if (s->conns[i].state != CONN_FREE && s->conns[i].deadline_ms < nearest)
			nearest = s->conns[i].deadline_ms;
	if (s->accept_paused_until > now && s->accept_paused_until < nearest)
		nearest = s->accept_paused_until;
	if (nearest == UINT64_MAX)
		return -1;
	return nearest > now ? (int)(nearest - now) : 0;
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 500: return "Internal Server Error";
	default: return "Unknown";
	}
}

static void conn_finish_write(struct conn *c)
{
	free(c->out);
	c->out = NULL;
	/* Half-close, then read what the client still sends: closing with unread
	 * bytes would reset the connection and could destroy the answer in flight. */
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAINING;
}

enum io_outcome { IO_DATA, IO_RETRY, IO_WAIT, IO_CLOSED };

/* What a send or recv result means for a non-blocking connection. */
static enum io_outcome io_outcome(ssize_t n)
{
	if (n > 0)
		return IO_DATA;
	if (n < 0 && errno == EINTR)
		return IO_RETRY;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return IO_WAIT;
	return IO_CLOSED;
}

static void conn_write(struct http_server *s, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		enum io_outcome o = io_outcome(n);

		if (o == IO_RETRY)
			continue;
		if (o == IO_WAIT)
			return;
		if (o == IO_CLOSED) {
			conn_close(s, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	conn_finish_write(c);
}

static void respond(struct http_server *s, struct conn *c, int status, const char *type,
		    const char *body, size_t body_len)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: close\r\n\r\n",
		     status, reason_phrase(status), type, body_len,
		     status == 405 ? "Allow: GET\r\n" : "");
	c->out = n > 0 && (size_t)n < sizeof(head) ? malloc((size_t)n + body_len) : NULL;
	if (!c->out) {
		conn_close(s, c);
		return;
	}
	memcpy(c->out, head, (size_t)n);
	if (body_len)
		memcpy(c->out + n, body, body_len);
	c->out_len = (size_t)n + body_len;
	c->out_off = 0;
	c->state = CONN_WRITING;
	c->deadline_ms = now_ms() + HTTP_DEADLINE_MS;
	conn_write(s, c);
}

static void respond_error(struct http_server *s, struct conn *c, int status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", reason_phrase(status));

	respond(s, c, status, DEFAULT_CONTENT_TYPE, body, (size_t)n);
}

static int is_method_char(char ch)
{
	return ch >= 'A' && ch <= 'Z';
}

/* An origin-form target: printable, no spaces; the query string is cut off. */
static int valid_target(char *target)
{
	if (target[0] != '/')
		return 0;
	for (const char *p = target; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;
	target[strcspn(target, "?#")] = '\0';
	return 1;
}

/* Splits "METHOD SP target SP HTTP/1.x" in place; returns 0 or 400. */
static int parse_request_line(char *line, char **method, char **target)
{
	char *sp1 = strchr(line, ' '), *sp2;
	const char *version;

	if (!sp1 || sp1 == line || sp1 - line > 16)
		return 400;
	for (const char *p = line; p < sp1; p++)
		if (!is_method_char(*p))
			return 400;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2)
		return 400;
	*sp1 = *sp2 = '\0';
	version = sp2 + 1;
	if (strncmp(version, "HTTP/1.", 7) || version[7] < '0' || version[7] > '9' || version[8])
		return 400;
	*method = line;
	*target = sp1 + 1;
	return valid_target(*target) ? 0 : 400;
}

static void answer(struct http_server *s, struct conn *c, const char *path)
{
	struct http_response resp = { .status = 200, .content_type = DEFAULT_CONTENT_TYPE };
	int r = s->handler(path, &resp, s->userdata);

	if (!resp.content_type)
		resp.content_type = DEFAULT_CONTENT_TYPE;
	if (r == -ENOENT)
		respond_error(s, c, 404);
	else if (r < 0 || resp.status < 100 || resp.status > 599 || (!resp.body && resp.body_len))
		respond_error(s, c, 500);
	else
		respond(s, c, resp.status, resp.content_type, resp.body, resp.body_len);
}

static void handle_request(struct http_server *s, struct conn *c, size_t head_len)
{
	char *method, *target, *eol;

	if (memchr(c->in, '\0', head_len)) {
		respond_error(s, c, 400);
		return;
	}
	eol = strchr(c->in, '\n');
	*eol = '\0';
	if (eol > c->in && eol[-1] == '\r')
		eol[-1] = '\0';
	if (parse_request_line(c->in, &method, &target))
		respond_error(s, c, 400);
	else if (strcmp(method, "GET"))
		respond_error(s, c, 405);
	else
		answer(s, c, target);
}

/* Length of the head up to its blank line, or 0 while it is incomplete. A bare
 * LF ends lines too, as HTTP/1.0 clients written by hand tend to send. */
static size_t head_length(const struct conn *c)
{
	const char *crlf = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	const char *lf = memmem(c->in, c->in_len, "\n\n", 2);

	if (crlf && (!lf || crlf < lf))
		return (size_t)(crlf - c->in) + 4;
	return lf ? (size_t)(lf - c->in) + 2 : 0;
}

static void conn_read(struct http_server *s, struct conn *c)
{
	for (;;) {
		size_t head;
		ssize_t n = recv(c->fd, c->in + c->in_len, HTTP_MAX_HEAD - c->in_len, 0);
		enum io_outcome o = io_outcome(n);

		if (o == IO_RETRY)
			continue;
		if (o == IO_WAIT)
			return;
		if (o == IO_CLOSED) {
			conn_close(s, c);
			return;
		}
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		head = head_length(c);
		if (head) {
			handle_request(s, c, head);
			return;
		}
		if (c->in_len == HTTP_MAX_HEAD) {
			respond_error(s, c, 431);
			return;
		}
	}
}

static void conn_drain(struct http_server *s, struct conn *c)
{
	char sink[HTTP_MAX_HEAD];

	for (size_t total = 0; total < DRAIN_PER_DISPATCH;) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(s, c);
			return;
		}
		total += (size_t)n;
	}
}

static int conn_open(struct http_server *s, int fd)
{
	for (unsigned i = 0; i < s->max_conns; i++) {
		struct conn *c = &s->conns[i];

		if (c->state == CONN_FREE) {
			*c = (struct conn){ .fd = fd, .state = CONN_READING,
					    .deadline_ms = now_ms() + HTTP_DEADLINE_MS };
			s->n_conns++;
			return 0;
		}
	}
	close(fd);
	return -ENOSPC;
}

/* Errors that concern only the client that went away: try the next one. */
static int accept_error_is_transient(int err)
{
	return err == EINTR || err == ECONNABORTED || err == EPROTO || err == EPERM;
}

static int accept_clients(struct http_server *s, uint64_t now)
{
	if (now < s->accept_paused_until)
		return 0;
	while (s->n_conns < s->max_conns) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0)
			conn_open(s, fd);
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		else if (!accept_error_is_transient(errno)) {
			s->accept_paused_until = now + ACCEPT_PAUSE_MS;
			return -errno;
		}
	}
	return 0;
}

static void conn_step(struct http_server *s, struct conn *c, uint64_t now)
{
	if (c->deadline_ms <= now) {
		conn_close(s, c);
		return;
	}
	switch (c->state) {
	case CONN_READING: conn_read(s, c); break;
	case CONN_WRITING: conn_write(s, c); break;
	case CONN_DRAINING: conn_drain(s, c); break;
	case CONN_FREE: break;
	}
}

int http_server_dispatch(struct http_server *s)
{
	uint64_t now = now_ms();
	int r;

	if (!s)
		return -EINVAL;
	r = accept_clients(s, now);
	for (unsigned i = 0; i < s->max_conns; i++)
		if (s->conns[i].state != CONN_FREE)
			conn_step(s, &s->conns[i], now);
	return r;
}
