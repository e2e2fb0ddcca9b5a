#!/usr/bin/env bash
# Packs LRCMT.Lib and the lrcmt tool into a local feed, installs the tool into a temporary tool path from that feed
# (as a user would from nuget.org), and runs --help, --version and a 1-epoch tiny-bert train / eval / predict through
# the installed tool. Prints the package sizes. Packing compresses libtorch once per platform: several minutes on 2 cores.
#   bash scripts/tool-smoke.sh                   # every runtime the tool declares (ToolPackageRuntimeIdentifiers), as released
#   RIDS="linux-x64" bash scripts/tool-smoke.sh  # only these runtimes (quicker; the platform this runs on must be among them)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
work=$(mktemp -d "${TMPDIR:-/tmp}/lrcmt-tool-smoke-XXXXXX")
trap 'rm -rf "$work"' EXIT
feed=$work/feed tools=$work/tools run=$work/run
# Without RIDS, exactly what `dotnet pack src/LRCMT.Cli -c Release` does: the runtimes the project declares.
declared=$(dotnet msbuild src/LRCMT.Cli -getProperty:ToolPackageRuntimeIdentifiers -nologo)
rids=${RIDS:-$declared}
rid_args=()
[ -n "${RIDS:-}" ] && rid_args=("-p:ToolPackageRuntimeIdentifiers=\"$RIDS\"")

echo "== pack (tool runtimes: $rids) -> $feed"
dotnet pack src/LRCMT.Lib -c Release -o "$feed" -v quiet -nologo
dotnet pack src/LRCMT.Cli -c Release -o "$feed" -v quiet -nologo "${rid_args[@]}"
version=$(dotnet msbuild src/LRCMT.Cli -getProperty:PackageVersion -nologo)
# The pointer package and one package per runtime, as dotnet tool install expects them.
for package in "LRCMT.Cli.$version.nupkg" $(echo "$rids" | tr ';' '\n' | sed "s/.*/LRCMT.Cli.&.$version.nupkg/"); do
  [ -f "$feed/$package" ] || { echo "missing package $package in $feed"; exit 1; }
done
for f in "$feed"/*.nupkg "$feed"/*.snupkg; do [ -e "$f" ] && printf '%10.1f MB  %s\n' "$(echo "$(stat -c %s "$f") / 1048576" | bc -l)" "$(basename "$f")"; done

echo "== dotnet tool install --tool-path $tools --add-source $feed LRCMT.Cli"
# A fresh NuGet cache folder so the install really comes from the local feed, not from an earlier install.
NUGET_PACKAGES=$work/nuget dotnet tool install --tool-path "$tools" --add-source "$feed" LRCMT.Cli
lrcmt=$tools/lrcmt

echo "== lrcmt --version"; "$lrcmt" --version
echo "== lrcmt --help"; "$lrcmt" --help
cat > "$work/tiny.json" <<'JSON'
{ "Data": { "MaxTextTokens": 16, "BatchSize": 8,
            "Controlled": { "TrainCount": 32, "ValidCount": 16, "TestCount": 16, "AcousticLength": 8, "VisualLength": 12 } },
  "Training": { "Epochs": 1 } }
JSON
encoder=tests/LRCMT.Lib.Tests/Fixtures/hf/tiny-bert
echo "== lrcmt train -c tiny.json --encoder $encoder --output run"
"$lrcmt" train -c "$work/tiny.json" --encoder "$encoder" --output "$run"
echo "== lrcmt eval run --threads 1 --batch-size 8"
"$lrcmt" eval "$run" --threads 1 --batch-size 8
echo "== lrcmt predict run --output predictions.csv"
"$lrcmt" predict "$run" --output "$work/predictions.csv"
head -3 "$work/predictions.csv"
rows=$(($(wc -l < "$work/predictions.csv") - 1))
[ "$rows" -eq 16 ] || { echo "expected 16 prediction rows, got $rows"; exit 1; }
echo "tool smoke test passed"
