/* SPDX-License-Identifier: Apache-2.0 */
/* The generic source: an ops table and its implementation behind one handle. */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

struct psync_source {
	const struct psync_source_ops *ops;
	void *impl;
};

/* Methods a caller built against an older, shorter ops table does not have. */
#define HAS_OP(ops, m) (psync__has_member((ops)->sz, struct psync_source_ops, m) && (ops)->m)

PSYNC_API int psync_source_new(const struct psync_source_ops *ops, void *impl,
			       struct psync_source **ret)
{
	struct psync_source *s;

	if (!ops || !ret || !HAS_OP(ops, dispatch))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = ops;
	s->impl = impl;
	*ret = s;
	return 0;
}

PSYNC_API void psync_source_free(struct psync_source *source)
{
	if (!source)
		return;
	if (HAS_OP(source->ops, destroy))
		source->ops->destroy(source->impl);
	free(source);
}

PSYNC_API int psync_source_dispatch(struct psync_source *source, unsigned budget,
				    psync_emit_fn emit, void *userdata)
{
	if (!source || !emit)
		return -EINVAL;
	return source->ops->dispatch(source->impl, budget, emit, userdata);
}

PSYNC_API int psync_source_get_fd(struct psync_source *source)
{
	if (!source)
		return -EINVAL;
	if (!HAS_OP(source->ops, get_fd))
		return -EOPNOTSUPP;
	return source->ops->get_fd(source->impl);
}

PSYNC_API int psync_source_request_dump(struct psync_source *source)
{
	if (!source)
		return -EINVAL;
	if (!HAS_OP(source->ops, request_dump))
		return -EOPNOTSUPP;
	return source->ops->request_dump(source->impl);
}

PSYNC_API int psync_source_is_finished(struct psync_source *source)
{
	if (!source)
		return -EINVAL;
	if (!HAS_OP(source->ops, is_finished))
		return 0;
	return source->ops->is_finished(source->impl);
}

PSYNC_API const char *psync_source_get_name(const struct psync_source *source)
{
	if (!source || !HAS_OP(source->ops, name))
		return "source";
	return source->ops->name;
}

PSYNC_API void *psync_source_get_impl(const struct psync_source *source)
{
	return source ? source->impl : NULL;
}

const struct psync_source_ops *psync__source_get_ops(const struct psync_source *source)
{
	return source->ops;
}
