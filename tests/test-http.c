/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's HTTP endpoint, driven by a poll loop in the test as the daemon drives it. */
#include <criterion/criterion.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define MAX_DISPATCH_NS (5 * 1000000ULL)
#define BIG_BODY (1024 * 1024)

static const char metrics_body[] = "portsyncd_up 1\n";
static char big_body[BIG_BODY];
static struct http_server *srv;
static uint64_t worst_dispatch_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t ms_since(uint64_t start_ns)
{
	return (now_ns() - start_ns) / 1000000;
}

static int handler(const char *path, struct http_response *resp, void *userdata)
{
	cr_assert_eq(userdata, &srv);
	if (!strcmp(path, "/metrics")) {
		resp->content_type = "text/plain; version=0.0.4";
		resp->body = metrics_body;
		resp->body_len = sizeof(metrics_body) - 1;
	} else if (!strcmp(path, "/health")) {
		resp->status = 503;
		resp->body = "redis disconnected\n";
		resp->body_len = strlen(resp->body);
	} else if (!strcmp(path, "/big")) {
		resp->body = big_body;
		resp->body_len = sizeof(big_body);
	} else if (!strcmp(path, "/fail")) {
		return -EIO;
	} else {
		return -ENOENT;
	}
	return 0;
}

static void start(unsigned max_conns)
{
	/* A test-level ".init = NULL" does not turn the suite's init off (NULL
	 * means unset): replace the server it started. */
	http_server_free(srv);
	srv = NULL;
	cr_assert_eq(http_server_new("127.0.0.1:0", max_conns, handler, &srv, &srv), 0);
	cr_assert_gt(http_server_port(srv), 0);
	worst_dispatch_ns = 0;
}

static void start_default(void)
{
	start(8);
}

/* Every test ends by checking that no dispatch ever held the loop up. */
static void stop(void)
{
	http_server_free(srv);
	srv = NULL;
	cr_assert_lt(worst_dispatch_ns, MAX_DISPATCH_NS, "a dispatch took %llu us",
		     (unsigned long long)worst_dispatch_ns / 1000);
}

/* One turn of the daemon's loop: poll the server's fds, at most max_ms, then dispatch. */
static void pump(int max_ms)
{
	struct pollfd fds[64];
	int n = http_server_pollfds(srv, fds, 64), t = http_server_timeout_ms(srv);
	uint64_t t0, took;

	cr_assert_geq(n, 0);
	poll(fds, (nfds_t)n, t < 0 || t > max_ms ? max_ms : t);
	t0 = now_ns();
	cr_assert_eq(http_server_dispatch(srv), 0);
	took = now_ns() - t0;
	if (took > worst_dispatch_ns)
		worst_dispatch_ns = took;
}

static int client_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)http_server_port(srv)) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The kernel completes the handshake from the backlog; no accept needed. */
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "%s", strerror(errno));
	return fd;
}

static void client_send(int fd, const void *buf, size_t len)
{
	cr_assert_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

struct reply {
	char *text;
	size_t len;
	int closed; /* the server closed the connection */
};

/* What arrives on fd while the server runs, until it closes or timeout_ms passes. */
static struct reply client_receive(int fd, int timeout_ms)
{
	struct reply r = { .text = calloc(1, BIG_BODY + 4096) };
	uint64_t start = now_ns();

	while (!r.closed && ms_since(start) < (uint64_t)timeout_ms) {
		ssize_t n;

		pump(10);
		while ((n = recv(fd, r.text + r.len, BIG_BODY + 4095 - r.len, MSG_DONTWAIT)) > 0)
			r.len += (size_t)n;
		r.closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
	}
	return r;
}

static struct reply exchange(const void *request, size_t len)
{
	int fd = client_connect();
	struct reply r;

	client_send(fd, request, len);
	r = client_receive(fd, 3000);
	close(fd);
	cr_assert(r.closed, "the server closes after answering");
	return r;
}

static struct reply get(const char *request)
{
	return exchange(request, strlen(request));
}

static void assert_status(const struct reply *r, const char *status_line)
{
	cr_assert_eq(strncmp(r->text, status_line, strlen(status_line)), 0, "want %s, got %.60s",
		     status_line, r->text);
}

static const char *body_of(const struct reply *r)
{
	const char *end = strstr(r->text, "\r\n\r\n");

	cr_assert_not_null(end, "no end of head in %.60s", r->text);
	return end + 4;
}

TestSuite(http, .init = start_default, .fini = stop);

Test(http, get_metrics)
{
	struct reply r = get("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");

	cr_assert_str_eq(r.text, "HTTP/1.0 200 OK\r\n"
				 "Content-Type: text/plain; version=0.0.4\r\n"
				 "Content-Length: 15\r\n"
				 "Connection: close\r\n\r\n"
				 "portsyncd_up 1\n");
	free(r.text);
	r = get("GET /metrics?x=1 HTTP/1.1\n\n");
	assert_status(&r, "HTTP/1.0 200 OK\r\n");
	cr_assert_str_eq(body_of(&r), metrics_body);
	free(r.text);
}

Test(http, handler_statuses)
{
	struct reply r = get("GET /health HTTP/1.0\r\n\r\n");

	assert_status(&r, "HTTP/1.0 503 Service Unavailable\r\n");
	cr_assert_str_eq(body_of(&r), "redis disconnected\n");
	free(r.text);
	r = get("GET /nope HTTP/1.0\r\n\r\n");
	assert_status(&r, "HTTP/1.0 404 Not Found\r\n");
	free(r.text);
	r = get("GET /fail HTTP/1.0\r\n\r\n");
	assert_status(&r, "HTTP/1.0 500 Internal Server Error\r\n");
	free(r.text);
}

Test(http, only_get)
{
	struct reply r = get("POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");

	assert_status(&r, "HTTP/1.0 405 Method Not Allowed\r\n");
	cr_assert_not_null(strstr(r.text, "\r\nAllow: GET\r\n"));
	free(r.text);
	r = get("HEAD /metrics HTTP/1.0\r\n\r\n");
	assert_status(&r, "HTTP/1.0 405 Method Not Allowed\r\n");
	free(r.text);
}

Test(http, bad_requests)
{
	static const char *const bad[] = {
		"\x01\x02\xff garbage\r\n\r\n",
		"GET\r\n\r\n",
		"GET /metrics\r\n\r\n",
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET metrics HTTP/1.0\r\n\r\n",
		"get /metrics HTTP/1.0\r\n\r\n",
		"GET /met rics HTTP/1.0\r\n\r\n",
		"GET /metrics HTTP/1.0 extra\r\n\r\n",
		" GET /metrics HTTP/1.0\r\n\r\n",
		"\r\n\r\n",
	};
	static const char nul[] = "GET /metrics\0 HTTP/1.0\r\n\r\n";
	struct reply r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = get(bad[i]);
		assert_status(&r, "HTTP/1.0 400 Bad Request\r\n");
		free(r.text);
	}
	r = exchange(nul, sizeof(nul) - 1);
	assert_status(&r, "HTTP/1.0 400 Bad Request\r\n");
	free(r.text);
}

/* Random bytes, then a blank line: whatever the server makes of them, it answers. */
Test(http, random_bytes_get_an_answer)
{
	char req[300];

	srand(6);
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(rand() % 250);
		struct reply r;

		for (size_t i = 0; i < len; i++)
			req[i] = (char)(round % 2 ? rand() % 256 : " GET/HTP1.0\r\n?"[rand() % 15]);
		memcpy(req + len, "\r\n\r\n", 4);
		r = exchange(req, len + 4);
		cr_assert_eq(strncmp(r.text, "HTTP/1.0 ", 9), 0, "round %d: %.40s", round, r.text);
		free(r.text);
	}
}

Test(http, oversized_head)
{
	static char req[8192 + 64];
	static const char start_line[] = "GET /metrics HTTP/1.0\r\nX-Pad: ";
	size_t n = sizeof(start_line) - 1, pad = 8192;
	struct reply r;

	memcpy(req, start_line, n);
	memset(req + n, 'a', pad);
	memcpy(req + n + pad, "\r\n\r\n", 4);
	r = exchange(req, n + pad + 4);
	assert_status(&r, "HTTP/1.0 431 Request Header Fields Too Large\r\n");
	free(r.text);
}

Test(http, head_of_exactly_the_limit_is_served)
{
	char req[HTTP_MAX_HEAD];
	int n = sprintf(req, "GET /metrics HTTP/1.0\r\nX-Pad: ");
	struct reply r;

	memset(req + n, 'a', sizeof(req) - (size_t)n - 4);
	memcpy(req + sizeof(req) - 4, "\r\n\r\n", 4);
	r = exchange(req, sizeof(req));
	assert_status(&r, "HTTP/1.0 200 OK\r\n");
	free(r.text);
}

Test(http, large_body_is_written_without_blocking)
{
	int fd = client_connect();
	struct reply r;

	memset(big_body, 'b', sizeof(big_body));
	client_send(fd, "GET /big HTTP/1.0\r\n\r\n", 21);
	r = client_receive(fd, 5000);
	close(fd);
	cr_assert(r.closed);
	cr_assert_not_null(strstr(r.text, "Content-Length: 1048576\r\n"));
	cr_assert_eq(r.len - (size_t)(body_of(&r) - r.text), sizeof(big_body));
	free(r.text);
}

/* One byte per 100 ms: closed after the 2 s deadline, and others served meanwhile. */
Test(http, slow_client_is_cut_off)
{
	static const char drip[] = "GET /metrics HTTP/1.0\r\n"
				   "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	uint64_t start = now_ns(), last_drip = 0, closed_ms = 0;
	int slow = client_connect(), served = 0;

	for (size_t i = 0; !closed_ms && ms_since(start) < 4000;) {
		char byte;
		uint64_t t0 = now_ns();
		struct reply r;

		if (now_ns() - last_drip >= 100000000ULL && i < sizeof(drip) - 1) {
			if (send(slow, &drip[i++], 1, MSG_NOSIGNAL) != 1)
				closed_ms = ms_since(start);
			last_drip = now_ns();
		}
		r = get("GET /metrics HTTP/1.0\r\n\r\n");
		assert_status(&r, "HTTP/1.0 200 OK\r\n");
		cr_assert_lt(ms_since(t0), 100, "another client waited %llu ms",
			     (unsigned long long)ms_since(t0));
		served++;
		free(r.text);
		if (!closed_ms && recv(slow, &byte, 1, MSG_DONTWAIT) == 0)
			closed_ms = ms_since(start);
	}
	close(slow);
	cr_assert_geq(closed_ms, HTTP_DEADLINE_MS - 50, "closed after %llu ms",
		      (unsigned long long)closed_ms);
	cr_assert_leq(closed_ms, HTTP_DEADLINE_MS + 500, "closed after %llu ms",
		      (unsigned long long)closed_ms);
	cr_assert_gt(served, 10);
}

Test(http, connection_limit, .init = NULL)
{
	int idle[2], waiting;
	struct reply r;
	char byte;

	start(2);
	for (int i = 0; i < 2; i++)
		idle[i] = client_connect();
	for (int i = 0; i < 5; i++)
		pump(10);
	waiting = client_connect();
	client_send(waiting, "GET /metrics HTTP/1.0\r\n\r\n", 25);
	for (int i = 0; i < 20; i++)
		pump(10);
	cr_assert_eq(recv(waiting, &byte, 1, MSG_DONTWAIT), -1, "not served while full");
	for (int i = 0; i < 2; i++)
		close(idle[i]);
	r = client_receive(waiting, 500);
	close(waiting);
	cr_assert(r.closed, "served once the others went");
	assert_status(&r, "HTTP/1.0 200 OK\r\n");
	free(r.text);
}

Test(http, pollfds_follow_the_limit, .init = NULL)
{
	struct pollfd fds[8];
	int a, b;

	start(1);
	cr_assert_eq(http_server_pollfds(srv, fds, 8), 1);
	cr_assert_eq(fds[0].events, POLLIN);
	cr_assert_eq(http_server_timeout_ms(srv), -1);
	a = client_connect();
	b = client_connect();
	pump(10);
	/* Full: the listener is left out, one client is polled, a deadline runs. */
	cr_assert_eq(http_server_pollfds(srv, fds, 8), 1);
	cr_assert_neq(fds[0].fd, -1);
	cr_assert_eq(http_server_pollfds(srv, fds, 0), 0);
	cr_assert_gt(http_server_timeout_ms(srv), HTTP_DEADLINE_MS - 100);
	cr_assert_leq(http_server_timeout_ms(srv), HTTP_DEADLINE_MS);
	close(a);
	close(b);
}

Test(http, addresses, .init = NULL, .fini = NULL)
{
	static const char *const bad[] = { "", "9101", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
					   "127.0.0.1:65536", "::1:9101", "[::1]9101", "[::1",
					   "localhost:9101", "1.2.3:9101", "[127.0.0.1]:0" };
	struct http_server *s = NULL;
	int r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(http_server_new(bad[i], 4, handler, NULL, &s), -EINVAL, "%s", bad[i]);
	cr_assert_null(s, "untouched on failure");
	cr_assert_eq(http_server_new(":0", 4, handler, NULL, &s), 0);
	cr_assert_gt(http_server_port(s), 0);
	http_server_free(s);
	r = http_server_new("[::1]:0", 4, handler, NULL, &s);
	if (r == 0)
		http_server_free(s);
	else
		cr_assert(r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT, "%s", strerror(-r));
	cr_assert_eq(http_server_new("127.0.0.1:0", 0, handler, NULL, &s), -EINVAL);
	http_server_free(NULL);
}

/* Out of descriptors, accept fails while the listener stays readable: the
 * server must rest it rather than make the caller's loop spin. */
Test(http, accept_failure_rests_the_listener)
{
	struct rlimit old, low;
	struct pollfd fds[8];
	int client, n;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	client = client_connect();
	low = old;
	low.rlim_cur = (rlim_t)client + 1;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	/* Take every free number below the limit too: none is left for accept. */
	int taken[64], n_taken = 0, fd;
	while (n_taken < 64 && (fd = dup(client)) >= 0)
		taken[n_taken++] = fd;
	cr_assert_eq(errno, EMFILE);
	cr_assert_eq(http_server_dispatch(srv), -EMFILE);
	n = http_server_pollfds(srv, fds, 8);
	cr_assert_eq(n, 0, "the listener rests: nothing to poll");
	cr_assert_gt(http_server_timeout_ms(srv), 0, "a timer brings it back");
	while (n_taken)
		close(taken[--n_taken]);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	usleep(250000);
	cr_assert_eq(http_server_pollfds(srv, fds, 8), 1, "listening again");
	pump(100);
	close(client);
}
