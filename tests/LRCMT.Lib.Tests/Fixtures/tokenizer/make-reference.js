// Reference ids for corpus.jsonl from Hugging Face's own tokenizers (Rust, npm `tokenizers`), written once and
// committed; the tests compare the library's tokenizers with them. Run through make-reference.sh.
// usage: node make-reference.js MINILM_VOCAB.txt
// The BERT pipeline is the one BertTokenizerFast builds from a vocab.txt: BertNormalizer, BertPreTokenizer,
// WordPiece, [CLS] $A [SEP], and the five special tokens declared as added tokens (matched in raw text).
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const here = process.env.FIXTURES_DIR;
const minilmVocab = process.argv[2];
const lines = fs.readFileSync(path.join(here, 'corpus.jsonl'), 'utf8').split('\n').filter(l => l.length).map(l => JSON.parse(l));

function readVocab(file) {
  const vocab = {};
  fs.readFileSync(file, 'utf8').split('\n').forEach((w, i) => { w = w.replace(/\r$/, ''); if (w.length) vocab[w] = i; });
  return vocab;
}

function bertSpec(vocab, normalizer, extra = {}) {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: specials.map(t => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
      .sort((a, b) => a.id - b.id),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true, ...normalizer },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
             { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    ...extra,
  };
}

const configs = [
  // name, vocab file, normalizer options, folder to save tokenizer.json into (or null)
  ['uncased', minilmVocab, {}, null],
  ['uncased-keep-accents', minilmVocab, { strip_accents: false }, null],
  ['cased', path.join(here, 'vocab-cased.txt'), { lowercase: false }, 'bert-cased'],
  ['chinese', path.join(here, 'vocab-chinese.txt'), { lowercase: false }, 'bert-chinese'],
  ['cased-raw', path.join(here, 'vocab-cased.txt'), { lowercase: false, clean_text: false, handle_chinese_chars: false }, null],
];

(async () => {
  fs.mkdirSync(path.join(here, 'reference'), { recursive: true });
  for (const [name, vocabFile, normalizer, folder] of configs) {
    const vocab = readVocab(vocabFile);
    const tok = Tokenizer.fromString(JSON.stringify(bertSpec(vocab, normalizer)));
    const out = [];
    for (const l of lines) out.push(JSON.stringify((await tok.encode(l)).getIds()));
    fs.writeFileSync(path.join(here, 'reference', name + '.jsonl'), out.join('\n') + '\n');
    if (folder) {
      fs.mkdirSync(path.join(here, folder), { recursive: true });
      tok.save(path.join(here, folder, 'tokenizer.json'));
    }
    console.log(name, lines.length, 'lines');
  }

  // Code points whose category differs between Unicode versions (unicode-edges.jsonl, see make-corpus.py).
  const edges = fs.readFileSync(path.join(here, 'unicode-edges.jsonl'), 'utf8').split('\n').filter(l => l.length).map(l => JSON.parse(l));
  for (const [name, vocabFile, normalizer] of configs.filter(c => c[0] === 'uncased' || c[0] === 'cased-raw')) {
    const tok = Tokenizer.fromString(JSON.stringify(bertSpec(readVocab(vocabFile), normalizer)));
    const out = [];
    for (const l of edges) out.push(JSON.stringify((await tok.encode(l)).getIds()));
    fs.writeFileSync(path.join(here, 'reference', name + '-unicode-edges.jsonl'), out.join('\n') + '\n');
  }

  // RoBERTa: byte-level BPE from ../roberta/vocab.json + merges.txt (learned by make-roberta.py), <s> $A </s>.
  const robertaDir = path.join(here, '..', 'roberta');
  const bpeVocab = JSON.parse(fs.readFileSync(path.join(robertaDir, 'vocab.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(robertaDir, 'merges.txt'), 'utf8').split('\n').filter(l => l.length && !l.startsWith('#version'));
  const robertaSpecials = ['<s>', '<pad>', '</s>', '<unk>', '<mask>'];
  const roberta = Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: robertaSpecials.map(t => ({ id: bpeVocab[t], content: t, single_word: false, lstrip: t === '<mask>', rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', bpeVocab['</s>']], cls: ['<s>', bpeVocab['<s>']], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab: bpeVocab, merges },
  }));
  const robertaIds = [];
  for (const l of lines.concat(['a <mask> b', 'x<mask>', '<s>hi</s>'])) robertaIds.push(JSON.stringify((await roberta.encode(l)).getIds()));
  fs.writeFileSync(path.join(here, 'reference', 'roberta.jsonl'), robertaIds.join('\n') + '\n');
  roberta.save(path.join(robertaDir, 'tokenizer.json'));
  console.log('roberta', robertaIds.length, 'lines');

  // Truncation and padding as HF does them: the first 60 lines as batches of 6, cut to 12 tokens, padded to the batch's longest.
  const uncased = Tokenizer.fromString(JSON.stringify(bertSpec(readVocab(minilmVocab), {})));
  uncased.setTruncation(12);
  uncased.setPadding({ padId: 0, padToken: '[PAD]' });
  const padded = [];
  for (let start = 0; start < 60; start += 6) {
    const batch = await uncased.encodeBatch(lines.slice(start, start + 6));
    for (const e of batch) padded.push(JSON.stringify({ ids: e.getIds(), attention_mask: e.getAttentionMask(), type_ids: e.getTypeIds() }));
  }
  fs.writeFileSync(path.join(here, 'reference', 'uncased-truncated-12-padded.jsonl'), padded.join('\n') + '\n');

  // A tokenizer.json that itself sets truncation (10) and padding (left, to a multiple of 8), saved by HF.
  const cased = Tokenizer.fromString(JSON.stringify(bertSpec(readVocab(path.join(here, 'vocab-cased.txt')), { lowercase: false })));
  cased.setTruncation(10);
  cased.setPadding({ padId: 0, padToken: '[PAD]', direction: 'left', padToMultipleOf: 8 });
  fs.mkdirSync(path.join(here, 'bert-cased-truncating'), { recursive: true });
  cased.save(path.join(here, 'bert-cased-truncating', 'tokenizer.json'));
  const leftPadded = [];
  for (let start = 0; start < 60; start += 6) {
    const batch = await cased.encodeBatch(lines.slice(start, start + 6));
    for (const e of batch) leftPadded.push(JSON.stringify({ ids: e.getIds(), attention_mask: e.getAttentionMask(), type_ids: e.getTypeIds() }));
  }
  fs.writeFileSync(path.join(here, 'reference', 'cased-json-truncated-10-left-padded-8.jsonl'), leftPadded.join('\n') + '\n');
})();
