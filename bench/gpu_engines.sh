#!/usr/bin/env bash
# Device check of issue 9: an engine's GPU build as a `command` replica, isolated by `medvault up` exactly
# as `make run` does it (a namespace of its own plays the host role: the machine's firewall, routes and
# sysctls stay untouched), and its streamed tokens/s straight vs through the gateway (target >= 0.98).
#
#   sudo bash bench/gpu_engines.sh --model /srv/models/x.gguf [--gpus 0] -- /opt/llama.cpp/bin/llama-server -ngl 999
#   sudo ENGINE="/opt/llama-gpu/bin/python -m llama_cpp.server --n_gpu_layers -1" bash bench/gpu_engines.sh --model M
#   sudo bash bench/gpu_engines.sh --cpu-dry-run     # the bundled model on the venv's CPU llama-cpp-python
#
# Without an engine, `llama-server` on PATH is used with -ngl 999. Other options: --runs N (pairs, 6),
# --max-tokens N (256), --port N (the gateway on 127.0.0.1, 18443), --read-only DIR (more to show in the
# sandbox), --health-path P, --startup-timeout S (900). The engine gets `--model {model} --host {host}
# --port {port}` appended unless its argv names {port}. MedVault is stopped (`medvault down`) whatever
# happens; results.json, the `up` log and MedVault's logs land in bench/results/gpu-engines-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
py=$repo/.venv/bin/python
medvault=$repo/.venv/bin/medvault
host_netns=medvault-gpubench prefix=mvgpu

model="" gpus=0 runs=6 max_tokens=256 port=18443 startup_timeout=900 cpu=0 engine=() config_args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --cpu-dry-run) cpu=1 gpus="" runs=4 max_tokens=128 startup_timeout=180 ;;
    --model) model=$2; shift ;;
    --gpus) gpus=$2; shift ;;
    --runs) runs=$2; shift ;;
    --max-tokens) max_tokens=$2; shift ;;
    --port) port=$2; shift ;;
    --startup-timeout) startup_timeout=$2; shift ;;
    --read-only | --health-path) config_args+=("$1" "$2"); shift ;;
    --) shift; engine=("$@"); break ;;
    *) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
  esac
  shift
done
if [[ $(id -u) -ne 0 ]]; then
  echo "run as root: medvault up isolates the engine in network namespaces (sudo bash $0 ...)" >&2
  exit 2
fi
if [[ ${#engine[@]} -eq 0 && $cpu -eq 1 ]]; then
  engine=("$py" -m llama_cpp.server --n_ctx 2048 --n_threads "$(nproc)" --interrupt_requests false)
  model=${model:-$("$py" -c 'from medvault.config import bundled_model_path as b; print(b())')}
elif [[ ${#engine[@]} -eq 0 && -n ${ENGINE:-} ]]; then
  read -r -a engine <<<"$ENGINE"
elif [[ ${#engine[@]} -eq 0 ]] && command -v llama-server >/dev/null; then
  engine=("$(command -v llama-server)" -ngl 999)
fi
if [[ ${#engine[@]} -eq 0 || -z $model ]]; then
  echo "need an engine (after --, or ENGINE=...) and --model PATH; or --cpu-dry-run" >&2
  exit 2
fi

out=$repo/bench/results/gpu-engines-$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d /tmp/medvault-gpubench.XXXXXX)
chmod 711 "$work"  # the gateway's user must traverse it to its data directory (nothing here is secret)
config=$work/medvault.toml up_log=$work/up.log
export MEDVAULT_DATA_DIR=$work/data MEDVAULT_ADMIN_KEY=mv-bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$out"
up_pid="" measure_pid=""
cleanup() {
  local status=$?
  set +e  # every step below runs, whatever the one before it did
  trap - EXIT
  trap '' INT TERM  # a second Ctrl-C must not cut the clean-up short
  [[ -n $measure_pid ]] && kill "$measure_pid" 2>/dev/null
  # SIGTERM is how `medvault down` stops it too; sent here as well because an `up` still starting has
  # not yet recorded itself for `down` to find. `down` then removes whatever a crashed run left behind.
  if [[ -n $up_pid ]] && kill -TERM "$up_pid" 2>/dev/null; then wait "$up_pid" 2>/dev/null || true; fi
  "$medvault" down --config "$config" || status=1
  cp -r "$up_log" "$MEDVAULT_DATA_DIR/logs" "$config" "$out/" 2>/dev/null || true
  rm -rf "$work"
  ip netns list | grep -E "^($host_netns|$prefix-[a-z]+)( |$)" >&2 && { echo "namespaces left behind" >&2; status=1; }
  echo "logs and results: $out" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$py" bench/gpu_engines.py config "$config" --model "$model" --gpus "$gpus" --prefix "$prefix" --port "$port" \
  --startup-timeout "$startup_timeout" "${config_args[@]}" -- "${engine[@]}"
cat "$config"
# Change control: these weights serve only once approved; this throwaway data directory approves them.
digest=$("$medvault" models list --json --config "$config" | "$py" -c 'import json,sys; print(json.load(sys.stdin)[0]["digest"])')
"$medvault" models approve bench-engine --digest "$digest" --reason "bench/gpu_engines.sh device check" --config "$config"

"$medvault" up --host-netns "$host_netns" --config "$config" >"$up_log" 2>&1 &
up_pid=$!
# In the background and waited for, so that a signal to this script reaches its trap at once.
"$py" bench/gpu_engines.py measure --config "$config" --up-pid "$up_pid" --up-log "$up_log" --out "$out" \
  --runs "$runs" --max-tokens "$max_tokens" --timeout "$((startup_timeout + 120))" &
measure_pid=$!
wait "$measure_pid"
