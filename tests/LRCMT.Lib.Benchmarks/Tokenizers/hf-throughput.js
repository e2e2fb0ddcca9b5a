// Hugging Face's own tokenizers (Rust, npm `tokenizers`) on the benchmark's corpus, for TokenizerThroughputBenchmark.
// usage: node hf-throughput.js TOKENIZER.json LINES.jsonl RUNS IDS_OUT.jsonl
//   prints "MB/s <median over RUNS passes>" (UTF-8 bytes of the lines / seconds, one thread, one line per encode,
//   special tokens added) and writes the ids of each line, one JSON array a line, for the parity check.
// Install once: (cd tests/LRCMT.Lib.Benchmarks/Tokenizers && npm ci)
const fs = require('fs');
const { Tokenizer } = require('tokenizers');
const [tokenizerPath, linesPath, runsText, idsPath] = process.argv.slice(2);
const tok = Tokenizer.fromFile(tokenizerPath);
const lines = fs.readFileSync(linesPath, 'utf8').split('\n').filter(l => l.length).map(l => JSON.parse(l));
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l, 'utf8'), 0);
(async () => {
  let ids = [];
  const rates = [];
  for (let run = 0; run <= Number(runsText); run++) {
    const start = process.hrtime.bigint();
    ids = [];
    for (const l of lines) ids.push((await tok.encode(l)).getIds());
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (run > 0) rates.push(bytes / 1e6 / seconds); // run 0 warms up
  }
  rates.sort((a, b) => a - b);
  fs.writeFileSync(idsPath, ids.map(i => JSON.stringify(Array.from(i))).join('\n') + '\n');
  console.log('MB/s ' + rates[Math.floor(rates.length / 2)]);
})();
