// A C++ program using the library through the umbrella header: links and runs.
#include <cstdio>
#include <cstring>

#include <portsync/portsync.h>

int main()
{
	struct psync_sink *sink = nullptr;
	struct psync_metrics m = {};

	if (std::strcmp(psync_version(), PSYNC_VERSION) != 0) {
		std::fprintf(stderr, "library %s, headers %s\n", psync_version(), PSYNC_VERSION);
		return 1;
	}
	if (psync_memory_sink_new(nullptr, &sink) < 0)
		return 1;
	m.sz = sizeof(m);
	psync_sink_free(sink);
	std::printf("C++ consumer OK: libportsync %s\n", psync_version());
	return 0;
}
