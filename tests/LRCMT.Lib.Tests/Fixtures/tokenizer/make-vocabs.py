#!/usr/bin/env python3
"""Writes two small WordPiece vocabularies built from corpus.jsonl (deterministic):
vocab-cased.txt   - a cased vocabulary (capitalised words, accented letters kept), for lowercase=false;
vocab-chinese.txt - a bert-base-chinese-style vocabulary: single CJK characters (and ##-continuations),
                    ASCII letters/digits/punctuation and a few English words.
"""
import json, os, re, collections

here = os.path.dirname(os.path.abspath(__file__))
lines = [json.loads(l) for l in open(os.path.join(here, "corpus.jsonl"), encoding="utf-8")]
special = ["[PAD]"] + [f"[unused{i}]" for i in range(5)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]

def write(name, tokens):
    seen, out = set(), []
    for t in special + tokens:
        if t not in seen and t.strip() == t and t:
            seen.add(t); out.append(t)
    with open(os.path.join(here, name), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(name, len(out))

words = collections.Counter(w for l in lines for w in re.findall(r"\w+", l))
chars = sorted({c for l in lines for c in l if not c.isspace() and ord(c) >= 33})

# cased: frequent words as they are written, their pieces, every character alone and as a continuation
cased = [w for w, n in sorted(words.items(), key=lambda p: (-p[1], p[0])) if len(w) <= 12][:700]
pieces = ["##s", "##ed", "##ing", "##ly", "##er", "##est", "##n", "##t", "##able", "##ness", "##ment", "##ion"]
pieces += ["##" + w[i:] for w in cased[:150] for i in range(2, min(len(w), 5))]
write("vocab-cased.txt", cased + pieces + chars + ["##" + c for c in chars if c.isalnum()])

# chinese-style: CJK characters, ASCII, a few lower-case English words
cjk = [c for c in chars if 0x3000 <= ord(c) <= 0x9FFF or 0xF900 <= ord(c) <= 0xFFEF or ord(c) >= 0x20000]
ascii_chars = [chr(c) for c in range(33, 127)]
english = [w for w, n in sorted(words.items(), key=lambda p: (-p[1], p[0])) if w.isascii() and w.islower()][:200]
write("vocab-chinese.txt", ascii_chars + cjk + ["##" + c for c in cjk] + ["##" + c for c in ascii_chars if c.isalnum()] + english)
