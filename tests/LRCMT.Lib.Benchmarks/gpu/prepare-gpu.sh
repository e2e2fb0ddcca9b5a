#!/usr/bin/env bash
# Runs on the DEV machine (with .NET), from the repository root. Packs the CUDA tests and the benchmark program
# for the GPU machine with ../shared/gpu/prepare.sh (which always writes .gpu/), moving each result aside:
#   .gpu-tests/  LRCMT.Lib.Tests    .gpu-bench/  LRCMT.Lib.Benchmarks      (both git-ignored via .git/info/exclude)
# Then, on the GPU machine (device `run`, carry [".gpu-tests", ".gpu-bench"]):
#   bash tests/LRCMT.Lib.Benchmarks/gpu/run-gpu-bench.sh
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
prepare=${PREPARE:-../shared/gpu/prepare.sh}
exclude=$(git rev-parse --git-path info/exclude)
for d in /.gpu-tests/ /.gpu-bench/ /.gpu/; do grep -qx "$d" "$exclude" 2>/dev/null || echo "$d" >> "$exclude"; done
for pair in "tests/LRCMT.Lib.Tests:.gpu-tests" "tests/LRCMT.Lib.Benchmarks:.gpu-bench"; do
  project=${pair%%:*}; target=${pair##*:}
  bash "$prepare" "$project"
  rm -rf "$target" && mv .gpu "$target"
done
# One .NET runtime is enough: the benchmark's run.sh unpacks the tests' copy (keeps the carry under 64 MiB).
rm .gpu-bench/dotnet.tar.xz
sed -i 's|"\$here/dotnet.tar.xz"|"\$here/../.gpu-tests/dotnet.tar.xz"|' .gpu-bench/run.sh
grep -q '.gpu-tests/dotnet.tar.xz' .gpu-bench/run.sh
du -sh .gpu-tests .gpu-bench
