/* SPDX-License-Identifier: Apache-2.0 */
/* One event as one line of JSON: what the link monitor prints and the replay
 * source reads. Writing is by hand (it runs per event); reading uses json-c. */
#include <errno.h>
#include <inttypes.h>
#include <linux/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"

struct flag_name {
	uint32_t flag;
	const char *name;
};

static const struct flag_name flag_names[] = {
	{ IFF_UP, "UP" },           { IFF_BROADCAST, "BROADCAST" }, { IFF_DEBUG, "DEBUG" },
	{ IFF_LOOPBACK, "LOOPBACK" }, { IFF_POINTOPOINT, "POINTOPOINT" },
	{ IFF_NOTRAILERS, "NOTRAILERS" }, { IFF_RUNNING, "RUNNING" }, { IFF_NOARP, "NOARP" },
	{ IFF_PROMISC, "PROMISC" }, { IFF_ALLMULTI, "ALLMULTI" }, { IFF_MASTER, "MASTER" },
	{ IFF_SLAVE, "SLAVE" },     { IFF_MULTICAST, "MULTICAST" }, { IFF_PORTSEL, "PORTSEL" },
	{ IFF_AUTOMEDIA, "AUTOMEDIA" }, { IFF_DYNAMIC, "DYNAMIC" }, { IFF_LOWER_UP, "LOWER_UP" },
	{ IFF_DORMANT, "DORMANT" }, { IFF_ECHO, "ECHO" },
};

static const char *const carrier_names[] = { "unknown", "down", "up" };

/* An output cursor that keeps counting past the end, like snprintf. */
struct out {
	char *buf;
	size_t len;
	size_t pos;
};

static void out_char(struct out *o, char c)
{
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

__attribute__((format(printf, 2, 3))) static void out_printf(struct out *o, const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* The length of the valid UTF-8 sequence at s (at most max bytes); 0 when the
 * byte there starts none: a stray continuation, an overlong form, a surrogate,
 * a code point past U+10FFFF, or a sequence cut short (a NUL included). */
static size_t utf8_length(const unsigned char *s, size_t max)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	uint32_t cp = s[0] & (0x7f >> n);

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4 || n > max)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Names are bytes (see event.h): valid UTF-8 goes out as it is, what JSON
 * needs is escaped, and a byte that is not UTF-8 becomes "\udcXX". */
static void out_string(struct out *o, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;

	out_char(o, '"');
	for (size_t i = 0; i < max && u[i];) {
		size_t n = u[i] >= 0x80 ? utf8_length(u + i, max - i) : 1;

		if (u[i] == '"' || u[i] == '\\') {
			out_char(o, '\\');
			out_char(o, (char)u[i]);
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			out_printf(o, "\\u%04x", u[i]);
		} else if (n == 0) {
			out_printf(o, "\\udc%02x", u[i]);
			n = 1;
		} else {
			for (size_t k = 0; k < n; k++)
				out_char(o, (char)u[i + k]);
		}
		i += n;
	}
	out_char(o, '"');
}

static void out_address(struct out *o, const struct psync_link_event *ev)
{
	out_char(o, '"');
	for (unsigned i = 0; i < ev->addr_len && i < PSYNC_ADDR_MAX; i++)
		out_printf(o, i ? ":%02x" : "%02x", ev->addr[i]);
	out_char(o, '"');
}

static void out_link(struct out *o, const struct psync_link_event *ev)
{
	const char *oper = psync_operstate_to_string(ev->operstate);

	out_printf(o, ",\"ifname\":");
	out_string(o, ev->ifname, PSYNC_IFNAME_MAX);
	out_printf(o, ",\"ifindex\":%" PRIu32 ",\"flags\":%" PRIu32 ",\"mtu\":%" PRIu32
		      ",\"master\":%" PRIu32 ",\"kind\":",
		   ev->ifindex, ev->flags, ev->mtu, ev->master);
	out_string(o, ev->kind, PSYNC_KIND_MAX);
	out_printf(o, ",\"address\":");
	out_address(o, ev);
	if (oper)
		out_printf(o, ",\"operstate\":\"%s\"", oper);
	else
		out_printf(o, ",\"operstate\":%u", ev->operstate);
	out_printf(o, ",\"carrier\":\"%s\",\"carrier_up_count\":%" PRIu32
		      ",\"carrier_down_count\":%" PRIu32,
		   ev->carrier < 3 ? carrier_names[ev->carrier] : "unknown", ev->carrier_up_count,
		   ev->carrier_down_count);
	if (ev->has_carrier_changes)
		out_printf(o, ",\"carrier_changes\":%" PRIu32, ev->carrier_changes);
}

PSYNC_API int psync_event_to_json(const struct psync_link_event *ev, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	const char *type;

	if (!ev || (!buf && len))
		return -EINVAL;
	type = psync_event_type_to_string(ev->type);
	if (!type)
		return -EINVAL;
	out_printf(&o, "{\"type\":\"%s\"", type);
	if (ev->type == PSYNC_EVENT_NEWLINK || ev->type == PSYNC_EVENT_DELLINK)
		out_link(&o, ev);
	out_printf(&o, ",\"dump\":%s,\"generation\":%" PRIu32 ",\"recv_ns\":%" PRIu64 "}",
		   ev->from_dump ? "true" : "false", ev->dump_generation, ev->recv_ns);
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos > INT32_MAX ? -EOVERFLOW : (int)o.pos;
}

/* Parsing: each field has a reader that checks its JSON type and range. */
struct parse {
	struct psync_link_event *ev;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err && p->err_len) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int read_u32(struct parse *p, const char *key, json_object *v, uint32_t *dst)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return fail(p, "field '%s' must be an integer", key);
	errno = 0;
	n = json_object_get_int64(v);
	if (errno || n < 0 || n > UINT32_MAX)
		return fail(p, "field '%s' is out of range (0..4294967295)", key);
	*dst = (uint32_t)n;
	return 0;
}

static int read_name(struct parse *p, const char *key, json_object *v, char *dst, size_t max)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return fail(p, "field '%s' must be a string", key);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= max || strlen(s) != (size_t)json_object_get_string_len(v))
		return fail(p, "field '%s' must be shorter than %zu bytes, without NUL", key, max);
	psync__strlcpy(dst, s, max);
	return 0;
}

static int flag_from_name(const char *name, uint32_t *flag)
{
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (strcmp(flag_names[i].name, name) == 0) {
			*flag = flag_names[i].flag;
			return 0;
		}
	}
	return -EINVAL;
}

/* Flags are an integer, or a list of names such as ["UP", "RUNNING"]. */
static int read_flags(struct parse *p, const char *key, json_object *v)
{
	size_t n;

	if (json_object_is_type(v, json_type_int))
		return read_u32(p, key, v, &p->ev->flags);
	if (!json_object_is_type(v, json_type_array))
		return fail(p, "field 'flags' must be an integer or a list of flag names");
	p->ev->flags = 0;
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		uint32_t flag;

		if (!json_object_is_type(e, json_type_string))
			return fail(p, "field 'flags' must list flag names, as strings");
		if (flag_from_name(json_object_get_string(e), &flag) < 0)
			return fail(p, "field 'flags' has an unknown flag '%s'", json_object_get_string(e));
		p->ev->flags |= flag;
	}
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

static int read_address(struct parse *p, const char *key, json_object *v)
{
	const char *s;
	unsigned n = 0;

	if (!json_object_is_type(v, json_type_string))
		return fail(p, "field '%s' must be a string", key);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return fail(p, "field 'address' must be hex bytes separated by ':'");
	while (*s) {
		if (n == PSYNC_ADDR_MAX || hex_value(s[0]) < 0 || hex_value(s[1]) < 0)
			return fail(p, "field 'address' must be hex bytes separated by ':'");
		p->ev->addr[n++] = (uint8_t)(hex_value(s[0]) << 4 | hex_value(s[1]));
		s += 2;
		if (*s == ':' && s[1])
			s++;
		else if (*s)
			return fail(p, "field 'address' must be hex bytes separated by ':'");
	}
	p->ev->addr_len = (uint8_t)n;
	return 0;
}

static int read_operstate(struct parse *p, const char *key, json_object *v)
{
	uint32_t n = 0;

	if (json_object_is_type(v, json_type_string)) {
		if (psync_operstate_from_string(json_object_get_string(v), &p->ev->operstate) < 0)
			return fail(p, "field 'operstate' has an unknown state '%s'",
				    json_object_get_string(v));
		return 0;
	}
	if (read_u32(p, key, v, &n) < 0 || n > UINT8_MAX)
		return fail(p, "field 'operstate' must be a state name or 0..255");
	p->ev->operstate = (uint8_t)n;
	return 0;
}

static int read_carrier(struct parse *p, const char *key, json_object *v)
{
	(void)key;
	if (json_object_is_type(v, json_type_boolean)) {
		p->ev->carrier = json_object_get_boolean(v) ? PSYNC_CARRIER_UP : PSYNC_CARRIER_DOWN;
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		for (unsigned i = 0; i < 3; i++) {
			if (strcmp(json_object_get_string(v), carrier_names[i]) == 0) {
				p->ev->carrier = (uint8_t)i;
				return 0;
			}
		}
	}
	return fail(p, "field 'carrier' must be true, false, \"up\", \"down\" or \"unknown\"");
}

static int read_bool(struct parse *p, const char *key, json_object *v, uint8_t *dst)
{
	if (!json_object_is_type(v, json_type_boolean))
		return fail(p, "field '%s' must be true or false", key);
	*dst = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

static int read_type(struct parse *p, const char *key, json_object *v)
{
	enum psync_event_type t;

	if (!json_object_is_type(v, json_type_string))
		return fail(p, "field '%s' must be a string", key);
	if (psync_event_type_from_string(json_object_get_string(v), &t) < 0)
		return fail(p, "unknown event type '%s'", json_object_get_string(v));
	p->ev->type = t;
	return 0;
}

static int read_field(struct parse *p, const char *key, json_object *v)
{
	struct psync_link_event *ev = p->ev;

	if (strcmp(key, "type") == 0)
		return read_type(p, key, v);
	if (strcmp(key, "ifname") == 0)
		return read_name(p, key, v, ev->ifname, sizeof(ev->ifname));
	if (strcmp(key, "kind") == 0)
		return read_name(p, key, v, ev->kind, sizeof(ev->kind));
	if (strcmp(key, "ifindex") == 0)
		return read_u32(p, key, v, &ev->ifindex);
	if (strcmp(key, "flags") == 0)
		return read_flags(p, key, v);
	if (strcmp(key, "mtu") == 0)
		return read_u32(p, key, v, &ev->mtu);
	if (strcmp(key, "master") == 0)
		return read_u32(p, key, v, &ev->master);
	if (strcmp(key, "carrier_up_count") == 0)
		return read_u32(p, key, v, &ev->carrier_up_count);
	if (strcmp(key, "carrier_down_count") == 0)
		return read_u32(p, key, v, &ev->carrier_down_count);
	if (strcmp(key, "carrier_changes") == 0) {
		ev->has_carrier_changes = 1;
		return read_u32(p, key, v, &ev->carrier_changes);
	}
	if (strcmp(key, "generation") == 0)
		return read_u32(p, key, v, &ev->dump_generation);
	if (strcmp(key, "address") == 0)
		return read_address(p, key, v);
	if (strcmp(key, "operstate") == 0)
		return read_operstate(p, key, v);
	if (strcmp(key, "carrier") == 0)
		return read_carrier(p, key, v);
	if (strcmp(key, "dump") == 0)
		return read_bool(p, key, v, &ev->from_dump);
	if (strcmp(key, "recv_ns") == 0)
		return 0; /* a recording's time; replays stamp their own */
	return fail(p, "unknown field '%s'", key);
}

static int check_complete(struct parse *p)
{
	const struct psync_link_event *ev = p->ev;

	if (ev->type == 0)
		return fail(p, "missing field 'type'");
	if (ev->type != PSYNC_EVENT_NEWLINK && ev->type != PSYNC_EVENT_DELLINK)
		return 0;
	if (ev->ifindex == 0)
		return fail(p, "a %s needs a non-zero 'ifindex'", psync_event_type_to_string(ev->type));
	if (ev->ifname[0] == '\0')
		return fail(p, "a %s needs an 'ifname'", psync_event_type_to_string(ev->type));
	return 0;
}

/* The code point of the four hex digits at s, or -1. */
static long hex4(const char *s)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int d = hex_value(s[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * json-c reads a lone "\udcXX" as U+FFFD: the byte it stands for (event.h)
 * is put back in its place first. Everything else, a surrogate pair's low
 * half included, is left for json-c. Returns a copy to free, or NULL.
 */
static char *unescape_bytes(const char *line)
{
	char *copy = malloc(strlen(line) + 1), *o = copy;
	int in_string = 0, after_high = 0;

	if (!copy)
		return NULL;
	for (const char *s = line; *s;) {
		long cp = s[0] == '\\' && s[1] == 'u' ? hex4(s + 2) : -1;

		if (!in_string || *s == '"') {
			in_string ^= *s == '"';
			*o++ = *s++;
		} else if (cp >= 0xdc80 && cp <= 0xdcff && !after_high) {
			*o++ = (char)(cp & 0xff);
			s += 6;
		} else if (cp >= 0) {
			memcpy(o, s, 6);
			o += 6;
			s += 6;
		} else if (*s == '\\' && s[1]) {
			*o++ = *s++;
			*o++ = *s++;
		} else {
			*o++ = *s++;
		}
		after_high = cp >= 0xd800 && cp <= 0xdbff;
	}
	*o = '\0';
	return copy;
}

static json_object *parse_object(struct parse *p, const char *text)
{
	struct json_tokener *tok = json_tokener_new();
	char *line = strcasestr(text, "\\udc") ? unescape_bytes(text) : (char *)text;
	json_object *obj;
	size_t len, end;

	if (!tok || !line) {
		json_tokener_free(tok);
		fail(p, "out of memory");
		return NULL;
	}
	len = strlen(line);
	obj = json_tokener_parse_ex(tok, line, (int)(len > INT32_MAX ? INT32_MAX : len));
	end = json_tokener_get_parse_end(tok);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		fail(p, "not valid JSON: %s",
		     e == json_tokener_continue ? "unexpected end of line" : json_tokener_error_desc(e));
		json_object_put(obj);
		obj = NULL;
	} else if (line[end + strspn(line + end, " \t\r\n")]) {
		fail(p, "trailing characters after the JSON object");
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	if (line != text)
		free(line);
	return obj;
}

PSYNC_API int psync_event_from_json(const char *line, struct psync_link_event *ret, char *err,
				    size_t err_len)
{
	struct psync_link_event ev = { 0 };
	struct parse p = { .ev = &ev, .err = err, .err_len = err_len };
	json_object *obj;
	int r = 0;

	if (!line || !ret)
		return -EINVAL;
	obj = parse_object(&p, line);
	if (!obj)
		return -EINVAL;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return fail(&p, "an event must be a JSON object");
	}
	json_object_object_foreach(obj, key, val) {
		r = read_field(&p, key, val);
		if (r < 0)
			break;
	}
	json_object_put(obj);
	if (r == 0)
		r = check_complete(&p);
	if (r == 0)
		*ret = ev;
	return r;
}
