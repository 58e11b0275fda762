#!/bin/sh
# The main job on an embedded default: builds portsyncd and runs it for real
# against a private redis-server (unix socket in a temp dir) and a private
# network namespace holding ifb ports Ethernet0, Ethernet4, ... CONFIG_DB is
# seeded the way SONiC does, orchagent's consumer is played by a small loop,
# a few ports flap, and what lands in APPL_DB and STATE_DB is shown, with the
# latency portsyncd measured. Everything is removed at the end, also on ^C.
# What apt-get, meson and ninja print goes to build/demo.log; the screen
# shows one line of progress per step.
#   examples/demo.sh [PORTS]      (default 8; needs root for the namespace)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ports=${1:-8}
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
cd "$top"

work=$(mktemp -d /tmp/portsyncd-demo.XXXXXX)
mkdir -p build
log="$top/build/demo.log"
: >"$log"
redis_pid=""
consumer_pid=""
step_pid=""
# Children are started in the background with their pids taken at once, so
# an interrupt at any moment leaves nothing behind.
cleanup() {
	trap - EXIT INT TERM HUP
	trap '' PIPE # the reader may be gone (| head): cleaning up must not stop here
	[ -z "$step_pid" ] || echo 2>/dev/null || true
	for pid in $step_pid $consumer_pid $redis_pid; do kill "$pid" 2>/dev/null || true; done
	for pid in $step_pid $consumer_pid $redis_pid; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# Runs a command with its output appended to the log. On a terminal one line
# keeps showing the seconds so far and the log's last line (apt's stage,
# ninja's [done/total]); elsewhere (a pipe, a file) a dot a second, no
# carriage returns. On failure the log's end is shown.
step() {
	what=$1
	shift
	before=$(($(wc -l <"$log") + 1))
	"$@" >>"$log" 2>&1 &
	step_pid=$!
	start=$(date +%s)
	width=$(stty size 2>/dev/null </dev/tty | cut -d' ' -f2)
	[ "${width:-0}" -ge 40 ] || width=80
	width=$((width - 12))
	[ -t 1 ] || printf '   %s: ' "$what"
	dots=0
	while kill -0 "$step_pid" 2>/dev/null; do
		seconds=$(($(date +%s) - start))
		if [ -t 1 ]; then
			printf '\r\033[K   %3d s  %s' "$seconds" \
				"$(tail -n "+$before" "$log" | tail -n 1 | tr -d '\r' | cut -c "1-$width")"
		fi
		while [ ! -t 1 ] && [ "$dots" -lt "$seconds" ]; do
			printf '.'
			dots=$((dots + 1))
		done
		sleep 0.2
	done
	if [ -t 1 ]; then printf '\r\033[K   %s: ' "$what"; elif [ "$dots" -gt 0 ]; then printf ' '; fi
	status=0
	wait "$step_pid" || status=$?
	step_pid=""
	if [ "$status" -ne 0 ]; then
		echo "failed (exit $status); the end of the log:"
		tail -n "+$before" "$log" | tail -n 40
		echo "== $what failed; the whole log: $log" >&2
		exit 1
	fi
	echo "done in $(($(date +%s) - start)) s"
}

echo "== installing packages with apt-get (log: $log)"
step "packages" tests/install-deps.sh --verbose

echo "== building portsyncd in build/demo (log: $log)"
if [ -f build/demo/build.ninja ]; then
	step "meson setup" meson setup --reconfigure build/demo --wrap-mode=nodownload
else
	step "meson setup" meson setup build/demo --wrap-mode=nodownload
fi
step "compiling" ninja -C build/demo daemon/portsyncd

echo "== a private redis-server on $work/redis.sock"
# Keyspace events as SONiC's redis.conf sets them: portsyncd follows
# CONFIG_DB LOGGER|portsyncd (swssloglevel) through them.
redis-server --port 0 --unixsocket "$work/redis.sock" --save '' --appendonly no \
	--notify-keyspace-events AKE --daemonize no --logfile "$work/redis.log" &
redis_pid=$!
cli() { redis-cli -s "$work/redis.sock" "$@"; }
for _ in 1 2 3 4 5 6 7 8 9 10; do cli ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "== CONFIG_DB: $ports ports, as SONiC's config_db.json would load them"
i=0
while [ "$i" -lt "$ports" ]; do
	n=$((i * 4))
	cli -n 4 hset "PORT|Ethernet$n" alias "etp$((i + 1))" lanes "$n,$((n + 1)),$((n + 2)),$((n + 3))" \
		speed 100000 mtu 9100 admin_status up index "$i" >/dev/null
	i=$((i + 1))
done

# orchagent's side of the producer protocol: pop PORT_TABLE_KEY_SET into PORT_TABLE.
pop='for _, k in ipairs(redis.call("SPOP", "PORT_TABLE_KEY_SET", 128)) do
	if redis.call("SREM", "PORT_TABLE_DEL_SET", k) == 1 then redis.call("DEL", "PORT_TABLE:" .. k) end
	local f = redis.call("HGETALL", "_PORT_TABLE:" .. k)
	if #f > 0 then redis.call("HSET", "PORT_TABLE:" .. k, unpack(f)) end
	redis.call("DEL", "_PORT_TABLE:" .. k)
end'
( while :; do cli -n 0 eval "$pop" 0 >/dev/null 2>&1 || exit 0; sleep 0.05; done ) &
consumer_pid=$!

echo "== portsyncd in a private network namespace"
cat >"$work/inside.sh" <<INSIDE
set -e
ip link set lo up
build/demo/daemon/portsyncd --redis "unix:$work/redis.sock" --log-stderr --log-level notice \
	2>"$work/portsyncd.log" &
pid=\$!
sleep 0.3
i=0
while [ "\$i" -lt "$ports" ]; do ip link add "Ethernet\$((i * 4))" type ifb; i=\$((i + 1)); done
for _ in \$(seq 50); do
	[ -n "\$(redis-cli -s "$work/redis.sock" -n 0 exists PORT_TABLE:PortInitDone | grep 1)" ] && break
	sleep 0.1
done
echo "   PortInitDone after the last netdev; flapping Ethernet0, Ethernet4, mtu of Ethernet8"
for _ in 1 2 3; do
	ip link set Ethernet0 up; ip link set Ethernet4 up
	ip link set Ethernet0 down; ip link set Ethernet4 down
done
ip link set Ethernet0 up
ip link set Ethernet8 mtu 9100
ip link del Ethernet12
sleep 0.3
kill -TERM \$pid
wait \$pid
INSIDE
unshare -n sh "$work/inside.sh"

echo
echo "== APPL_DB PORT_TABLE (what orchagent consumed)"
printf '   PortConfigDone count=%s  PortInitDone lanes=%s\n' \
	"$(cli -n 0 hget PORT_TABLE:PortConfigDone count)" "$(cli -n 0 hget PORT_TABLE:PortInitDone lanes)"
shown=0
for key in $(cli -n 0 --scan --pattern 'PORT_TABLE:Ethernet*' | sort -V); do
	if [ "$ports" -le 16 ] || [ "$shown" -eq 0 ]; then
		printf '   %-22s %s\n' "$key" "$(cli -n 0 hgetall "$key" | paste -sd' ')"
	fi
	shown=$((shown + 1))
done
[ "$ports" -le 16 ] || echo "   ... and $((shown - 1)) more like it, one per CONFIG_DB port"
echo "== STATE_DB PORT_TABLE"
for key in $(cli -n 6 --scan --pattern 'PORT_TABLE|*' | sort -V); do
	printf '   %-22s %s\n' "$key" "$(cli -n 6 hgetall "$key" | paste -sd' ')"
done
echo "   (Ethernet12 was deleted: its STATE_DB entry is gone)"
echo "   Why mtu and admin state differ: APPL_DB PORT_TABLE is CONFIG_DB's port configuration"
echo "   handed to orchagent, while STATE_DB PORT_TABLE is what portsyncd read back from each"
echo "   netdev, the kernel's view, and no orchagent runs here to apply the configuration to it."
echo "== portsyncd's log"
sed 's/^/   /' "$work/portsyncd.log" | grep -v "^   portsyncd: Cannot find" | tail -n 12
# The summary portsyncd logs on exit: "... N writes acked, ...; latency p50 X us, p99 Y us, ..."
latency=$(sed -n 's/.* \([0-9]*\) writes acked.*latency p50 \([0-9.]*\) us, p99 \([0-9.]*\) us.*/p50 \2 µs, p99 \3 µs (over \1 writes)/p' \
	"$work/portsyncd.log" | tail -n 1)
echo "== kernel event → Redis acknowledgement: ${latency:-not in the log}"
echo "   (measured by portsyncd for every write: netlink message received → Redis' reply)"
