/* SPDX-License-Identifier: Apache-2.0 */
/* The generic policy: an ops table and its implementation behind one handle. */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

struct psync_policy {
	const struct psync_policy_ops *ops;
	void *impl;
};

#define HAS_OP(ops, m) (psync__has_member((ops)->sz, struct psync_policy_ops, m) && (ops)->m)

PSYNC_API int psync_policy_new(const struct psync_policy_ops *ops, void *impl,
			       struct psync_policy **ret)
{
	struct psync_policy *p;

	if (!ops || !ret || !HAS_OP(ops, on_event))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ops = ops;
	p->impl = impl;
	*ret = p;
	return 0;
}

PSYNC_API void psync_policy_free(struct psync_policy *policy)
{
	if (!policy)
		return;
	if (HAS_OP(policy->ops, destroy))
		policy->ops->destroy(policy->impl);
	free(policy);
}

PSYNC_API const char *psync_policy_get_name(const struct psync_policy *policy)
{
	if (!policy || !HAS_OP(policy->ops, name))
		return "policy";
	return policy->ops->name;
}

PSYNC_API void *psync_policy_get_impl(const struct psync_policy *policy)
{
	return policy ? policy->impl : NULL;
}

int psync__policy_start(struct psync_policy *policy, struct psync_pipeline *p)
{
	return HAS_OP(policy->ops, start) ? policy->ops->start(policy->impl, p) : 0;
}

int psync__policy_on_event(struct psync_policy *policy, struct psync_pipeline *p,
			   const struct psync_link_event *ev)
{
	return policy->ops->on_event(policy->impl, p, ev);
}

int psync__policy_on_batch_end(struct psync_policy *policy, struct psync_pipeline *p)
{
	return HAS_OP(policy->ops, on_batch_end) ? policy->ops->on_batch_end(policy->impl, p) : 0;
}

int psync__policy_rewrites_on_store_reset(const struct psync_policy *policy)
{
	return HAS_OP(policy->ops, on_store_reset);
}

int psync__policy_on_store_reset(struct psync_policy *policy, struct psync_pipeline *p)
{
	return HAS_OP(policy->ops, on_store_reset) ? policy->ops->on_store_reset(policy->impl, p) : 0;
}

const struct psync_policy_ops *psync__policy_get_ops(const struct psync_policy *policy)
{
	return policy->ops;
}
