#!/usr/bin/env bash
# Issue 25 item 5: the 5-seed ablation with the baselines, at ablate's default (unsaturated) difficulty, with the
# missing-data robustness table. Run it on a quiet machine; see docs/ablation.md §6.
#
#   scripts/ablation-baselines.sh [output-folder]       # two processes side by side, one libtorch thread each
#   SEEDS=1,2 EXTRA="--epochs 4" scripts/ablation-baselines.sh runs/ab-small   # a reduced check of the pipeline
#
# Process a: Lrcmt TextOnly NoVisualAcousticStage MulT Tfn Lmf MagBert  (7 runs per seed)
# Process b: Lrcmt FullFineTuning (encoder LR grid 1e-5 3e-5 1e-4)        (4 runs per seed, full fine-tuning ~2x slower)
# LRCMT runs in both, so the two halves also check that repeated runs are bit-identical (docs/ablation.md §0.5).
# Each process writes results.csv, results-mmsa.csv, ablation.json, ablation.md, robustness.csv/.md and
# robustness-<variant>.png into its folder; once both have finished, `ablate --merge` writes the same files for all the
# variants into "$out/merged" (LRCMT compared with every other variant; the runs stay in a/ and b/).
# Estimated: ~4 h on 2 idle cores at the 20-epoch default, TFN the slowest run (see docs/ablation.md §6.5).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/ablation-baselines-$(date +%Y%m%d-%H%M%S)}
seeds=${SEEDS:-5}
rates=${RATES:-0,0.1,0.2,0.3,0.5,0.7}
extra=${EXTRA:-}

[ -n "${NO_BUILD:-}" ] || dotnet build -c Release src/LRCMT.Cli -v quiet -nologo >/dev/null
cli="dotnet src/LRCMT.Cli/bin/Release/net10.0/lrcmt.dll"
mkdir -p "$out"

# shellcheck disable=SC2086
$cli ablate --seeds "$seeds" --threads 1 --missing-rates "$rates" $extra \
  --variant Lrcmt TextOnly NoVisualAcousticStage MulT Tfn Lmf MagBert --output "$out/a" > "$out/a.log" 2>&1 &
a=$!
# shellcheck disable=SC2086
$cli ablate --seeds "$seeds" --threads 1 --missing-rates "$rates" $extra \
  --variant Lrcmt FullFineTuning --output "$out/b" > "$out/b.log" 2>&1 &
b=$!
status=0
wait "$a" || status=$?
wait "$b" || status=$?
echo "a: $out/a/ablation.md  b: $out/b/ablation.md  (exit $status)"
# One report for both halves; an interrupted half (exit 130) is merged with the seeds it finished.
if [ -f "$out/a/ablation.json" ] && [ -f "$out/b/ablation.json" ]; then
  $cli ablate --merge "$out/a" "$out/b" --output "$out/merged" --force > "$out/merged.log" 2>&1 || status=$?
  echo "merged: $out/merged/ablation.md  (see $out/merged.log)"
fi
exit "$status"
