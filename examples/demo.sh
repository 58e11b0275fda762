#!/bin/sh
# The main job on an embedded default: builds portsyncd and runs it for real
# against a private redis-server (unix socket in a temp dir) and a private
# network namespace holding ifb ports Ethernet0, Ethernet4, ... CONFIG_DB is
# seeded the way SONiC does, orchagent's consumer is played by a small loop,
# a few ports flap, and what lands in APPL_DB and STATE_DB is shown, with the
# latency portsyncd measured. Everything is removed at the end, also on ^C.
#   examples/demo.sh [PORTS]      (default 8; needs root for the namespace)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ports=${1:-8}
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
cd "$top"
tests/install-deps.sh

work=$(mktemp -d /tmp/portsyncd-demo.XXXXXX)
log="$work/build.log"
redis_pid=""
consumer_pid=""
# Children are started in the background with their pids taken at once, so
# an interrupt at any moment leaves nothing behind.
cleanup() {
	trap - EXIT INT TERM
	for pid in $consumer_pid $redis_pid; do kill "$pid" 2>/dev/null || true; done
	for pid in $consumer_pid $redis_pid; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building (log: build/demo)"
if [ -f build/demo/build.ninja ]; then
	meson setup --reconfigure build/demo --wrap-mode=nodownload >"$log" 2>&1 || { cat "$log"; exit 1; }
else
	meson setup build/demo --wrap-mode=nodownload >"$log" 2>&1 || { cat "$log"; exit 1; }
fi
ninja -C build/demo >"$log" 2>&1 || { cat "$log"; exit 1; }

echo "== a private redis-server on $work/redis.sock"
redis-server --port 0 --unixsocket "$work/redis.sock" --save '' --appendonly no \
	--daemonize no --logfile "$work/redis.log" &
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
echo "== APPL_DB (what orchagent consumed)"
printf '   PortConfigDone count=%s  PortInitDone lanes=%s\n' \
	"$(cli -n 0 hget PORT_TABLE:PortConfigDone count)" "$(cli -n 0 hget PORT_TABLE:PortInitDone lanes)"
printf '   PORT_TABLE:Ethernet0 %s\n' "$(cli -n 0 hgetall PORT_TABLE:Ethernet0 | paste -sd' ')"
echo "== STATE_DB PORT_TABLE"
for key in $(cli -n 6 --scan --pattern 'PORT_TABLE|*' | sort -V); do
	printf '   %-22s %s\n' "$key" "$(cli -n 6 hgetall "$key" | paste -sd' ')"
done
echo "   (Ethernet12 was deleted: its STATE_DB entry is gone)"
echo "== portsyncd's log"
sed 's/^/   /' "$work/portsyncd.log" | grep -v "^   portsyncd: Cannot find" | tail -n 12
