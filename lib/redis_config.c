/* SPDX-License-Identifier: Apache-2.0 */
/* Where each database lives: SONiC's database_config.json, or one address
 * holding SONiC's usual databases. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "redis_internal.h"

/* The real file is a few kB; anything this large is not one. */
#define MAX_CONFIG_BYTES (1u << 20)
#define MAX_DB_ID 1000000
#define SUN_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)

/* Where a parse is, for messages. */
struct parse_ctx {
	const char *path;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 3, 4)))
static int fail(const struct parse_ctx *pc, int ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!pc->err || pc->err_len == 0)
		return ret;
	n = snprintf(pc->err, pc->err_len, "%s: ", pc->path);
	if (n < 0 || (size_t)n >= pc->err_len)
		return ret;
	va_start(ap, fmt);
	vsnprintf(pc->err + n, pc->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

static void instance_clear(struct psync__redis_instance *inst)
{
	free(inst->name);
	free(inst->unix_socket);
	free(inst->hostname);
	memset(inst, 0, sizeof(*inst));
}

PSYNC_API void psync_redis_db_config_free(struct psync_redis_db_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_instances; i++)
		instance_clear(&cfg->instances[i]);
	for (size_t i = 0; i < cfg->n_dbs; i++) {
		free(cfg->dbs[i].name);
		free(cfg->dbs[i].separator);
	}
	free(cfg->instances);
	free(cfg->dbs);
	free(cfg);
}

/* ---- addresses ---- */

static int parse_port(const char *s, int *ret)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

static int address_unix(const struct parse_ctx *pc, const char *path,
			struct psync__redis_instance *inst)
{
	if (!*path)
		return fail(pc, -EINVAL, "no socket path");
	if (strlen(path) >= SUN_PATH_MAX)
		return fail(pc, -EINVAL, "socket path too long");
	inst->unix_socket = strdup(path);
	return inst->unix_socket ? 0 : -ENOMEM;
}

/* "host:port" or "[v6addr]:port". */
static int address_tcp(const struct parse_ctx *pc, const char *address,
		       struct psync__redis_instance *inst)
{
	const char *colon = strrchr(address, ':'), *host = address;
	size_t host_len;

	if (!colon || parse_port(colon + 1, &inst->port) < 0)
		return fail(pc, -EINVAL, "expected unix:/path or host:port");
	host_len = (size_t)(colon - address);
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	if (host_len == 0)
		return fail(pc, -EINVAL, "no host name");
	inst->hostname = strndup(host, host_len);
	return inst->hostname ? 0 : -ENOMEM;
}

static int parse_address(const struct parse_ctx *pc, const char *address,
			 struct psync__redis_instance *inst)
{
	if (strncmp(address, "unix:", 5) == 0)
		return address_unix(pc, address + 5, inst);
	if (address[0] == '/')
		return address_unix(pc, address, inst);
	return address_tcp(pc, address, inst);
}

const char *psync__redis_instance_address(const struct psync__redis_instance *inst, char *buf,
					  size_t len)
{
	if (inst->unix_socket)
		snprintf(buf, len, "unix:%s", inst->unix_socket);
	else if (strchr(inst->hostname, ':'))
		snprintf(buf, len, "[%s]:%d", inst->hostname, inst->port);
	else
		snprintf(buf, len, "%s:%d", inst->hostname, inst->port);
	return buf;
}

static int add_sonic_dbs(struct psync_redis_db_config *cfg)
{
	size_t n = 0;

	while (psync__sonic_db(n))
		n++;
	cfg->dbs = calloc(n, sizeof(*cfg->dbs));
	if (!cfg->dbs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct psync__sonic_db *sd = psync__sonic_db(i);
		struct psync__redis_db *db = &cfg->dbs[cfg->n_dbs++];

		db->name = strdup(sd->name);
		db->separator = strdup(sd->separator);
		db->id = sd->id;
		if (!db->name || !db->separator)
			return -ENOMEM;
	}
	return 0;
}

PSYNC_API int psync_redis_db_config_new_address(const char *address, char *err, size_t err_len,
						struct psync_redis_db_config **ret)
{
	struct parse_ctx pc = { .path = "address", .err = err, .err_len = err_len };
	struct psync_redis_db_config *cfg;
	int r;

	if (!address || !ret)
		return fail(&pc, -EINVAL, "missing");
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->instances = calloc(1, sizeof(*cfg->instances)))) {
		free(cfg);
		return fail(&pc, -ENOMEM, "out of memory");
	}
	cfg->n_instances = 1;
	r = parse_address(&pc, address, &cfg->instances[0]);
	if (r >= 0)
		r = (cfg->instances[0].name = strdup("default")) ? add_sonic_dbs(cfg) : -ENOMEM;
	if (r < 0) {
		psync_redis_db_config_free(cfg);
		return r == -ENOMEM ? fail(&pc, r, "out of memory") : r;
	}
	*ret = cfg;
	return 0;
}

/* ---- database_config.json ---- */

static int grow(char **buf, size_t *cap)
{
	size_t bigger = *cap ? 2 * *cap : 4096;
	char *b;

	if (bigger > MAX_CONFIG_BYTES)
		return -EFBIG;
	b = realloc(*buf, bigger);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = bigger;
	return 0;
}

/* All of fd, NUL-terminated. */
static int slurp(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	ssize_t n = 1;
	int r = 0;

	while (n > 0) {
		if (len + 1 >= cap && (r = grow(&buf, &cap)) < 0)
			break;
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			n = 1;
		else if (n < 0)
			r = -errno;
		else
			len += (size_t)n;
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int read_file(const struct parse_ctx *pc, char **ret, size_t *ret_len)
{
	int fd = open(pc->path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return fail(pc, -errno, "%s", strerror(errno));
	r = slurp(fd, ret, ret_len);
	close(fd);
	return r < 0 ? fail(pc, r, "%s", strerror(-r)) : 0;
}

static unsigned line_of(const char *text, size_t offset)
{
	unsigned line = 1;

	for (size_t i = 0; i < offset && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

static int parse_json(const struct parse_ctx *pc, const char *text, size_t len,
		      json_object **ret)
{
	struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	json_object *obj;
	size_t end;

	if (!tok)
		return fail(pc, -ENOMEM, "out of memory");
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		if (jerr == json_tokener_continue)
			return fail(pc, -EINVAL, "unexpected end of file");
		return fail(pc, -EINVAL, "line %u: %s", line_of(text, end),
			    json_tokener_error_desc(jerr));
	}
	end += strspn(text + end, " \t\r\n");
	if (end < len) {
		json_object_put(obj);
		return fail(pc, -EINVAL, "line %u: text after the JSON object", line_of(text, end));
	}
	*ret = obj;
	return 0;
}

/* A member of obj: 0, -ENOENT when absent, -EINVAL when not of type. */
static int member(json_object *obj, const char *name, enum json_type type, json_object **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) || json_object_is_type(v, json_type_null))
		return -ENOENT;
	if (!json_object_is_type(v, type))
		return -EINVAL;
	*ret = v;
	return 0;
}

/* A string member copied into *ret; absent leaves *ret NULL. */
static int string_member(const struct parse_ctx *pc, const char *where, json_object *obj,
			 const char *name, char **ret)
{
	json_object *v;
	int r = member(obj, name, json_type_string, &v);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return fail(pc, r, "%s: \"%s\" must be a string", where, name);
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : fail(pc, -ENOMEM, "out of memory");
}

/* An integer member in [min, max]; absent leaves *ret as it is. */
static int int_member(const struct parse_ctx *pc, const char *where, json_object *obj,
		      const char *name, int min, int max, int *ret)
{
	json_object *v;
	int64_t n;
	int r = member(obj, name, json_type_int, &v);

	if (r == -ENOENT)
		return 0;
	n = r < 0 ? -1 : json_object_get_int64(v);
	if (r < 0 || n < min || n > max)
		return fail(pc, -EINVAL, "%s: \"%s\" must be an integer from %d to %d", where, name,
			    min, max);
	*ret = (int)n;
	return 0;
}

static int parse_instance(const struct parse_ctx *pc, const char *name, json_object *obj,
			  struct psync__redis_instance *inst)
{
	char where[128];
	int r;

	snprintf(where, sizeof(where), "INSTANCES.%s", name);
	if (!json_object_is_type(obj, json_type_object))
		return fail(pc, -EINVAL, "%s: must be an object", where);
	inst->name = strdup(name);
	if (!inst->name)
		return fail(pc, -ENOMEM, "out of memory");
	r = string_member(pc, where, obj, "unix_socket_path", &inst->unix_socket);
	if (r >= 0)
		r = string_member(pc, where, obj, "hostname", &inst->hostname);
	if (r >= 0)
		r = int_member(pc, where, obj, "port", 1, 65535, &inst->port);
	if (r < 0)
		return r;
	if (inst->unix_socket && !*inst->unix_socket) {
		free(inst->unix_socket);
		inst->unix_socket = NULL;
	}
	if (inst->unix_socket && strlen(inst->unix_socket) >= SUN_PATH_MAX)
		return fail(pc, -EINVAL, "%s: \"unix_socket_path\" is too long", where);
	if (!inst->unix_socket && (!inst->hostname || !*inst->hostname || !inst->port))
		return fail(pc, -EINVAL,
			    "%s: needs \"unix_socket_path\", or \"hostname\" and \"port\"", where);
	return 0;
}

static int find_instance(const struct psync_redis_db_config *cfg, const char *name, size_t *ret)
{
	for (size_t i = 0; i < cfg->n_instances; i++) {
		if (strcmp(cfg->instances[i].name, name) == 0) {
			*ret = i;
			return 0;
		}
	}
	return -ENOENT;
}

static int parse_database(const struct parse_ctx *pc, const struct psync_redis_db_config *cfg,
			  const char *name, json_object *obj, struct psync__redis_db *db)
{
	char where[128], *instance = NULL;
	int r;

	snprintf(where, sizeof(where), "DATABASES.%s", name);
	if (!json_object_is_type(obj, json_type_object))
		return fail(pc, -EINVAL, "%s: must be an object", where);
	db->name = strdup(name);
	db->id = -1;
	if (!db->name)
		return fail(pc, -ENOMEM, "out of memory");
	r = int_member(pc, where, obj, "id", 0, MAX_DB_ID, &db->id);
	if (r >= 0)
		r = string_member(pc, where, obj, "separator", &db->separator);
	if (r >= 0)
		r = string_member(pc, where, obj, "instance", &instance);
	if (r >= 0 && db->id < 0)
		r = fail(pc, -EINVAL, "%s: \"id\" is missing", where);
	else if (r >= 0 && (!db->separator || !*db->separator))
		r = fail(pc, -EINVAL, "%s: \"separator\" is missing or empty", where);
	else if (r >= 0 && !instance)
		r = fail(pc, -EINVAL, "%s: \"instance\" is missing", where);
	else if (r >= 0 && find_instance(cfg, instance, &db->instance) < 0)
		r = fail(pc, -EINVAL, "%s: unknown instance \"%s\"", where, instance);
	free(instance);
	return r;
}

/* The object member section of root, with at least one entry. */
static int section(const struct parse_ctx *pc, json_object *root, const char *name,
		   json_object **ret, size_t *ret_n)
{
	int r = member(root, name, json_type_object, ret);

	if (r == -ENOENT)
		return fail(pc, -EINVAL, "no \"%s\" object", name);
	if (r < 0)
		return fail(pc, -EINVAL, "\"%s\" must be an object", name);
	*ret_n = (size_t)json_object_object_length(*ret);
	if (*ret_n == 0)
		return fail(pc, -EINVAL, "\"%s\" is empty", name);
	return 0;
}

static int parse_instances(const struct parse_ctx *pc, json_object *root,
			   struct psync_redis_db_config *cfg)
{
	struct json_object_iterator it, end;
	json_object *obj;
	size_t n;
	int r = section(pc, root, "INSTANCES", &obj, &n);

	if (r < 0)
		return r;
	cfg->instances = calloc(n, sizeof(*cfg->instances));
	if (!cfg->instances)
		return fail(pc, -ENOMEM, "out of memory");
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		r = parse_instance(pc, json_object_iter_peek_name(&it),
				   json_object_iter_peek_value(&it),
				   &cfg->instances[cfg->n_instances++]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_databases(const struct parse_ctx *pc, json_object *root,
			   struct psync_redis_db_config *cfg)
{
	struct json_object_iterator it, end;
	json_object *obj;
	size_t n;
	int r = section(pc, root, "DATABASES", &obj, &n);

	if (r < 0)
		return r;
	cfg->dbs = calloc(n, sizeof(*cfg->dbs));
	if (!cfg->dbs)
		return fail(pc, -ENOMEM, "out of memory");
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		r = parse_database(pc, cfg, json_object_iter_peek_name(&it),
				   json_object_iter_peek_value(&it), &cfg->dbs[cfg->n_dbs++]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_config(const struct parse_ctx *pc, json_object *root,
			struct psync_redis_db_config *cfg)
{
	int r;

	if (!json_object_is_type(root, json_type_object))
		return fail(pc, -EINVAL, "the top level must be an object");
	r = parse_instances(pc, root, cfg);
	return r < 0 ? r : parse_databases(pc, root, cfg);
}

PSYNC_API int psync_redis_db_config_load(const char *path, char *err, size_t err_len,
					 struct psync_redis_db_config **ret)
{
	struct parse_ctx pc = { .path = path, .err = err, .err_len = err_len };
	struct psync_redis_db_config *cfg = NULL;
	json_object *root = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	if (!path || !ret) {
		pc.path = "database config";
		return fail(&pc, -EINVAL, "no path");
	}
	r = read_file(&pc, &text, &len);
	if (r >= 0)
		r = parse_json(&pc, text, len, &root);
	if (r >= 0)
		r = (cfg = calloc(1, sizeof(*cfg))) ? parse_config(&pc, root, cfg)
						    : fail(&pc, -ENOMEM, "out of memory");
	json_object_put(root);
	free(text);
	if (r < 0) {
		psync_redis_db_config_free(cfg);
		return r;
	}
	*ret = cfg;
	return 0;
}

const struct psync__redis_db *psync__redis_db_config_find(const struct psync_redis_db_config *cfg,
							  const char *name)
{
	for (size_t i = 0; i < cfg->n_dbs; i++)
		if (strcmp(cfg->dbs[i].name, name) == 0)
			return &cfg->dbs[i];
	return NULL;
}

PSYNC_API int psync_redis_db_config_resolve(const struct psync_redis_db_config *cfg,
					    const char *db, struct psync_redis_db_location *ret)
{
	const struct psync__redis_db *d;
	const struct psync__redis_instance *inst;
	struct psync_redis_db_location loc = { 0 };
	size_t sz;

	if (!cfg || !db || !ret || ret->sz < sizeof(ret->sz))
		return -EINVAL;
	d = psync__redis_db_config_find(cfg, db);
	if (!d)
		return -ENOENT;
	inst = &cfg->instances[d->instance];
	sz = ret->sz < sizeof(loc) ? ret->sz : sizeof(loc);
	loc.sz = ret->sz;
	loc.instance = inst->name;
	loc.unix_socket = inst->unix_socket;
	loc.hostname = inst->unix_socket ? NULL : inst->hostname;
	loc.port = inst->port;
	loc.id = d->id;
	loc.separator = d->separator;
	memcpy(ret, &loc, sz);
	return 0;
}
