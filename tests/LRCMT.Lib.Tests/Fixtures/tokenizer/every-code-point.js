// One-off check data (not committed output): HF's ids for every code point c as "x<c>y" (BERT: MiniLM vocab uncased,
// and cased without clean_text/CJK split) and "x<c>y <c>1" (RoBERTa fixture), one "hex ids" line each, in $OUT_DIR.
// usage: OUT_DIR=/tmp/sweep FIXTURES_DIR=<this folder> node every-code-point.js MINILM_VOCAB.txt   (from a folder with npm `tokenizers`)
// then: LRCMT_TOKENIZER_SWEEP=/tmp/sweep dotnet test --project tests/LRCMT.Lib.Tests -- --filter-class "*EveryCodePointTests"
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');
const here = process.env.FIXTURES_DIR, out = process.env.OUT_DIR;
const vocab = {};
fs.readFileSync(process.argv[2], 'utf8').split('\n').forEach((w, i) => { w = w.replace(/\r$/, ''); if (w.length) vocab[w] = i; });
const bert = on => Tokenizer.fromString(JSON.stringify({
  version: '1.0', truncation: null, padding: null, added_tokens: [], post_processor: null, decoder: null,
  normalizer: { type: 'BertNormalizer', clean_text: on, handle_chinese_chars: on, strip_accents: null, lowercase: on },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
}));
const runs = [
  ['bert-uncased', bert(true), c => 'x' + c + 'y'],
  ['bert-raw', bert(false), c => 'x' + c + 'y'],
  ['roberta', Tokenizer.fromFile(path.join(here, '..', 'roberta', 'tokenizer.json')), c => 'x' + c + 'y ' + c + '1'],
];
(async () => {
  const cps = [];
  for (let c = 0; c < 0x110000; c++) if (c < 0xD800 || c > 0xDFFF) cps.push(c);
  for (const [name, tok, text] of runs) {
    const lines = [];
    for (let i = 0; i < cps.length; i += 5000) {
      const batch = await tok.encodeBatch(cps.slice(i, i + 5000).map(c => text(String.fromCodePoint(c))));
      batch.forEach((e, k) => lines.push(cps[i + k].toString(16) + ' ' + e.getIds().join(',')));
    }
    fs.writeFileSync(path.join(out, name + '.txt'), lines.join('\n') + '\n');
  }
})();
