#!/usr/bin/env bash
# A loopback cluster for the load tool's --server-cmd: N replicas (default 3) of the server on PORT+1..PORT+N and the
# gateway on PORT in front of them. The gateway replaces this shell (exec) and the replicas are its children, so the
# load tool's process-tree kill stops them all.
#   gateway-cluster.sh PORT MODEL_DIR ADAPTERS_DIR ROUTING_MODE [server config arguments...]
#   ROUTING_MODE: affinity | round-robin (Gateway:Routing:Mode); the rest goes to every replica (--Lora:MaxSlots 4 ...)
# Environment: GATEWAY_CLUSTER_REPLICAS (3), GATEWAY_CLUSTER_CONFIG (Release: the build whose dlls are run).
set -euo pipefail
port=$1 model=$2 adapters=$3 routing=$4
shift 4
replicas=${GATEWAY_CLUSTER_REPLICAS:-3}
config=${GATEWAY_CLUSTER_CONFIG:-Release}
server=src/InferenceHost/bin/$config/net10.0/InferenceHost.dll
gateway=src/InferenceHost.Gateway/bin/$config/net10.0/InferenceHost.Gateway.dll
for dll in "$server" "$gateway"; do
  [[ -f $dll ]] || { echo "gateway-cluster.sh: $dll not built (dotnet build -c $config ...)" >&2; exit 1; }
done

list=()
for ((i = 1; i <= replicas; i++)); do
  p=$((port + i))
  dotnet "$server" --Urls "http://127.0.0.1:$p" --Model:Path "$model" --Adapters:Directory "$adapters" "$@" &
  list+=("--Gateway:Replicas:$((i - 1))=http://127.0.0.1:$p")
done

# Every replica ready before the gateway starts, so no run begins on a partial ring.
for ((i = 1; i <= replicas; i++)); do
  for ((t = 0; t < 600; t++)); do
    curl -fsS -o /dev/null "http://127.0.0.1:$((port + i))/health/ready" 2>/dev/null && break
    sleep 0.5
  done
done

# Fast polls: the per-replica slot counts on the gateway's /metrics are at most 100 ms old.
exec dotnet "$gateway" --Urls "http://127.0.0.1:$port" "${list[@]}" --Gateway:Routing:Mode "$routing" --Gateway:LoadPollMilliseconds 100
