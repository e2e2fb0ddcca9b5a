#!/usr/bin/env bash
# Measures how far the README's default run moves across seeds, CPU kernel settings and libtorch thread counts.
#
#   scripts/measure-spread.sh [output-folder]            # 5 seeds x 2 kernel settings x 1 and 2 threads = 20 runs
#   SEEDS=3 EXTRA="--epochs 4 --train-size 500" scripts/measure-spread.sh runs/spread-small   # a reduced budget
#   THREADS=1 KERNELS=avx2 NO_BUILD=1 scripts/measure-spread.sh runs/spread   # one part (e.g. beside another job);
#   settings already measured in the folder are kept, so a last call with no variables prints the whole table
#
# Kernel settings: "default" (libtorch and oneDNN pick the best the CPU has) and "avx2"
# (ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2). Each setting is one `lrcmt train --seeds N --threads T` call,
# so every run keeps its folder (config.json records libtorch version, kernel variables, CPU flags, threads, seed).
# At the default budget one run takes ~1.5-2.5 min (1 thread) on these 2 cores: the whole grid is ~40 min. Runs one at a
# time; the results do not depend on the machine's load (threads are fixed), only the times do.
# Prints one row per setting (Has0_acc_2 mean, sample std, min, max over seeds, in %), each seed's range across the
# settings, and the overall spread (max - min over every run) that the reproducibility target (<= 3 points) is about.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/spread-$(date +%Y%m%d-%H%M%S)}
seeds=${SEEDS:-5}
threads_list=${THREADS:-"1 2"}
kernels_list=${KERNELS:-"default avx2"}
extra=${EXTRA:-}
metric=${METRIC:-Has0_acc_2}

[ -n "${NO_BUILD:-}" ] || dotnet build -c Release src/LRCMT.Cli -v quiet -nologo >/dev/null
cli="dotnet src/LRCMT.Cli/bin/Release/net10.0/lrcmt.dll"
mkdir -p "$out"

for kernel in $kernels_list; do
  for threads in $threads_list; do
    folder="$out/$kernel-threads$threads"
    if [ -f "$folder/results.csv" ]; then echo "keeping $folder (delete it to re-measure)"; continue; fi
    echo "== kernels=$kernel threads=$threads seeds=$seeds $extra"
    if [ "$kernel" = avx2 ]; then
      ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 $cli train --seeds "$seeds" --threads "$threads" $extra --output "$folder" >"$folder.log" 2>&1
    else
      env -u ATEN_CPU_CAPABILITY -u ONEDNN_MAX_CPU_ISA $cli train --seeds "$seeds" --threads "$threads" $extra --output "$folder" >"$folder.log" 2>&1
    fi
  done
done

# Per-seed rows of every setting's results.csv (Seed column numeric), metric converted to %.
awk -F, -v metric="$metric" '
  FNR == 1 { for (i = 1; i <= NF; i++) if ($i == metric) col = i; next }
  $2 ~ /^[0-9]+$/ {
    n = split(FILENAME, parts, "/"); setting = parts[n - 1]; v = 100 * $col
    key = setting; values[key] = values[key] " " v; count[key]++; sum[key] += v
    if (!(key in mn) || v < mn[key]) mn[key] = v; if (!(key in mx) || v > mx[key]) mx[key] = v
    sv[$2] = sv[$2] " " v; if (!($2 in smin) || v < smin[$2]) smin[$2] = v; if (!($2 in smax) || v > smax[$2]) smax[$2] = v
    all++; if (all == 1 || v < amin) amin = v; if (all == 1 || v > amax) amax = v
    order[key] = 1; seedorder[$2] = 1
  }
  END {
    printf "\n%s (%%) by setting\n%-20s %5s %8s %8s %8s %8s %8s   %s\n", metric, "setting", "seeds", "mean", "std", "min", "max", "spread", "values"
    for (k in order) {
      m = sum[k] / count[k]; ss = 0; split(substr(values[k], 2), xs, " ")
      for (i = 1; i <= count[k]; i++) ss += (xs[i] - m) ^ 2
      sd = count[k] > 1 ? sqrt(ss / (count[k] - 1)) : 0
      printf "%-20s %5d %8.2f %8.2f %8.2f %8.2f %8.2f  %s\n", k, count[k], m, sd, mn[k], mx[k], mx[k] - mn[k], values[k]
    }
    printf "\nsame seed across the settings\n%-6s %8s %8s %8s   %s\n", "seed", "min", "max", "spread", "values"
    for (s in seedorder) printf "%-6s %8.2f %8.2f %8.2f  %s\n", s, smin[s], smax[s], smax[s] - smin[s], sv[s]
    printf "\nall %d runs: min %.2f, max %.2f, spread (max - min) %.2f points (target <= 3)\n", all, amin, amax, amax - amin
  }' "$out"/*/results.csv
