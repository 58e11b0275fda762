/* SPDX-License-Identifier: Apache-2.0 */
/* Load-adaptive batching of source reads: see batcher.h. */
#include <string.h>

#include "batcher.h"

void psync__batcher_init(struct psync__batcher *b, uint64_t hold_ns)
{
	memset(b, 0, sizeof(*b));
	b->hold_ns = hold_ns;
}

uint64_t psync__batcher_gathered_since(const struct psync__batcher *b)
{
	return b->holding ? b->hold_start_ns : 0;
}

unsigned psync__batch_bucket(unsigned events)
{
	unsigned i = 0;

	while (i < PSYNC_BATCH_BUCKETS - 1 && events > (1U << i))
		i++;
	return i;
}

static void count_batch(struct psync__batcher *b, unsigned events)
{
	b->batches++;
	b->batch_events += events;
	b->per_batch[psync__batch_bucket(events)]++;
}

static enum psync__batch_step hold(struct psync__batcher *b, uint64_t now, uint64_t for_ns)
{
	b->holding = true;
	b->hold_start_ns = now;
	b->until_ns = now + for_ns;
	return PSYNC__BATCH_HOLD;
}

/* A read at the end of a hold: another hold while the load lasts. */
static enum psync__batch_step after_hold(struct psync__batcher *b, uint64_t now, unsigned events,
					 bool full)
{
	b->held_ns += now - b->hold_start_ns;
	if (full)
		return hold(b, now, 0);
	if (events >= PSYNC__BATCH_CONTINUE_MIN) {
		b->holds++;
		return hold(b, now, b->hold_ns);
	}
	b->holding = false;
	b->quick_reads = 0;
	b->last_read_ns = events ? now : 0;
	return PSYNC__BATCH_RELEASE;
}

enum psync__batch_step psync__batcher_after_read(struct psync__batcher *b, uint64_t now,
						 unsigned events, bool full)
{
	bool quick;

	if (events)
		count_batch(b, events);
	if (b->holding)
		return after_hold(b, now, events, full);
	if (!events || b->hold_ns == 0)
		return PSYNC__BATCH_AS_IS;
	quick = b->last_read_ns && now - b->last_read_ns < b->hold_ns / 4;
	if (quick && b->quick_reads++ == 0)
		b->quick_since_ns = b->last_read_ns;
	if (!quick)
		b->quick_reads = 0;
	b->last_read_ns = now;
	/* A full read is followed at once anyway: the source stays readable. */
	if (full || b->quick_reads < PSYNC__BATCH_ENGAGE_STREAK ||
	    now - b->quick_since_ns < b->hold_ns / 2)
		return PSYNC__BATCH_AS_IS;
	b->holds++;
	return hold(b, now, b->hold_ns);
}
