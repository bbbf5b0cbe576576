#!/bin/bash
# A local Mistral cluster: PostgreSQL from Debian in a local data folder, one
# api node, N engine nodes and M executor nodes, each a separate
# mistral-server process with its own config file and log.
#
#   cluster.sh up [--engines N] [--executors M] [--base-port P] [--netns]
#                 [--executor-targets T1,T2,...]
#       starts everything, waits until the API answers and GET /v2/services
#       lists every node, then prints the API base URL as its last line.
#   cluster.sh kill NODE      kill -9 of one node (api, engine-1, executor-2, ...)
#   cluster.sh start NODE     starts a node again (after kill)
#   cluster.sh status         one line per process: name, pid, alive or dead
#   cluster.sh down           stops every process it started, by PID
#
# State (configs, logs, PIDs, the PostgreSQL data) lives in $MISTRAL_CLUSTER_DIR
# (default ./cluster-state). Binaries come from $MISTRAL_BIN_DIR (default the
# build/bin beside this script's folder).
#
# Ports, from the base port P (--base-port, $MISTRAL_CLUSTER_BASE_PORT, default
# 29100): PostgreSQL P, API HTTP P+1, the api node's cluster port P+2, engine i
# P+10+i, executor i P+40+i. `up` refuses ports already in use.
#
# --netns puts every node in its own network namespace (ip netns, a veth pair
# to the bridge mcl-br0, address 10.213.0.K/24); PostgreSQL and the API are
# reached on the bridge address 10.213.0.1 from the host side. Needs root.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
STATE="${MISTRAL_CLUSTER_DIR:-$PWD/cluster-state}"
BIN="${MISTRAL_BIN_DIR:-$HERE/../build/bin}"
BRIDGE=mcl-br0
NET_PREFIX=10.213.0

die() { echo "cluster.sh: $*" >&2; exit 1; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_user() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }
# A zombie (killed, not yet reaped by its new parent) counts as dead.
pid_alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Settings of the running cluster, written by `up`.
load_env() {
  [ -f "$STATE/cluster.env" ] || die "no cluster in $STATE (run: cluster.sh up)"
  # shellcheck disable=SC1091
  . "$STATE/cluster.env"
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

# The PostgreSQL data folder: under the state folder, unless the postgres
# user cannot reach it (a state folder below /root): then under /tmp.
pg_dir() {
  local dir="$STATE/pg"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
    dir="/tmp/mistral-cluster-pg-$(echo "$STATE" | cksum | cut -d' ' -f1)"
  fi
  echo "$dir"
}

start_postgres() {
  local bin dir port=$1 listen=$2
  bin=$(pg_bin)
  [ -n "$bin" ] && [ -x "$bin/initdb" ] || die "PostgreSQL is not installed (apt-get install postgresql)"
  dir=$(pg_dir)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir/data" -U "$(pg_user)" -A trust -E UTF8 --no-locale >"$STATE/initdb.log" 2>&1 ||
      { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
  fi
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=$listen -p $port -c unix_socket_directories='' -c fsync=off -c max_connections=200" \
    >/dev/null || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
  echo "$dir" >"$STATE/pg.dir"
  "$bin/psql" -h 127.0.0.1 -p "$port" -U "$(pg_user)" -d postgres -v ON_ERROR_STOP=1 -q \
    -c "DROP DATABASE IF EXISTS mistral" -c "CREATE DATABASE mistral" >/dev/null
}

stop_postgres() {
  local bin dir
  [ -f "$STATE/pg.dir" ] || return 0
  bin=$(pg_bin)
  dir=$(cat "$STATE/pg.dir")
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

# write_config NAME ROLE CLUSTER_HOST CLUSTER_PORT SEEDS [EXECUTOR_TARGET]
write_config() {
  local name=$1 role=$2 host=$3 port=$4 seeds=$5 target=${6:-}
  {
    echo "[DEFAULT]"
    echo "server = $role"
    echo "[api]"
    echo "host = $API_LISTEN"
    echo "port = $API_PORT"
    echo "[database]"
    echo "connection = $DB_URL"
    echo "[cluster]"
    echo "node_name = $name"
    echo "listen_host = $host"
    echo "listen_port = $port"
    echo "seed_nodes = $seeds"
    if [ -n "$target" ]; then
      echo "[executor]"
      echo "host = $target"
    fi
  } >"$STATE/$name.conf"
}

# The address other nodes dial for node number K (1-based, api is 1).
node_host() {
  if [ "$NETNS" = 1 ]; then echo "$NET_PREFIX.$(($1 + 1))"; else echo 127.0.0.1; fi
}

setup_netns() {
  ip link add "$BRIDGE" type bridge 2>/dev/null || true
  ip addr add "$NET_PREFIX.1/24" dev "$BRIDGE" 2>/dev/null || true
  ip link set "$BRIDGE" up
}

# add_netns NAME K: namespace mcl-NAME with address NET_PREFIX.(K+1).
add_netns() {
  local name=$1 k=$2 ns="mcl-$1" host_if="mcv$2" ns_if="mcvn$2"
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host_if" 2>/dev/null || true
  ip netns add "$ns"
  ip link add "$host_if" type veth peer name "$ns_if"
  ip link set "$ns_if" netns "$ns"
  ip link set "$host_if" master "$BRIDGE"
  ip link set "$host_if" up
  ip -n "$ns" addr add "$(node_host "$k")/24" dev "$ns_if"
  ip -n "$ns" link set "$ns_if" up
  ip -n "$ns" link set lo up
  ip -n "$ns" route add default via "$NET_PREFIX.1" 2>/dev/null || true
  echo "$ns" >>"$STATE/netns.list"
}

teardown_netns() {
  if [ -f "$STATE/netns.list" ]; then
    while read -r ns; do ip netns del "$ns" 2>/dev/null || true; done <"$STATE/netns.list"
    rm -f "$STATE/netns.list"
  fi
  if [ -f "$STATE/bridge" ]; then
    ip link del "$BRIDGE" 2>/dev/null || true
    rm -f "$STATE/bridge"
  fi
}

start_node() {
  local name=$1 role
  role=$(sed -n 's/^server = //p' "$STATE/$name.conf")
  local cmd=("$BIN/mistral-server" --server "$role" --config-file "$STATE/$name.conf")
  if [ "$NETNS" = 1 ]; then cmd=(ip netns exec "mcl-$name" "${cmd[@]}"); fi
  # setsid: the node must not die with the shell that started it.
  setsid "${cmd[@]}" >>"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
}

node_names() {
  echo api
  local i
  for i in $(seq 1 "$ENGINES"); do echo "engine-$i"; done
  for i in $(seq 1 "$EXECUTORS"); do echo "executor-$i"; done
}

# Waits until GET /v2/services lists `count` nodes; fails after `secs`.
wait_ready() {
  local count=$1 secs=$2 deadline=$((SECONDS + $2)) n
  while :; do
    if n=$(curl -fsS --max-time 2 "$API_URL/v2/services" 2>/dev/null |
      python3 -c 'import json,sys; print(len({s["name"] for s in json.load(sys.stdin)["services"]}))' 2>/dev/null); then
      [ "$n" -ge "$count" ] && return 0
    fi
    [ $SECONDS -ge $deadline ] && return 1
    for name in $(node_names); do
      pid_alive "$(cat "$STATE/$name.pid" 2>/dev/null)" ||
        { tail -n 20 "$STATE/$name.log" >&2; die "node $name exited during start (log: $STATE/$name.log)"; }
    done
    sleep 0.2
  done
}

cmd_up() {
  local engines=1 executors=1 base="${MISTRAL_CLUSTER_BASE_PORT:-29100}" netns=0 targets=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --engines) engines=$2; shift 2 ;;
      --executors) executors=$2; shift 2 ;;
      --base-port) base=$2; shift 2 ;;
      --netns) netns=1; shift ;;
      --executor-targets) targets=$2; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ "$engines" -ge 1 ] && [ "$engines" -le 29 ] || die "--engines must be 1..29"
  [ "$executors" -ge 0 ] && [ "$executors" -le 49 ] || die "--executors must be 0..49"
  [ -x "$BIN/mistral-server" ] || die "no mistral-server in $BIN (build first, or set MISTRAL_BIN_DIR)"
  if [ "$netns" = 1 ] && [ "$(id -u)" -ne 0 ]; then die "--netns needs root"; fi
  mkdir -p "$STATE"
  if [ -f "$STATE/cluster.env" ]; then
    load_env
    for name in $(node_names); do
      pid_alive "$(cat "$STATE/$name.pid" 2>/dev/null)" && die "a cluster is already up in $STATE (cluster.sh down first)"
    done
  fi
  rm -f "$STATE"/*.pid "$STATE"/*.log "$STATE"/*.conf

  ENGINES=$engines EXECUTORS=$executors NETNS=$netns
  local pg_port=$base
  API_PORT=$((base + 1))
  local ports=("$pg_port" "$API_PORT" $((base + 2)))
  local i
  for i in $(seq 1 "$engines"); do ports+=($((base + 10 + i))); done
  for i in $(seq 1 "$executors"); do ports+=($((base + 40 + i))); done
  for p in "${ports[@]}"; do port_in_use "$p" && die "port $p is in use (choose another --base-port)"; done

  local pg_listen=127.0.0.1 api_host=127.0.0.1
  if [ "$netns" = 1 ]; then
    setup_netns
    touch "$STATE/bridge"
    pg_listen="127.0.0.1,$NET_PREFIX.1"
  fi
  start_postgres "$pg_port" "$pg_listen"
  local db_host=127.0.0.1
  [ "$netns" = 1 ] && db_host=$NET_PREFIX.1
  DB_URL="postgresql://$(pg_user)@$db_host:$pg_port/mistral"
  # The schema once, before any node: nodes would race to migrate it.
  printf '[database]\nconnection = %s\n' "postgresql://$(pg_user)@127.0.0.1:$pg_port/mistral" >"$STATE/db-manage.conf"
  "$BIN/mistral-db-manage" --config-file "$STATE/db-manage.conf" upgrade head >"$STATE/db-manage.log" 2>&1 ||
    { cat "$STATE/db-manage.log" >&2; die "mistral-db-manage upgrade failed"; }

  # Node K: api is 1, engines 2.., executors after them.
  local k=1 names=() hosts=() cports=() roles=() tgts=()
  names+=(api); roles+=(api); cports+=($((base + 2))); tgts+=("")
  for i in $(seq 1 "$engines"); do names+=("engine-$i"); roles+=(engine); cports+=($((base + 10 + i))); tgts+=(""); done
  IFS=, read -r -a target_list <<<"$targets"
  for i in $(seq 1 "$executors"); do
    names+=("executor-$i"); roles+=(executor); cports+=($((base + 40 + i)))
    tgts+=("${target_list[$((i - 1))]:-}")
  done
  for k in $(seq 1 "${#names[@]}"); do hosts+=("$(node_host "$k")"); done
  [ "$netns" = 1 ] && api_host=${hosts[0]}
  API_LISTEN=${hosts[0]}
  API_URL="http://$api_host:$API_PORT"
  if [ "$netns" = 1 ]; then API_LISTEN=0.0.0.0; fi
  local seeds_all=""
  for k in $(seq 0 $((${#names[@]} - 1))); do
    seeds_all+="${seeds_all:+, }${hosts[$k]}:${cports[$k]}"
  done
  for k in $(seq 0 $((${#names[@]} - 1))); do
    # Every node may seed every other: start order does not matter and a
    # restarted node finds whoever is up.
    write_config "${names[$k]}" "${roles[$k]}" "${hosts[$k]}" "${cports[$k]}" "$seeds_all" "${tgts[$k]}"
    [ "$netns" = 1 ] && add_netns "${names[$k]}" $((k + 1))
  done
  cat >"$STATE/cluster.env" <<EOF
ENGINES=$engines
EXECUTORS=$executors
NETNS=$netns
API_PORT=$API_PORT
API_URL=$API_URL
PG_PORT=$pg_port
DB_URL=$DB_URL
EOF
  for name in "${names[@]}"; do start_node "$name"; done
  wait_ready "${#names[@]}" 60 || { cmd_status >&2; die "the cluster did not form within 60 s (logs in $STATE)"; }
  echo "$API_URL"
}

cmd_kill() {
  load_env
  local name=${1:-}
  [ -f "$STATE/$name.pid" ] || die "no node named '$name' (see cluster.sh status)"
  local pid
  pid=$(cat "$STATE/$name.pid")
  pid_alive "$pid" || die "node $name is not running"
  kill -9 "$pid"
  local deadline=$((SECONDS + 5))
  while pid_alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
  echo "killed $name (pid $pid)"
}

cmd_start() {
  load_env
  local name=${1:-}
  [ -f "$STATE/$name.conf" ] || die "no node named '$name'"
  pid_alive "$(cat "$STATE/$name.pid" 2>/dev/null)" && die "node $name is running"
  start_node "$name"
  echo "started $name (pid $(cat "$STATE/$name.pid"))"
}

cmd_status() {
  load_env
  local name pid
  for name in $(node_names); do
    pid=$(cat "$STATE/$name.pid" 2>/dev/null || true)
    if pid_alive "$pid"; then echo "$name pid $pid alive"; else echo "$name pid ${pid:-?} dead"; fi
  done
  echo "api $API_URL"
}

cmd_down() {
  [ -f "$STATE/cluster.env" ] || { echo "nothing to stop in $STATE"; return 0; }
  load_env
  local name pid pids=()
  for name in $(node_names); do
    pid=$(cat "$STATE/$name.pid" 2>/dev/null || true)
    if pid_alive "$pid"; then kill -TERM "$pid"; pids+=("$pid"); fi
  done
  local deadline=$((SECONDS + 10))
  for pid in "${pids[@]}"; do
    while pid_alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    pid_alive "$pid" && kill -9 "$pid"
  done
  rm -f "$STATE"/*.pid
  stop_postgres
  [ "${NETNS:-0}" = 1 ] && teardown_netns
  rm -f "$STATE/cluster.env"
  echo "cluster stopped"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  kill) shift; cmd_kill "$@" ;;
  start) shift; cmd_start "$@" ;;
  status) cmd_status ;;
  down) cmd_down ;;
  *) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
