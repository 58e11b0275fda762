/* SPDX-License-Identifier: Apache-2.0 */
/* The ready-made policy: mirror every link into one table. */
#include <errno.h>
#include <linux/if.h>
#include <stdlib.h>

#include "internal.h"

struct mirror {
	char *db;
	char *table;
};

static int mirror_on_event(void *impl, struct psync_pipeline *p, const struct psync_link_event *ev)
{
	const struct mirror *m = impl;
	char mtu[24], ifindex[24];
	struct psync_field fields[] = {
		{ "admin_status", (ev->flags & IFF_UP) ? "up" : "down" },
		{ "oper_status", (ev->flags & IFF_RUNNING) ? "up" : "down" },
		{ "mtu", mtu },
		{ "ifindex", ifindex },
	};
	struct psync_write w = {
		.db = m->db,
		.table = m->table,
		.key = ev->ifname,
		.origin_ns = ev->recv_ns,
	};

	if (ev->type == PSYNC_EVENT_DELLINK) {
		w.op = PSYNC_WRITE_DEL;
		return psync_pipeline_write(p, &w);
	}
	if (ev->type != PSYNC_EVENT_NEWLINK)
		return 0;
	psync__u64_to_dec(mtu, ev->mtu);
	psync__u64_to_dec(ifindex, ev->ifindex);
	w.op = PSYNC_WRITE_SET;
	w.fields = fields;
	w.n_fields = sizeof(fields) / sizeof(fields[0]);
	return psync_pipeline_write(p, &w);
}

static void mirror_destroy(void *impl)
{
	struct mirror *m = impl;

	free(m->db);
	free(m->table);
	free(m);
}

static const struct psync_policy_ops mirror_ops = {
	.sz = sizeof(struct psync_policy_ops),
	.name = "mirror",
	.on_event = mirror_on_event,
	.destroy = mirror_destroy,
};

PSYNC_API int psync_policy_new_mirror(const char *db, const char *table, struct psync_policy **ret)
{
	struct mirror *m;
	int r;

	if (!db || !table || !*db || !*table || !ret)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->db = strdup(db);
	m->table = strdup(table);
	if (!m->db || !m->table) {
		mirror_destroy(m);
		return -ENOMEM;
	}
	r = psync_policy_new(&mirror_ops, m, ret);
	if (r < 0)
		mirror_destroy(m);
	return r;
}
