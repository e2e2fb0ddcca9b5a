#!/usr/bin/env python3
"""Writes corpus.jsonl: one JSON string per line (so control characters, CR and U+2028 survive).

Hand-written lines of what transcripts and hostile inputs contain, plus systematic lines built from
character classes (every ASCII symbol, odd whitespace, zero-width characters, combining marks...).
Deterministic: rerunning gives the same file.
"""
import json, random, os, warnings
warnings.simplefilter("ignore", DeprecationWarning)

HAND = r"""
(umm) i don't like it...
uh, i mean -- it was okay? not great.
[laughs] yeah yeah YEAH, that's what she said!!!
I'd've thought it'd be better; honestly it's meh.
2+2=4, and $5.99 is cheap
a<b>c^d`e|f~g
100% sure: 3.14159 * 2 = 6.28318 (approx.)
#hashtag @user_name snake_case_word kebab-case-word
email me at john.doe+spam@example.co.uk or jane_doe@uni.edu
https://www.example.com/path/to/page?query=a%20b&x=1#frag
http://localhost:8080/api/v1/items/42
C:\Users\someone\Documents\file.txt
/usr/local/bin/python3 --version
café naïve résumé coöperate façade jalapeño
Crème Brûlée à la mode, s'il vous plaît
Ångström Øresund Æsir Œuvre Straße
ÀÁÂÃÄÅàáâãäå ÈÉÊËèéêë ÌÍÎÏìíîï ÒÓÔÕÖòóôõö ÙÚÛÜùúûü Ññ Çç
İstanbul ışık ğüzel Şeker
Zürich München Köln Düsseldorf
São Paulo, Bogotá, Ciudad de México
Dvořák, Čapek, Škoda, Łódź, Gdańsk
ΕΛΛΗΝΙΚΆ ελληνικά Ωμέγα άλφα
Русский текст, Ёлка и ёж
我今天很高兴，因为天气很好。
这部电影真的太棒了！我非常喜欢。
你好，世界！「引号」『书名号』
全角标点：，。？！；：（）【】《》
ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ　１２３
日本語のテキスト、ひらがなとカタカナ。
東京は大きい都市です。
한국어 텍스트입니다. 안녕하세요!
감사합니다 정말 좋아요
हिन्दी भाषा में यह वाक्य है।
नमस्ते दुनिया
தமிழ் மொழி அழகானது
বাংলা ভাষা
ภาษาไทยไม่มีช่องว่าง
العربية لغة جميلة
עברית היא שפה
I love it 😀😃😄 so much 👍👍
family: 👨‍👩‍👧‍👦 and flags 🇺🇸🇫🇷 and skin 👋🏽
heart ❤️ vs ❤ and star ⭐ sparkles ✨
emoji in words: good😀bad, 🔥hot🔥
🥺 pleading face and 🫠 melting
a̐éö̲ combining marks stacked ḁ̸̖͓̃
e\u0301 vs é (decomposed vs precomposed)
Zalgo: Ḩ̵̨̛e̵̢͠l̶̡̛l̷̨̀o̵̡̕
tab\tseparated\tvalues
line one\nline two
carriage\rreturn
crlf\r\nend
null\u0000byte
bell\u0007 and escape\u001b[31m red
zero\u200bwidth\u200cnon\u200djoiner
word\u2060joiner and \ufeffbom
soft\u00adhyphen
nbsp\u00a0space and\u202fnarrow and\u2009thin
em\u2003space en\u2002space ideographic\u3000space
line\u2028separator para\u2029separator
next\u0085line
replacement\ufffdchar
private\ue000use
a very long word: supercalifragilisticexpialidocioussupercalifragilisticexpialidocioussupercalifragilisticexpialidocious
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé
ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé
😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀
MiXeD CaSe WoRdS aNd ALLCAPS and lowercase
McDonald's iPhone eBay YouTube JavaScript
The U.S.A. vs. the U.K. — a comparison… “quoted” ‘single’ «guillemets»
dashes: - – — ― and ellipsis … and bullet • and middot ·
math: ∑ ∫ √ ∞ ≠ ≤ ≥ ± × ÷ ∂ ∆ π µ
currency: € £ ¥ ₹ ₩ ₽ ¢ ₿ $ 
superscripts ² ³ ¹ and fractions ½ ¼ ¾ and ordinals 1st 2nd 3rd ª º
ligatures ﬁ ﬂ ﬀ and roman Ⅻ ⅻ and circled ① ② ③
™ ® © ℃ ℉ № ℗ ℠
arrows ← → ↑ ↓ ⇒ ⇐ ↔ and boxes ┌─┐ │ └─┘ ■ □ ▲
music ♪ ♫ ♬ and chess ♔ ♕ and cards ♠ ♣ ♥ ♦
[CLS] [SEP] [MASK] [PAD] [UNK] inside text
the [MASK] was good [SEP] second part
lower [mask] and [cls] are not special
[MASK][MASK]x[SEP]
so,um,like,whatever...right?!
"quotes" 'apostrophes' `backticks`
((nested (parens))) [[brackets]] {{braces}}
!!!???...,,,;;;:::
***bold*** ___under___ ~~strike~~
<html><body class="x">hi &amp; bye</body></html>
{"json": [1, 2.5, true, null], "key": "value"}
SELECT * FROM users WHERE id = 1; -- comment
x = y ** 2 + z // 3 - w % 4
phone: +1 (555) 123-4567 ext. 89
dates: 2023-01-15, 15/01/2023, Jan. 15th, 2023 at 3:45pm
times 12:30:45.678 and 9am-5pm
version 1.2.3-beta+build.456
IPv4 192.168.0.1 and IPv6 ::1 fe80::1ff:fe23:4567:890a
hex 0xDEADBEEF and binary 0b1010 and 1e-10 and 6.02e23
numbers 1,000,000 and 1.000.000,00 and 10k and ~5ish
I  have   many    spaces
   leading and trailing spaces   
	leading tab
trailing tab	
mixed \t \n \r whitespace
i'm gonna, y'know, kinda wanna... (pause) well
[inaudible] so the thing is — (crosstalk) — no wait
*sigh* ok fine. #blessed
LOL!!! OMG... WTF?! lmao rofl
it was soooooo goooood i cant even
don't won't can't shouldn't y'all ma'am o'clock rock'n'roll
hello-world foo/bar baz\qux a.b.c
C++ C# F# .NET Node.js Vue.js
naïve café 中文 mixed with English and 한국어
日本語とEnglishの混合テキスト
𠀀𠀁𠀂 CJK extension B and 㐀㐁 extension A
兀 CJK compatibility 豈 更 車
Ｈｅｌｌｏ！ full-width Latin
ＡＢＣ　ａｂｃ　０１２
゛゜ voiced marks and ー long vowel
Ǆ ǅ ǆ titlecase digraphs
ß ẞ ﬆ ŉ
Ω Å K (ohm, angstrom, kelvin signs)
ǰ ΐ ΰ and Ⓐ Ⓑ ⓐ
µ micro and μ mu
"""

def hand_lines():
    out = []
    for raw in HAND.strip("\n").split("\n"):
        # the hand lines spell escapes literally; decode \t \n \r \uXXXX
        out.append(raw.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in raw and not raw.startswith("C:") else raw)
    return out

def generated_lines():
    out = []
    # every printable ASCII symbol, alone and glued to words
    symbols = [chr(c) for c in range(33, 127) if not chr(c).isalnum()]
    out.append(" ".join(symbols))
    out.append("".join(symbols))
    for s in symbols:
        out.append(f"word{s}word {s}start end{s} {s}{s}")
    # every C0 control character and DEL between letters
    for c in list(range(0, 32)) + [127]:
        out.append(f"ctl{chr(c)}x and y{chr(c)}")
    # C1 controls
    out.append(" ".join(f"c1{chr(c)}z" for c in range(0x80, 0xA0)))
    # Unicode whitespace and zero-width / format characters
    for c in [0x1680, 0x180E, 0x2000, 0x2001, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x200A, 0x200E, 0x200F,
              0x202A, 0x202E, 0x205F, 0x2061, 0x2064, 0x206F, 0xFFF9, 0x1D173, 0xE0001, 0xE0041]:
        out.append(f"sp{chr(c)}ace and {chr(c)}lead")
    # Latin-1 and Latin Extended letters in words (accents to strip)
    rng = random.Random(11)
    letters = [chr(c) for c in range(0xC0, 0x250) if chr(c).isalpha()]
    for i in range(40):
        out.append(" ".join("".join(rng.choice(letters + list("abcdefghij")) for _ in range(rng.randint(2, 9))) for _ in range(6)))
    # combining marks after letters and alone
    marks = [chr(c) for c in range(0x300, 0x370)]
    for i in range(20):
        out.append(" ".join(rng.choice("aeiouncAEIOU") + "".join(rng.choice(marks) for _ in range(rng.randint(1, 3))) for _ in range(5)))
    out.append("lonely marks " + " ".join(marks[:30]))
    # Hangul syllables (decompose to jamo under NFD)
    for i in range(15):
        out.append(" ".join("".join(chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(rng.randint(1, 4))) for _ in range(5)))
    # Indic with vowel signs and viramas
    devanagari = [chr(c) for c in range(0x0905, 0x0940)] + [chr(c) for c in range(0x093E, 0x094E)]
    for i in range(10):
        out.append(" ".join("".join(rng.choice(devanagari) for _ in range(rng.randint(2, 6))) for _ in range(5)))
    # CJK ideographs mixed with Latin, kana and full-width punctuation
    cjk = [chr(c) for c in range(0x4E00, 0x4E00 + 400)] + list("，。！？、；：「」（）")
    for i in range(25):
        out.append("".join(rng.choice(cjk) for _ in range(rng.randint(3, 20))) + rng.choice([" ok", "abc", "123", "", " 한국", "カナ"]))
    # the edges of the CJK ranges HF isolates, and just outside them
    for c in [0x4DFF, 0x4E00, 0x9FFF, 0xA000, 0x33FF, 0x3400, 0x4DBF, 0xF8FF, 0xF900, 0xFAFF, 0xFB00,
              0x1FFFF, 0x20000, 0x2A6DF, 0x2A6E0, 0x2A700, 0x2B73F, 0x2B740, 0x2B81F, 0x2B820, 0x2B920, 0x2CEAF,
              0x2CEB0, 0x2F7FF, 0x2F800, 0x2FA1F, 0x2FA20, 0x30000, 0x3007, 0x3005, 0x2E80, 0x2F00, 0x31C0]:
        out.append(f"ab{chr(c)}cd {chr(c)}{chr(c)}")
    # emoji, alone, sequences, modifiers, in words
    emoji = ["😀", "👍🏿", "👩‍💻", "🏳️‍🌈", "🇯🇵", "1️⃣", "©️", "🤷‍♀️", "🧑🏽‍🚀", "😂", "💯", "🙏", "🤔", "🫶"]
    for i in range(20):
        out.append(" ".join(rng.choice(emoji) + rng.choice(["", "wow", "ok", "!", ""]) for _ in range(4)))
    # numbers, prices, percentages
    for i in range(20):
        out.append(f"it costs ${rng.randint(0, 9999)}.{rng.randint(0, 99):02d} or {rng.randint(1, 100)}% off, ~{rng.random():.3f}x, {rng.randint(-50, 50)}°C")
    # transcript-like lines
    fillers = ["(umm)", "(uh)", "[laughs]", "(pause)", "you know", "like", "i mean", "sort of", "...", "--"]
    words = "i don't like it the movie was really good bad acting plot boring great amazing terrible actually honestly".split()
    for i in range(60):
        parts = []
        for _ in range(rng.randint(4, 18)):
            w = rng.choice(words) if rng.random() > 0.25 else rng.choice(fillers)
            if rng.random() < 0.15: w = w.upper()
            if rng.random() < 0.1: w = w.capitalize()
            parts.append(w)
        line = " ".join(parts) + rng.choice([".", "...", "?", "!", "", " lol", " :)", " :-(", " ;D"])
        out.append(line)
    # long words around the 100-character limit, with and without continuation pieces
    for n in [98, 99, 100, 101, 102, 150]:
        out.append("x" * n)
        out.append(("ab" * n)[:n] + " short")
        out.append("un" + "believable" * (n // 10))
    # mixed case words
    for i in range(15):
        out.append(" ".join("".join(ch.upper() if rng.random() < 0.5 else ch for ch in rng.choice(words)) for _ in range(8)))
    return out

lines = [l for l in hand_lines() + generated_lines() if l.strip("\n") != ""]
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "corpus.jsonl"), "w", encoding="utf-8") as f:
    for l in lines:
        f.write(json.dumps(l, ensure_ascii=True) + "\n")
print(len(lines), "lines")

# unicode-edges.jsonl: "x<c>y" for each code point whose treatment depends on the Unicode version: marks, punctuation
# and control/format characters added after Unicode 8.0 (HF's category tables), the few whose category changed since,
# and a sample of each category Unicode 8.0 already had. Needs Debian's unicode-data (/usr/share/unicode).
def ucd(path):
    for line in open(path, encoding="utf-8"):
        line = line.split("#")[0].strip()
        if line: yield [f.strip() for f in line.split(";")]
ages = {}
for points, age in ucd("/usr/share/unicode/DerivedAge.txt"):
    lo, hi = (points.split("..") + [points])[:2]
    for c in range(int(lo, 16), int(hi, 16) + 1): ages[c] = tuple(int(x) for x in age.split("."))
cats = {int(f[0], 16): f[2] for f in ucd("/usr/share/unicode/UnicodeData.txt") if "First>" not in f[1] and "Last>" not in f[1]}
interesting = lambda cat: cat == "Mn" or cat.startswith("P") or cat in ("Cc", "Cf", "Co")
edges = sorted({c for c, cat in cats.items() if interesting(cat) and ages.get(c, (99,)) > (8, 0)}
               | {0x166D, 0x1734, 0x1885, 0x1886, 0xA9BD, 0x111C9, 0x1171E}
               | set(sorted(c for c, cat in cats.items() if interesting(cat) and ages.get(c, (99,)) <= (8, 0))[::7]))
with open(os.path.join(here, "unicode-edges.jsonl"), "w", encoding="utf-8") as f:
    for c in edges:
        f.write(json.dumps("x" + chr(c) + "y", ensure_ascii=True) + "\n")
print(len(edges), "unicode edge lines")
