"""Records Pillow 9.4's verdict on mutated copies of the samples in this folder, for the differential
test test/image/real-mutations.test.ts (run after record.py: /usr/bin/python3 record-mutations.py).

Each case is a base file and a list of edits (offset, bytes removed, hex of bytes inserted), applied
in order; mutations.json keeps the edits and what Pillow makes of the result: its mode, size and the
sha256 of `convert('RGB').tobytes()` after load (TIFF orientation applied), or its error.
"""
import hashlib, io, json, os, random, struct
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
rnd = random.Random(20261130)
cases = []


def verdict(data):
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
        return {'mode': im.mode, 'size': list(im.size), 'rgb_sha256': hashlib.sha256(im.convert('RGB').tobytes()).hexdigest()}
    except Exception as err:
        return {'error': f'{type(err).__name__}: {err}'}


def add(base, edits):
    data = bytearray(open(base, 'rb').read())
    for at, remove, insert in edits:
        data[at:at + remove] = bytes.fromhex(insert)
    cases.append({'base': base, 'edits': edits, 'pillow': verdict(bytes(data))})


def pixel_start(name, b):
    if name.endswith('.bmp'):
        return struct.unpack('<L', b[10:14])[0]
    if name.endswith('.tif'):
        return 8
    return 15


def generic(name, count):
    b = open(name, 'rb').read()
    start = min(pixel_start(name, b), len(b) - 1)
    for k in range(count):
        kind = k % 4
        if kind == 0:
            edits = [[p, 1, '%02x' % rnd.randrange(256)] for p in sorted(rnd.randrange(start, len(b)) for _ in range(rnd.randint(1, 6)))]
        elif kind == 1:
            cut = rnd.randrange(start, len(b))
            edits = [[cut, len(b) - cut, '']]
        elif kind == 2:
            ins = rnd.choice([b'\x00\x02\x05\x01', b'\x00\x00', b'\x00\x03\x12\x34\x56', b'# c\n', b' 1 ', b'\r', b'#', b'0\n1', b'99999', b'\x00\x01'])
            edits = [[rnd.randrange(start, len(b)), 0, ins.hex()]]
        else:
            edits = [[rnd.randrange(0, min(start, 60) or 1), 1, '%02x' % rnd.randrange(256)]]
        add(name, edits)


def bmp_fields(name, count):
    b = open(name, 'rb').read()
    hs = struct.unpack('<L', b[14:18])[0]
    for _ in range(count):
        field = rnd.choice(['bits', 'comp', 'colors', 'offset', 'height', 'width', 'mask', 'pal'])
        if hs == 12 and field in ('bits', 'comp', 'colors', 'height', 'width'):
            field = 'offset'
        if field == 'bits': e = [28, 2, struct.pack('<H', rnd.choice([1, 2, 4, 8, 16, 24, 32, 0, 3])).hex()]
        elif field == 'comp': e = [30, 4, struct.pack('<L', rnd.choice([0, 1, 2, 3, 4, 5, 6])).hex()]
        elif field == 'colors': e = [46, 4, struct.pack('<L', rnd.choice([0, 1, 2, 3, 15, 16, 17, 255, 256, 257, 300])).hex()]
        elif field == 'offset':
            off = struct.unpack('<L', b[10:14])[0]
            e = [10, 4, struct.pack('<L', rnd.choice([14 + hs, 14 + hs + 4, 0, len(b) - 10, off + rnd.choice([-2, -1, 1, 2, 4])])).hex()]
        elif field == 'height': e = [22, 4, struct.pack('<l', rnd.choice([-1, -53, 1, 52, 54, 200, -200])).hex()]
        elif field == 'width': e = [18, 4, struct.pack('<l', rnd.choice([1, 74, 76, 3, 8])).hex()]
        elif field == 'mask' and len(b) > 70: e = [54 + rnd.randrange(16), 1, '%02x' % rnd.choice([0, 0xff, 0x1f, 0xe0, 0x7c])]
        else: e = [rnd.randrange(14 + hs, min(len(b), 14 + hs + 64)), 1, '%02x' % rnd.randrange(256)]
        add(name, [e])


def pnm_text(name, count):
    b = open(name, 'rb').read()
    for _ in range(count):
        kind = rnd.randrange(5)
        if kind == 0:
            nl = [i for i, c in enumerate(b[:200]) if c == 10]
            edits = [[p, 1, rnd.choice([b' ', b'\r', b'\t', b'\n#x\n', b' #c\r', b'\x0b']).hex()] for p in sorted(rnd.sample(nl, min(len(nl), rnd.randint(1, 3))), reverse=True)]
        elif kind == 1: edits = [[2, 0, rnd.choice([b'#a\n', b' ', b'\n\n', b'#']).hex()]]
        elif kind == 2: edits = [[rnd.randrange(2, min(len(b), 30)), 0, rnd.choice([b'#q\n', b'0', b'9', b' ', b'+', b'x']).hex()]]
        elif kind == 3: edits = [[len(b), 0, rnd.choice([b'\n', b' 1 2 3', b'#tail', b'x', b'\x00']).hex()]]
        else: edits = [[rnd.randrange(20, len(b)), 0, rnd.choice([b' 256 ', b'#c\n', b'\n#', b' 00007 ', b'2']).hex()]]
        add(name, edits)


def jpeg_segments(name, count):
    b = open(name, 'rb').read()
    i, segs = 2, []
    while b[i] == 0xFF:
        m = b[i + 1]; n = struct.unpack('>H', b[i + 2:i + 4])[0]; segs.append((i, i + 2 + n))
        if m == 0xDA: break
        i += 2 + n
    for k in range(count):
        a, z = rnd.choice(segs)
        kind = k % 5
        if kind == 0: edits = [[a, 0, bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 5))).hex()]]
        elif kind == 1: edits = [[rnd.randrange(a, z), 1, '%02x' % rnd.randrange(256)]]
        elif kind == 2: edits = [[a + 3, 1, '%02x' % ((b[a + 3] + rnd.choice([-3, -1, 1, 2, 7])) & 255)]]
        elif kind == 3: edits = [[a, 0, rnd.choice([b'\xff\xff', b'\xff\x00', b'\xff\xd0', b'\xff\x01', b'\x00\xff']).hex()]]
        else: edits = [[a, 0, rnd.choice([b'\xff\xe0\x00\x06JFIF', b'\xff\xee\x00\x08Adobe\x00', b'\xff\xe1\x00\x02', b'\xff\xfe\x00\x05abc']).hex()]]
        add(name, edits)


def tiff_directory(name, count):
    b = open(name, 'rb').read()
    big = b[2] == 43
    little = b[0] == 0x49
    ifd = struct.unpack('<Q', b[8:16])[0] if big else struct.unpack('<L' if little else '>L', b[4:8])[0]
    for _ in range(count):
        p = rnd.randrange(ifd, min(len(b), ifd + 200))
        add(name, [[p, 1, '%02x' % rnd.choice([0, 1, 2, 3, 4, 5, 8, 16, 255, rnd.randrange(256)])]])


for f in sorted(os.listdir('.')):
    if f.startswith('bmp_') and 'truncated' not in f and 'offset0' not in f:
        generic(f, 12)
        bmp_fields(f, 16)
    elif f.startswith('pnm_') and 'truncated' not in f and 'missing' not in f and 'maxval65535.pgm' not in f:
        generic(f, 12)
        pnm_text(f, 12)
    elif f.startswith('jpeg_') and f in ('jpeg_junk_before_dqt.jpg', 'jpeg_cmyk_truncated_app14.jpg', 'jpeg_progressive_junk.jpg'):
        jpeg_segments(f, 60)
    elif f in ('tiff_grey2.tif', 'tiff_1bit_miniswhite.tif', 'tiff_rgb16_mm.tif', 'tiff_orient6_l_lzw.tif', 'tiff_orient3_rgb_raw.tif',
               'bigtiff_l_lzw.tif', 'tiff_orient8_p_lzw.tif', 'tiff_orient5_rgba.tif', 'tiff_l_miniswhite.tif',
               'tiff_rgb_planar_71x53.tif', 'tiff_ycbcr_jpeg_q50_71x53.tif', 'tiff_rgba_planar_orient6.tif'):
        generic(f, 24)
        tiff_directory(f, 24)

json.dump({'pillow': Image.__version__, 'cases': cases}, open('mutations.json', 'w'), separators=(',', ':'))
print(len(cases), 'cases,', sum('error' in c['pillow'] for c in cases), 'refused by Pillow')
