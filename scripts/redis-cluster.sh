#!/usr/bin/env bash
# A local Redis Cluster for the cluster test suites, from Debian's redis-server (no persistence, loopback only).
#
#   scripts/redis-cluster.sh start    starts 3 masters (REDIS_CLUSTER_PORTS, default 7101 7102 7103), waits for
#                                     cluster_state:ok and prints REDIS_CLUSTER_URL=redis://127.0.0.1:7101,…
#   scripts/redis-cluster.sh url      prints that URL when the cluster answers, nothing otherwise
#   scripts/redis-cluster.sh stop     stops the nodes and removes their directory
#
# REDIS_CLUSTER_PORTS: the masters' ports (each also uses port + 10000 for the cluster bus);
# REDIS_CLUSTER_REPLICAS: replicas per master (their ports follow the masters' in REDIS_CLUSTER_PORTS);
# REDIS_CLUSTER_DIR: where the nodes keep their cluster config files (default /tmp/flotilla-redis-cluster-<first port>).
# Usage from a test run: export "$(scripts/redis-cluster.sh start | tail -1)"
set -euo pipefail

read -r -a PORTS <<<"${REDIS_CLUSTER_PORTS:-7101 7102 7103}"
REPLICAS=${REDIS_CLUSTER_REPLICAS:-0}
DIR=${REDIS_CLUSTER_DIR:-/tmp/flotilla-redis-cluster-${PORTS[0]}}

url() {
  local list=() p
  for p in "$@"; do list+=("redis://127.0.0.1:$p"); done
  local IFS=,
  echo "${list[*]}"
}

cluster_ok() { redis-cli -p "${PORTS[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  if cluster_ok; then
    echo "Redis Cluster already running on ${PORTS[*]}" >&2
    echo "REDIS_CLUSTER_URL=$(url "${PORTS[@]}")"
    return
  fi
  local p
  for p in "${PORTS[@]}"; do
    if port_busy "$p" || port_busy $((p + 10000)); then
      echo "port $p or $((p + 10000)) is taken; set REDIS_CLUSTER_PORTS to free ports" >&2
      exit 1
    fi
  done
  rm -rf "$DIR"
  mkdir -p "$DIR"
  for p in "${PORTS[@]}"; do
    redis-server --port "$p" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
      --cluster-enabled yes --cluster-config-file "$DIR/nodes-$p.conf" --cluster-node-timeout 2000 \
      --dir "$DIR" --pidfile "$DIR/redis-$p.pid" --logfile "$DIR/redis-$p.log"
  done
  for p in "${PORTS[@]}"; do
    for _ in $(seq 1 100); do redis-cli -p "$p" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  done
  local nodes=()
  for p in "${PORTS[@]}"; do nodes+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas "$REPLICAS" --cluster-yes >"$DIR/create.log" 2>&1 ||
    { cat "$DIR/create.log" >&2; exit 1; }
  for _ in $(seq 1 300); do
    local all=1
    for p in "${PORTS[@]}"; do
      redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || all=0
    done
    if [ "$all" -eq 1 ]; then
      echo "Redis Cluster ready on ${PORTS[*]} (config in $DIR)" >&2
      # The masters only: ioredis discovers the replicas from them.
      local masters=()
      mapfile -t masters < <(redis-cli -p "${PORTS[0]}" cluster nodes | awk '/master/ { split($2, a, "[:@]"); print a[2] }' | sort -n)
      echo "REDIS_CLUSTER_URL=$(url "${masters[@]}")"
      return
    fi
    sleep 0.1
  done
  echo "Redis Cluster on ${PORTS[*]} did not reach cluster_state:ok" >&2
  exit 1
}

stop() {
  local p
  for p in "${PORTS[@]}"; do
    if [ -f "$DIR/redis-$p.pid" ]; then
      kill "$(cat "$DIR/redis-$p.pid")" 2>/dev/null || true
    fi
  done
  for p in "${PORTS[@]}"; do
    for _ in $(seq 1 50); do port_busy "$p" || break; sleep 0.1; done
  done
  rm -rf "$DIR"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) if cluster_ok; then url "${PORTS[@]}"; fi ;;
*)
  echo "usage: $0 start|stop|url" >&2
  exit 2
  ;;
esac
