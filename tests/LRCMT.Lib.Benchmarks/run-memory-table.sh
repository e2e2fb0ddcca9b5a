#!/usr/bin/env bash
# Re-runs the table of issue 28's goals 1-4 in docs/performance.md ("Issue 28: the goals, measured"), from the
# repository root, on a quiet machine:  bash tests/LRCMT.Lib.Benchmarks/run-memory-table.sh
# Every case runs in its own process, the cases interleaved round by round; each group prints medians and the load
# average before and after. Goal 1 needs /usr/bin/python3 with torch (LRCMT_PYTHON overrides it).
# ROUNDS (default 3) sets the rounds of every group; STEPS (default 5) the timed training steps per process.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-3}
steps=${STEPS:-5}
dotnet build -c Release tests/LRCMT.Lib.Benchmarks -v quiet -nologo
bench() { dotnet tests/LRCMT.Lib.Benchmarks/bin/Release/net10.0/LRCMT.Lib.Benchmarks.dll "$@"; }
LRCMT_PYTHON=${LRCMT_PYTHON:-/usr/bin/python3} LRCMT_USER_LOOP_ROUNDS=$rounds bench --filter user-loop --runs "$steps"
LRCMT_LORA_ROUNDS=$rounds bench --filter lora-base-memory --runs "$steps"
LRCMT_INFERENCE_ROUNDS=$rounds LRCMT_INFERENCE_SHAPES=8x64 bench --filter inference-memory --runs 20
