#!/bin/sh
# Prints a running portsyncd's metrics as a table, from its /metrics endpoint
# ([metrics] listen in portsyncd.conf).
#   examples/metrics-table.sh [HOST:PORT]     (default 127.0.0.1:9101)
set -eu
address=${1:-127.0.0.1:9101}
curl -fsS --max-time 5 "http://$address/metrics" | awk '
	/^#/ { next }
	/_bucket\{/ { next }  # the histogram is summarised by the quantiles below
	{
		name = $1
		sub(/^portsyncd_/, "", name)
		value = $2
		if (name ~ /latency/ && name !~ /_count$/ && value != "NaN")  # seconds, to the us
			value = sprintf("%.6f", value)
		else if (value ~ /e[+-]/ || value ~ /\./)
			value = sprintf("%.2f", value)
		printf "  %-50s %12s\n", name, value
	}
' | sort
