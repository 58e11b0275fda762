/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An HTTP request head as a /metrics or /health client sends it, in two
 * pieces (the first input byte says where the split is), on one end of a
 * socket pair that the server takes as an accepted client. The server's
 * functions for that are static: daemon/http.c is compiled into this target.
 * Whatever the bytes, the answer is one well-formed status line or none, and
 * the handler only ever sees a clean origin-form path.
 */
#include "../../daemon/http.c"

#include <stdbool.h>

#include "fuzz.h"

static int handler(const char *path, struct http_response *resp, void *userdata)
{
	static const char ok[] = "ok\n";

	(void)userdata;
	FUZZ_CHECK(path[0] == '/', "path '%s'", path);
	for (const char *p = path; *p; p++)
		FUZZ_CHECK((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f && *p != '?' && *p != '#',
			   "path '%s'", path);
	if (strcmp(path, "/fail") == 0)
		return -EIO;
	if (strcmp(path, "/ok") != 0)
		return -ENOENT;
	resp->body = ok;
	resp->body_len = sizeof(ok) - 1;
	return 0;
}

static struct http_server *server(void)
{
	static struct http_server *s;

	if (!s)
		FUZZ_CHECK(http_server_new("127.0.0.1:0", 1, handler, NULL, &s) == 0, "listen");
	return s;
}

static void send_all(int fd, const uint8_t *data, size_t size)
{
	if (size)
		FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "write %zu", size);
}

static void check_answer(const char *out, size_t len)
{
	static const int known[] = { 200, 400, 404, 405, 431, 500 };
	bool is_known = false;
	int status;

	if (len == 0)
		return; /* the client closed before its head was whole */
	FUZZ_CHECK(len > 12 && strncmp(out, "HTTP/1.0 ", 9) == 0, "answer '%.*s'", (int)len, out);
	status = atoi(out + 9);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		is_known |= status == known[i];
	FUZZ_CHECK(is_known, "status %d", status);
	FUZZ_CHECK(memmem(out, len, "\r\n\r\n", 4), "no end of head");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_server *s = server();
	char out[8192];
	size_t split, len = 0;
	ssize_t n;
	int sv[2];

	if (size < 1 || size > 3 * HTTP_MAX_HEAD)
		return 0;
	split = (size - 1) * data[0] / 255;
	data++;
	size--;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0,
		   "socketpair");
	FUZZ_CHECK(conn_open(s, sv[0]) == 0, "no free slot");
	send_all(sv[1], data, split);
	http_server_dispatch(s);
	send_all(sv[1], data + split, size - split);
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 8 && s->n_conns; i++)
		http_server_dispatch(s);
	FUZZ_CHECK(s->n_conns == 0, "client still open in state %d", s->conns[0].state);
	while (len < sizeof(out) && (n = read(sv[1], out + len, sizeof(out) - len)) > 0)
		len += (size_t)n;
	close(sv[1]);
	check_answer(out, len);
	return 0;
}
