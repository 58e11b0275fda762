/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A program outside the source tree that finds libportsync through pkg-config
 * alone:  make   (see the Makefile beside it), or
 *   cc consumer.c $(pkg-config --cflags --libs libportsync) -o consumer
 * It mirrors one recorded flap into the memory sink and prints the result.
 * tests/check-subproject.sh builds this same program with libportsync as a
 * meson subproject.
 */
#include <linux/if.h>
#include <stdio.h>
#include <string.h>

#include <portsync/portsync.h>

int main(void)
{
	struct psync_link_event ev[2] = {
		{ .type = PSYNC_EVENT_NEWLINK, .ifindex = 3, .flags = IFF_UP | IFF_RUNNING, .mtu = 9100 },
		{ .type = PSYNC_EVENT_NEWLINK, .ifindex = 3, .flags = IFF_UP, .mtu = 9100 },
	};
	struct psync_source *src = NULL;
	struct psync_policy *pol = NULL;
	struct psync_sink *sink = NULL;
	struct psync_pipeline *p = NULL;
	const char *oper, *mtu;
	int r;

	/* The headers it was built with are those of the library it runs with. */
	if (strcmp(psync_version(), PSYNC_VERSION) != 0) {
		fprintf(stderr, "consumer: library %s, headers %s\n", psync_version(), PSYNC_VERSION);
		return 1;
	}
	strcpy(ev[0].ifname, "Ethernet0");
	strcpy(ev[1].ifname, "Ethernet0");
	r = psync_replay_source_new(ev, 2, &src);
	if (r == 0)
		r = psync_policy_new_mirror("STATE_DB", "PORT_TABLE", &pol);
	if (r == 0)
		r = psync_memory_sink_new(NULL, &sink);
	if (r == 0)
		r = psync_pipeline_new(src, pol, sink, NULL, &p);
	if (r < 0) {
		fprintf(stderr, "consumer: %s\n", strerror(-r));
		psync_source_free(src);
		psync_policy_free(pol);
		psync_sink_free(sink);
		return 1;
	}
	r = psync_pipeline_run(p, 1000);
	oper = psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet0", "oper_status");
	mtu = psync_memory_sink_get(sink, "STATE_DB", "PORT_TABLE|Ethernet0", "mtu");
	printf("libportsync %s: Ethernet0 oper_status=%s mtu=%s\n", psync_version(),
	       oper ? oper : "(none)", mtu ? mtu : "(none)");
	r = r == 0 && oper && strcmp(oper, "down") == 0 && mtu && strcmp(mtu, "9100") == 0 ? 0 : 1;
	psync_pipeline_free(p);
	return r;
}
