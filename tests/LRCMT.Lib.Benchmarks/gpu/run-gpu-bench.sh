#!/usr/bin/env bash
# Runs ON THE GPU MACHINE (CUDA PyTorch 2.11 + PEFT 0.21, no .NET), from the repository root, after
# tests/LRCMT.Lib.Benchmarks/gpu/prepare-gpu.sh has packed .gpu-tests/ and .gpu-bench/ on the dev machine:
#   device run:  bash tests/LRCMT.Lib.Benchmarks/gpu/run-gpu-bench.sh      carry: [".gpu-tests", ".gpu-bench"]
# 1. the CUDA tests (xunit trait Category=GPU); 2. bert-base LoRA (r=8, query+value, batch 32 x 50 tokens)
# training step on CUDA, library vs PyTorch + PEFT from the same weights and batch, fp32 and bf16 base:
# step time (min/median of 20 after 5 warm-up) and peak GPU memory per process (nvidia-smi sampled every
# 50 ms: CUDA context + caching allocator, the same yardstick for both), ratios printed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${OUT:-/tmp/gpu-bench-out}; mkdir -p "$out"
work=$(mktemp -d)
steps=${STEPS:-20}

echo "== CUDA tests"
timeout 240 bash "$root/.gpu-tests/run.sh" -trait Category=GPU 2>&1 | tail -25 | tee "$out/cuda-tests.txt"

peak_of() { # peak_of LOGFILE PID -> MiB
  awk -F', ' -v pid="$2" '$1 == pid { if ($2 + 0 > m) m = $2 + 0 } END { print m + 0 }' "$1"
}
measure() { # measure LABEL COMMAND... -> prints RESULT line + "PEAK label MiB"
  local label=$1; shift
  "$@" > "$work/$label.out" 2> "$work/$label.err" &
  local pid=$!
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits -lms 50 > "$work/$label.smi" 2>/dev/null &
  local smi=$!
  wait "$pid"; local rc=$?
  kill "$smi" 2>/dev/null; wait "$smi" 2>/dev/null
  grep RESULT "$work/$label.out" || { echo "$label failed (rc $rc)"; tail -5 "$work/$label.err"; }
  echo "PEAK $label $(peak_of "$work/$label.smi" "$pid")"
}

echo "== bert-base LoRA step, library (TorchSharp) vs PyTorch + PEFT"
results="$out/gpu-bench.txt"; : > "$results"
for dtype in fp32 bf16; do
  # The first .NET run writes the weights and batch both sides start from.
  measure "dotnet-$dtype" timeout 240 bash "$root/.gpu-bench/run.sh" --gpu-lora-step "$work" "$dtype" "$steps" | tee -a "$results"
  measure "pytorch-$dtype" timeout 240 python3 "$here/peft_bench.py" "$work" --dtype "$dtype" --steps "$steps" | tee -a "$results"
done

echo "== ratios (library / PyTorch + PEFT; goals: step <= 0.9x, peak <= 1.0x)"
for dtype in fp32 bf16; do
  awk -v d="$dtype" '
    $1 == "RESULT" && $3 == d { minms[$2] = $4; med[$2] = $5 }
    $1 == "PEAK" && $2 == "dotnet-" d { peak["dotnet"] = $3 }
    $1 == "PEAK" && $2 == "pytorch-" d { peak["pytorch"] = $3 }
    END {
      if (minms["pytorch"] > 0) printf "%s: step min %.2f vs %.2f ms = %.2fx, median %.2fx; peak %d vs %d MiB = %.2fx\n", d,
        minms["dotnet"], minms["pytorch"], minms["dotnet"] / minms["pytorch"], med["dotnet"] / med["pytorch"],
        peak["dotnet"], peak["pytorch"], (peak["pytorch"] > 0 ? peak["dotnet"] / peak["pytorch"] : 0)
    }' "$results"
done | tee -a "$results"
rm -rf "$work"
