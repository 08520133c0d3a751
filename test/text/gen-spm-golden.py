#!/usr/bin/python3
"""Writes test/text/spm-golden.json: what the real SentencePiece library (Debian's
python3-sentencepiece 0.1.97, the version the fixtures were recorded with) makes of a corpus of
awkward strings with the tiny-xlmr model, and a sha256 over its normalisation of every code point.

Run from the repository root: /usr/bin/python3 test/text/gen-spm-golden.py
(apt-get install python3-sentencepiece). Only the slow XLM-R tokenizer's *chunk* step is covered
here (sp.encode on text without special tokens); special-token splitting is tested separately.
"""
import hashlib
import json
import random

import sentencepiece as spm

MODEL = 'test/fixtures/tiny-xlmr/text/sentencepiece.bpe.model'
sp = spm.SentencePieceProcessor(model_file=MODEL)


def fairseq_ids(text):
    # XLMRobertaTokenizer: spm id + 1, spm's unk (0) -> <unk> (3).
    return [i + 1 if i != 0 else 3 for i in sp.encode(text)]


HAND = [
    '', ' ', '   ', '\t\n', 'a', ' a', 'a ', '  a  b  ', 'a\u3000\u3000b', 'a\u00a0b', 'a\u200bb', 'a\u200db',
    'a\u2028b', 'a\ufeffb', 'a\u0001b', 'a\ufffdb', '\u00a8x', 'x\u00a8', 'e\u0301', 'ä\u0301', 'ﬁne', 'x²', '①②',
    'ＡＢＣ　ｄｏｇ', 'ｶﾞｷﾞ', '㍿', 'Å', 'Å', 'lll', 'blueacklll', '▁', '▁▁a▁', '_a', 'snow ☃☃☃ and 🐱 cat',
    '👩\u200d👩\u200d👧', '🐱🐱', 'a🐱b', '𠀀𠀁', 'ΟΔΟΣ', 'straße', 'İstanbul', 'mask <', '< s >', 'tab\ttab',
    'new\nline\r\nend', '\u0085x', '   lots\tof   extra \n whitespace   ',
]


def corpus():
    random.seed(20240601)
    vocab = [sp.id_to_piece(i).replace('\u2581', ' ') for i in range(3, sp.get_piece_size())]

    def rc():
        r = random.random()
        if r < 0.5:
            return chr(random.randint(0x20, 0x7E))
        if r < 0.7:
            return random.choice(' \t\n\u3000\u00a0\u200b')
        while True:
            cp = random.randint(1, 0x10FFFF) if r < 0.8 else random.randint(0x80, 0x3000)
            if not 0xD800 <= cp <= 0xDFFF:
                return chr(cp)

    out = [''.join(rc() for _ in range(random.randint(1, 80))) for _ in range(150)]
    out += [''.join(random.choice(vocab) for _ in range(random.randint(1, 60))) for _ in range(150)]
    return out


def codepoint_table_hash():
    """sha256 over '<hex cp>\\t<pieces joined>\\n' for 'a' + chr(cp) + 'b', every scalar value."""
    h = hashlib.sha256()
    for cp in range(1, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        joined = ''.join(sp.encode('a' + chr(cp) + 'b', out_type=str))
        h.update(('%x\t%s\n' % (cp, joined)).encode('utf-8'))
    return h.hexdigest()


cases = [{'text': t, 'pieces': sp.encode(t, out_type=str), 'ids': fairseq_ids(t)} for t in HAND + corpus()]
golden = {
    'generator': 'test/text/gen-spm-golden.py with sentencepiece %s' % spm.__version__,
    'model': MODEL,
    'codepoint_table_sha256': codepoint_table_hash(),
    'cases': cases,
}
with open('test/text/spm-golden.json', 'w', encoding='utf-8') as f:
    json.dump(golden, f, ensure_ascii=False, indent=0)
print(len(cases), 'cases')
