"""Writes the real-world image samples in this folder and records upstream's preprocessing of each.

Run with Debian bookworm's python3-pil 9.4.0 and python3-torchvision 0.14 (the versions of the golden
fixtures): /usr/bin/python3 test/image/real/record.py

Pillow writes every sample it can write. Layouts Pillow cannot write (BigTIFF, big-endian TIFF, 2/4/16-bit
TIFF samples, BMP with RLE, bitfields, 16 bits or top-down rows, plain and non-255 PNM, JPEG with stray
bytes) are assembled by this script from Pillow-written data or from scratch, following the format
specifications. Whatever the writer, the golden data is what Pillow + torchvision make of the file.

goldens.json holds, per file, what Pillow reports (format, mode, size) and the sha256 of upstream's
`preprocess_val` output: the 224x224x3 uint8 image before ToTensor (`rgb224_sha256`) and the float32
little-endian CHW tensor (`pixel_values_sha256`); or the error upstream raises (`upstream_error`).
"""
import hashlib, io, json, os, struct, zlib
from PIL import Image
import torch
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)

# upstream: eva_clip/transform.py image_transform(224, is_train=False) == Visualized_BGE.preprocess_val
def _convert_to_rgb(image):
    return image.convert('RGB')
TO_RGB224 = transforms.Compose([
    transforms.Resize(224, interpolation=transforms.InterpolationMode.BICUBIC),
    transforms.CenterCrop(224),
    _convert_to_rgb,
])
PREPROCESS_VAL = transforms.Compose([TO_RGB224, transforms.ToTensor(), transforms.Normalize(mean=MEAN, std=STD)])


def photo(w, h):
    """Smooth gradients plus hard edges, asymmetric so that every transpose gives different pixels."""
    im = Image.new('RGB', (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            px[x, y] = ((x * 3 + y) % 256, (y * 2 + (x * x) // 97) % 256, ((x ^ y) * 5) % 256)
    return im


def smooth(w, h):
    """Low-detail content: compresses well, so large LZW samples stay small."""
    im = Image.new('RGB', (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            px[x, y] = ((x // 25) * 25 % 256, (y // 20) * 30 % 256, 80 if (x // 40 + y // 30) % 2 else 200)
    return im


def write(name, data):
    with open(name, 'wb') as f:
        f.write(data)


# ---------------------------------------------------------------- TIFF writer (uncompressed or given strips)
TYPE_FMT = {1: 'B', 2: 'B', 3: 'H', 4: 'L', 5: 'L', 7: 'B', 16: 'Q'}


def tiff_bytes(tags, strips, endian='<', big=False):
    """tags: {tag: (type, values)}; StripOffsets/StripByteCounts are filled in from `strips`."""
    e = endian
    off_type = 16 if big else 4
    tags = dict(tags)
    tags[279] = (off_type, [len(s) for s in strips])
    head = 16 if big else 8
    body = bytearray()
    offsets = []
    for s in strips:
        offsets.append(head + len(body))
        body += s
        if len(body) % 2:
            body += b'\0'
    tags[273] = (off_type, offsets)
    entries = []
    inline = 8 if big else 4
    blobs = bytearray()
    blob_base = head + len(body)
    for tag in sorted(tags):
        typ, values = tags[tag]
        fmt = TYPE_FMT[typ]
        raw = struct.pack(e + fmt * len(values), *values)
        count = len(values) // 2 if typ == 5 else len(values)
        if len(raw) <= inline:
            entries.append((tag, typ, count, raw.ljust(inline, b'\0'), None))
        else:
            entries.append((tag, typ, count, None, blob_base + len(blobs)))
            blobs += raw
            if len(blobs) % 2:
                blobs += b'\0'
    ifd_at = blob_base + len(blobs)
    out = bytearray()
    if big:
        out += (b'II' if e == '<' else b'MM') + struct.pack(e + 'HHHQ', 43, 8, 0, ifd_at)
    else:
        out += (b'II' if e == '<' else b'MM') + struct.pack(e + 'HL', 42, ifd_at)
    out += body + blobs
    out += struct.pack(e + ('Q' if big else 'H'), len(entries))
    for tag, typ, count, raw, at in entries:
        out += struct.pack(e + ('HHQ' if big else 'HHL'), tag, typ, count)
        out += raw if raw is not None else struct.pack(e + ('Q' if big else 'L'), at)
    out += struct.pack(e + ('Q' if big else 'L'), 0)
    return bytes(out)


def rewrap_tiff(src, endian='<', big=False, set_tags=None):
    """Re-writes a Pillow-written TIFF's first image (its strips unchanged) as BigTIFF and/or big-endian."""
    im = Image.open(src)
    t = im.tag_v2
    raw = open(src, 'rb').read()
    strips = [raw[o:o + n] for o, n in zip(t[273], t[279])]
    tags = {256: (4, [im.width]), 257: (4, [im.height]), 258: (3, list(t[258])), 259: (3, [t[259]]),
            262: (3, [t[262]]), 277: (3, [t.get(277, 1)]), 278: (4, [t.get(278, im.height)])}
    for tag in (274, 284, 317, 338, 339):
        if tag in t:
            v = t[tag]
            tags[tag] = (3, list(v) if isinstance(v, tuple) else [v])
    if 320 in t:
        tags[320] = (3, list(t[320]))
    tags.update(set_tags or {})
    return tiff_bytes(tags, strips, endian, big)


def tiff_from_samples(w, h, bits, photometric, samples, endian='<', extra=None, sample_format=None, big=False, fill_order=None):
    """Uncompressed one-strip TIFF from a flat list of sample values (packed MSB-first below 8 bits)."""
    spp = len(bits)
    b = bits[0]
    if b >= 8:
        fmt = {8: 'B', 16: 'H', 32: 'L'}[b]
        if sample_format == 3:
            fmt = 'f'
        elif sample_format == 2:
            fmt = {8: 'b', 16: 'h', 32: 'l'}[b]
        data = struct.pack(endian + fmt * len(samples), *samples)
    else:
        row = w * spp
        out = bytearray()
        for y in range(h):
            acc = 0
            n = 0
            for v in samples[y * row:(y + 1) * row]:
                acc = (acc << b) | v
                n += b
                if n == 8:
                    out.append(acc)
                    acc = n = 0
            if n:
                out.append(acc << (8 - n))
        data = bytes(out)
    tags = {256: (4, [w]), 257: (4, [h]), 258: (3, list(bits)), 259: (3, [1]), 262: (3, [photometric]),
            277: (3, [spp]), 278: (4, [h])}
    if extra is not None:
        tags[338] = (3, list(extra))
    if sample_format is not None:
        tags[339] = (3, [sample_format] * spp)
    if fill_order is not None:
        tags[266] = (3, [fill_order])
    return tiff_bytes(tags, [data], endian, big)


def rgba_photo(w, h):
    im = photo(w, h).convert('RGBA')
    im.putalpha(Image.linear_gradient('L').resize((w, h)))
    return im


def samples_of(im):
    return list(im.tobytes())


# ---------------------------------------------------------------- class 1: JPEG with stray bytes
def jpeg_segments(b):
    """(marker, start, end) of each segment before the scan data, and the index of the SOS segment."""
    i, segs = 2, []
    while True:
        m = b[i + 1]
        n = struct.unpack('>H', b[i + 2:i + 4])[0]
        segs.append((m, i, i + 2 + n))
        if m == 0xDA:
            return segs
        i += 2 + n


def jpeg_insert_before(b, marker, junk):
    for m, start, _ in jpeg_segments(b):
        if m == marker:
            return b[:start] + junk + b[start:]
    raise ValueError(hex(marker))


def make_jpegs():
    buf = io.BytesIO()
    photo(150, 110).save(buf, 'JPEG', quality=90)
    base = buf.getvalue()
    write('jpeg_junk_before_dqt.jpg', jpeg_insert_before(base, 0xDB, b'\x00\x00\x12\x34junk'))
    write('jpeg_junk_before_sof.jpg', jpeg_insert_before(base, 0xC0, b'\x0d\x0a'))
    write('jpeg_junk_before_sos.jpg', jpeg_insert_before(base, 0xDA, b'\x00'))
    write('jpeg_fill_ff_before_dht.jpg', jpeg_insert_before(base, 0xC4, b'\xff\xff\xff'))
    write('jpeg_stuffed_ff00_before_dqt.jpg', jpeg_insert_before(base, 0xDB, b'\xff\x00\x55'))
    # An Adobe APP14 cut short (5 of its 12 bytes), as some exporters write it.
    write('jpeg_truncated_app14.jpg', jpeg_insert_before(base, 0xDB, b'\xff\xee\x00\x07Adobe'))
    buf = io.BytesIO()
    photo(130, 100).convert('CMYK').save(buf, 'JPEG', quality=90)
    cmyk = buf.getvalue()
    for m, start, end in jpeg_segments(cmyk):
        if m == 0xEE:  # keep "Adobe" and the version only, drop flags and transform
            cut = cmyk[:start] + b'\xff\xee\x00\x09' + cmyk[start + 4:start + 11] + cmyk[end:]
            write('jpeg_cmyk_truncated_app14.jpg', cut)
            break
    # Markers Pillow's header parser refuses or passes over (found by differential fuzzing).
    write('jpeg_tem_marker.jpg', jpeg_insert_before(base, 0xDB, b'\xff\x01'))
    write('jpeg_short_jfif_after_sof.jpg', jpeg_insert_before(base, 0xC4, b'\xff\xe0\x00\x06JFIF'))
    write('jpeg_rst_before_dqt.jpg', jpeg_insert_before(base, 0xDB, b'\xff\xd0'))
    write('jpeg_bad_dqt.jpg', jpeg_insert_before(base, 0xC4, b'\xff\xdb\x00\x12\x00' + bytes(15)))
    # A stray byte after the APP0 segment of a progressive JPEG.
    buf = io.BytesIO()
    photo(160, 120).save(buf, 'JPEG', quality=80, progressive=True)
    write('jpeg_progressive_junk.jpg', jpeg_insert_before(buf.getvalue(), 0xDB, b'\x00'))


# ---------------------------------------------------------------- classes 2 and 3: BigTIFF, TIFF orientation
def make_tiffs():
    small = photo(60, 45)
    for o in range(1, 9):
        for mode, im in (('l', small.convert('L')), ('rgb', small)):
            im.save(f'tiff_orient{o}_{mode}_raw.tif', tiffinfo={274: o})
            im.save(f'tiff_orient{o}_{mode}_lzw.tif', compression='tiff_lzw', tiffinfo={274: o})
    big = smooth(400, 300)
    big.save('tiff_orient6_rgb_400x300_lzw.tif', compression='tiff_lzw', tiffinfo={274: 6})
    big.save('tiff_orient7_rgb_400x300_deflate.tif', compression='tiff_adobe_deflate', tiffinfo={274: 7})
    big.quantize(16).save('tiff_orient8_p_lzw.tif', compression='tiff_lzw', tiffinfo={274: 8})
    rgba = small.convert('RGBA')
    rgba.putalpha(Image.linear_gradient('L').resize(small.size))
    rgba.save('tiff_orient5_rgba.tif', tiffinfo={274: 5})
    small.convert('1').save('tiff_orient6_1bit.tif', tiffinfo={274: 6})
    small.convert('LA').save('tiff_orient3_la.tif', compression='tiff_lzw', tiffinfo={274: 3})
    # Short side exactly 224: torchvision skips the resize, so the crop box (from the stored size)
    # reaches past the transposed image.
    edge = smooth(300, 224)
    edge.save('tiff_orient6_rgb_300x224_lzw.tif', compression='tiff_lzw', tiffinfo={274: 6})
    edge.quantize(8).save('tiff_orient8_p_300x224_lzw.tif', compression='tiff_lzw', tiffinfo={274: 8})
    smooth(224, 250).convert('L').save('tiff_orient5_l_224x250_lzw.tif', compression='tiff_lzw', tiffinfo={274: 5})
    # Big-endian and BigTIFF versions of Pillow-written files.
    write('tiff_mm_orient3_rgb.tif', rewrap_tiff('tiff_orient3_rgb_lzw.tif', '>'))
    write('bigtiff_rgb_raw.tif', rewrap_tiff('tiff_orient1_rgb_raw.tif', '<', True))
    write('bigtiff_l_lzw.tif', rewrap_tiff('tiff_orient1_l_lzw.tif', '<', True))
    write('bigtiff_mm_rgb_lzw.tif', rewrap_tiff('tiff_orient1_rgb_lzw.tif', '>', True))
    write('bigtiff_orient6_rgb_400x300_lzw.tif', rewrap_tiff('tiff_orient6_rgb_400x300_lzw.tif', '<', True))
    write('bigtiff_p_lzw.tif', rewrap_tiff('tiff_orient8_p_lzw.tif', '<', True, {274: (3, [1])}))


# ---------------------------------------------------------------- class 4: TIFF sample layouts
def make_tiff_variants():
    w, h = 70, 50
    grey = smooth(w, h).convert('L')
    g = samples_of(grey)
    write('tiff_grey2.tif', tiff_from_samples(w, h, (2,), 1, [v >> 6 for v in g]))
    write('tiff_grey2_miniswhite.tif', tiff_from_samples(w, h, (2,), 0, [v >> 6 for v in g]))
    write('tiff_grey4.tif', tiff_from_samples(w, h, (4,), 1, [v >> 4 for v in g]))
    write('tiff_grey4_miniswhite_mm.tif', tiff_from_samples(w, h, (4,), 0, [v >> 4 for v in g], '>'))
    write('tiff_1bit_miniswhite.tif', tiff_from_samples(w, h, (1,), 0, [1 if v > 120 else 0 for v in g]))
    write('tiff_l_miniswhite.tif', tiff_from_samples(w, h, (8,), 0, g))
    rgb = samples_of(photo(w, h))
    wide = [v * 256 + (i * 37) % 256 for i, v in enumerate(rgb)]  # low bytes vary: MSB vs rounding differ
    write('tiff_rgb16.tif', tiff_from_samples(w, h, (16,) * 3, 2, wide))
    write('tiff_rgb16_mm.tif', tiff_from_samples(w, h, (16,) * 3, 2, wide, '>'))
    rgba16 = []
    for i in range(w * h):
        rgba16 += wide[i * 3:i * 3 + 3] + [(i % w) * 65535 // w]
    write('tiff_rgba16.tif', tiff_from_samples(w, h, (16,) * 4, 2, rgba16, extra=[2]))
    write('tiff_rgba16_assoc.tif', tiff_from_samples(w, h, (16,) * 4, 2, rgba16, extra=[1]))
    # Associated (premultiplied) alpha: colour samples never above alpha, as a real writer stores them,
    # plus a few that are (Pillow clips them).
    assoc = []
    for i in range(w * h):
        a = (i % w) * 255 // (w - 1)
        assoc += [rgb[i * 3] * a // 255, rgb[i * 3 + 1] * a // 255, min(255, rgb[i * 3 + 2] * a // 255 + (i % 3)), a]
    write('tiff_rgba_assoc.tif', tiff_from_samples(w, h, (8,) * 4, 2, assoc, extra=[1]))
    write('tiff_la_assoc.tif', tiff_from_samples(w, h, (8, 8), 1, [v for i in range(w * h) for v in (g[i], (i % w) * 3)], extra=[1]))
    write('tiff_i16_mm.tif', tiff_from_samples(w, h, (16,), 1, [v * 200 for v in g], '>'))
    Image.frombytes('I;16', (w, h), struct.pack('<' + 'H' * (w * h), *[v * 200 for v in g])).save('tiff_i16.tif')
    grey.convert('F').save('tiff_f32.tif')
    grey.convert('I').save('tiff_i32s.tif')
    write('tiff_i16s.tif', tiff_from_samples(w, h, (16,), 1, [v - 128 for v in g], sample_format=2))
    write('tiff_i8s.tif', tiff_from_samples(w, h, (8,), 1, [v - 128 for v in g], sample_format=2))
    photo(w, h).convert('LAB').save('tiff_lab.tif')
    pa = photo(w, h).quantize(64).convert('PA')
    pa.putalpha(Image.linear_gradient('L').resize((w, h)))
    pa.save('tiff_pa.tif')
    write('tiff_rgb_planar.tif', tiff_bytes({256: (4, [w]), 257: (4, [h]), 258: (3, [8, 8, 8]), 259: (3, [1]), 262: (3, [2]),
                                             277: (3, [3]), 278: (4, [h]), 284: (3, [2])},
                                            [bytes(rgb[c::3]) for c in range(3)]))
    photo(w, h).save('tiff_ycbcr_jpeg.tif', compression='jpeg')
    photo(71, 53).save('tiff_ycbcr_jpeg_q50_71x53.tif', compression='jpeg', quality=50)
    photo(300, 230).save('tiff_ycbcr_jpeg_orient8_300x230.tif', compression='jpeg', quality=90, tiffinfo={274: 8})
    photo(71, 53).convert('L').save('tiff_l_jpeg_71x53.tif', compression='jpeg')
    corrupt = bytearray(open('tiff_ycbcr_jpeg_q50_71x53.tif', 'rb').read())  # bit errors in the JPEG data
    for at, v in ((154, 0x7b), (220, 0x6c), (459, 0x17), (639, 0xae), (950, 0xb1), (1144, 0x2d)):
        corrupt[at] = v
    write('tiff_ycbcr_jpeg_corrupt.tif', bytes(corrupt))
    photo(w, h).convert('YCbCr').save('tiff_ycbcr_raw.tif')
    photo(w, h).convert('CMYK').save('tiff_cmyk_jpeg.tif', compression='jpeg')
    for name, im, orient in (('tiff_rgb_planar_71x53.tif', photo(71, 53), 1), ('tiff_rgba_planar_orient6.tif', rgba_photo(w, h), 6),
                             ('tiff_la_planar.tif', rgba_photo(w, h).convert('LA'), 1)):
        bands = im.split()
        spp = len(bands)
        tags = {256: (4, [im.width]), 257: (4, [im.height]), 258: (3, [8] * spp), 259: (3, [1]), 262: (3, [2 if spp > 2 else 1]),
                277: (3, [spp]), 278: (4, [im.height]), 284: (3, [2]), 274: (3, [orient])}
        if spp in (2, 4):
            tags[338] = (3, [2])
        write(name, tiff_bytes(tags, [band.tobytes() for band in bands]))
    # Damage that libtiff tolerates but Pillow does not: a colour map cut by the end of the file,
    # strip offsets that outnumber the strips and point past the end, pixel data cut short.
    write('tiff_p_colormap_cut.tif', open('tiff_orient8_p_lzw.tif', 'rb').read()[:-100])
    raw = open('tiff_orient1_rgb_raw.tif', 'rb').read()
    strips = [raw[o:o + n] for o, n in zip(Image.open('tiff_orient1_rgb_raw.tif').tag_v2[273], Image.open('tiff_orient1_rgb_raw.tif').tag_v2[279])]
    t = tiff_bytes({256: (4, [60]), 257: (4, [45]), 258: (3, [8, 8, 8]), 259: (3, [1]), 262: (3, [2]), 277: (3, [3]), 278: (4, [45])}, strips)
    ifd = struct.unpack('<L', t[4:8])[0]
    n = struct.unpack('<H', t[ifd:ifd + 2])[0]
    for e in range(n):  # StripOffsets: count 1 -> 3, the values then read from offset 8 (pixel bytes)
        at = ifd + 2 + e * 12
        if struct.unpack('<H', t[at:at + 2])[0] == 273:
            t = t[:at + 4] + struct.pack('<L', 3) + t[at + 8:]
    write('tiff_strip_offsets_past_end.tif', t)
    write('tiff_truncated_pixels.tif', raw[:-500])


# ---------------------------------------------------------------- class 5: BMP and PNM
def bmp_bytes(w, h, bits, pixel_data, palette=(), header=40, compression=0, masks=None, top_down=False,
              colors_used=0, offset=None):
    pal_entry = 3 if header == 12 else 4
    pal = b''.join(bytes((b, g, r)) + (b'\0' if pal_entry == 4 else b'') for r, g, b in palette)
    if header == 12:
        info = struct.pack('<LHHHH', 12, w, h, 1, bits)
    else:
        info = struct.pack('<LllHHLLllLL', header, w, -h if top_down else h, 1, bits, compression, len(pixel_data),
                           2835, 2835, colors_used, 0)
        if header >= 52:
            m = list(masks or (0, 0, 0, 0)) + [0] * 4
            info += struct.pack('<LLLL', *m[:4])
            info = info.ljust(header, b'\0')
            if header >= 108:
                info = info[:56] + b'BGRs' + info[60:]
    after = struct.pack('<LLL', *masks[:3]) if header == 40 and compression == 3 else b''
    start = 14 + len(info) + len(after) + len(pal)
    off = start if offset is None else offset
    size = start + len(pixel_data)
    return b'BM' + struct.pack('<LHHL', size, 0, 0, off) + info + after + pal + pixel_data


def rows_packed(w, h, bits, values, top_down=False):
    """values: row-major, top row first; returns BMP row order, each row padded to 4 bytes."""
    rows = []
    for y in range(h):
        r = values[y * w:(y + 1) * w]
        if bits == 24:
            row = b''.join(bytes(v) for v in r)
        elif bits in (16, 32):
            row = b''.join(struct.pack('<H' if bits == 16 else '<L', v) for v in r)
        else:
            acc = bytearray()
            cur = n = 0
            for v in r:
                cur = (cur << bits) | v
                n += bits
                if n == 8:
                    acc.append(cur)
                    cur = n = 0
            if n:
                acc.append(cur << (8 - n))
            row = bytes(acc)
        rows.append(row + b'\0' * (-len(row) % 4))
    if not top_down:
        rows.reverse()
    return b''.join(rows)


def rle8_rows(w, h, idx, delta=False):
    out = bytearray()
    for y in reversed(range(h)):
        r = idx[y * w:(y + 1) * w]
        x = 0
        while x < w:
            run = 1
            while x + run < w and run < 255 and r[x + run] == r[x]:
                run += 1
            if run >= 3 or w - x < 3:
                out += bytes((run, r[x]))
                x += run
            else:
                n = 3
                while x + n < w and n < 40 and not (x + n + 2 < w and r[x + n] == r[x + n + 1] == r[x + n + 2]):
                    n += 1
                out += bytes((0, n)) + bytes(r[x:x + n]) + (b'\0' if n % 2 else b'')
                x += n
        out += b'\0\0'
        if delta and y == h // 2:
            out += b'\0\x02\x03\x00'  # a delta: Pillow 9.4 reads two more bytes as its offsets
    out += b'\0\x01'
    return bytes(out)


def rle4_rows(w, h, idx):
    out = bytearray()
    for y in reversed(range(h)):
        r = idx[y * w:(y + 1) * w]
        x = 0
        while x < w:
            if x + 4 <= w and r[x] != r[x + 1] and (x // 4) % 3 == 1:
                n = 4 if (x // 4) % 2 else 3  # absolute runs, one of odd length
                n = min(n, w - x)
                vals = list(r[x:x + n]) + [0] * (n % 2)
                packed = bytes((vals[k] << 4) | vals[k + 1] for k in range(0, len(vals), 2))
                out += bytes((0, n)) + packed + (b'\0' if len(packed) % 2 else b'')
                x += n
            else:
                run = min(w - x, 6)
                out += bytes((run, (r[x] << 4) | r[min(x + 1, w - 1)]))
                x += run
        out += b'\0\0'
    out += b'\0\x01'
    return bytes(out)


def make_bmps():
    w, h = 75, 53
    im = photo(w, h)
    im.save('bmp_rgb24.bmp')
    im.convert('L').save('bmp_l8.bmp')
    im.convert('1').save('bmp_1bit.bmp')
    im.quantize(200).save('bmp_p8.bmp')
    rgba = im.convert('RGBA')
    rgba.putalpha(Image.linear_gradient('L').resize((w, h)))
    rgba.save('bmp_bgra32_bi_rgb.bmp')  # Pillow writes 32-bit BI_RGB: it reads it back as RGB
    rgb = list(im.getdata())
    bgr = [(b, g, r) for r, g, b in rgb]
    write('bmp_rgb24_top_down.bmp', bmp_bytes(w, h, 24, rows_packed(w, h, 24, bgr, True), top_down=True))
    write('bmp_rgb24_v5.bmp', bmp_bytes(w, h, 24, rows_packed(w, h, 24, bgr), header=124))
    p16 = im.quantize(16)
    pal16 = p16.getpalette()[:48]
    pal16 = [tuple(pal16[i:i + 3]) for i in range(0, 48, 3)]
    i16 = list(p16.getdata())
    write('bmp_p4.bmp', bmp_bytes(w, h, 4, rows_packed(w, h, 4, i16), pal16))
    write('bmp_p4_rle4.bmp', bmp_bytes(w, h, 4, rle4_rows(w, h, i16), pal16, compression=2))
    p2 = [(200, 30, 40), (20, 90, 250)]
    write('bmp_1bit_colour.bmp', bmp_bytes(w, h, 1, rows_packed(w, h, 1, [v & 1 for v in i16]), p2))
    write('bmp_1bit_os2.bmp', bmp_bytes(w, h, 1, rows_packed(w, h, 1, [(v >> 1) & 1 for v in i16]), p2, header=12))
    p200 = im.quantize(200)
    pal200 = p200.getpalette()[:600]
    pal200 = [tuple(pal200[i:i + 3]) for i in range(0, 600, 3)]
    i200 = list(p200.getdata())
    write('bmp_p8_rle8.bmp', bmp_bytes(w, h, 8, rle8_rows(w, h, i200), pal200, compression=1))
    write('bmp_p8_rle8_delta.bmp', bmp_bytes(w, h, 8, rle8_rows(w, h, i200, delta=True), pal200, compression=1))
    write('bmp_p8_os2.bmp', bmp_bytes(w, h, 8, rows_packed(w, h, 8, i200), pal200, header=12))
    # 8-bit with a 16-entry palette and indices beyond it (Pillow shows grey i for index i there).
    write('bmp_p8_short_palette.bmp', bmp_bytes(w, h, 8, rows_packed(w, h, 8, [v % 40 for v in i200]), pal16, colors_used=16))
    grey16 = [(i, i, i) for i in range(16)]  # an identity grey palette: Pillow opens mode L
    write('bmp_l8_grey_palette16.bmp', bmp_bytes(w, h, 8, rows_packed(w, h, 8, i16), grey16, colors_used=16))
    grey = list(im.convert('L').getdata())
    write('bmp_l8_rle8.bmp', bmp_bytes(w, h, 8, rle8_rows(w, h, grey), [(i, i, i) for i in range(256)], compression=1))
    v555 = [((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3) | ((i & 1) << 15) for i, (r, g, b) in enumerate(rgb)]
    v565 = [((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3) for r, g, b in rgb]
    write('bmp_rgb16_555.bmp', bmp_bytes(w, h, 16, rows_packed(w, h, 16, v555)))
    write('bmp_rgb16_565_bitfields.bmp', bmp_bytes(w, h, 16, rows_packed(w, h, 16, v565), compression=3, masks=(0xF800, 0x7E0, 0x1F)))
    write('bmp_rgb16_555_bitfields_v4.bmp', bmp_bytes(w, h, 16, rows_packed(w, h, 16, v555), header=108, compression=3, masks=(0x7C00, 0x3E0, 0x1F, 0)))
    alpha = list(rgba.getdata())
    bgra = [(a << 24) | (r << 16) | (g << 8) | b for r, g, b, a in alpha]
    rgba_le = [(a << 24) | (b << 16) | (g << 8) | r for r, g, b, a in alpha]
    write('bmp_bgra32_bitfields_v4.bmp', bmp_bytes(w, h, 32, rows_packed(w, h, 32, bgra), header=108, compression=3, masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000)))
    write('bmp_rgba32_bitfields_v5_top_down.bmp', bmp_bytes(w, h, 32, rows_packed(w, h, 32, rgba_le, True), header=124, compression=3, masks=(0xFF, 0xFF00, 0xFF0000, 0xFF000000), top_down=True))
    write('bmp_bgrx32_bitfields.bmp', bmp_bytes(w, h, 32, rows_packed(w, h, 32, bgra), compression=3, masks=(0xFF0000, 0xFF00, 0xFF)))
    write('bmp_rgb16_bad_bitfields.bmp', bmp_bytes(w, h, 16, rows_packed(w, h, 16, v565), compression=3, masks=(0xF00, 0xF0, 0xF)))
    write('bmp_truncated_pixels.bmp', open('bmp_rgb24.bmp', 'rb').read()[:-300])
    # A pixel offset of 0: Pillow reads the pixels from where its header reading stopped.
    for src in ('bmp_p4.bmp', 'bmp_rgb16_565_bitfields.bmp', 'bmp_p8_rle8.bmp'):
        b = bytearray(open(src, 'rb').read())
        b[10:14] = b'\0\0\0\0'
        write(src.replace('.bmp', '_offset0.bmp'), bytes(b))


def make_pnms():
    w, h = 64, 47
    im = photo(w, h)
    im.save('pnm_p6.ppm')
    im.convert('L').save('pnm_p5.pgm')
    im.convert('1').save('pnm_p4.pbm')
    grey = list(im.convert('L').getdata())
    rgb = [v for p in im.getdata() for v in p]
    bits = [1 if v < 128 else 0 for v in grey]
    lines = ['P1', '# plain bitmap', f'{w} {h}'] + [''.join(str(b) for b in bits[y * w:(y + 1) * w]) for y in range(h)]
    write('pnm_p1.pbm', ('\n'.join(lines) + '\n').encode())
    lines = ['P2', f'{w} {h}', '# comment between header tokens', '255'] + [' '.join(map(str, grey[y * w:(y + 1) * w])) for y in range(h)]
    write('pnm_p2.pgm', ('\n'.join(lines) + '\n').encode())
    lines = ['P3', f'{w} {h} 1000'] + [' '.join(str(v * 1000 // 255) for v in rgb[y * w * 3:(y + 1) * w * 3]) for y in range(h)]
    write('pnm_p3_maxval1000.ppm', ('\n'.join(lines) + '\n').encode())
    write('pnm_p5_maxval100.pgm', f'P5\n{w} {h}\n100\n'.encode() + bytes(v * 100 // 255 for v in grey))
    write('pnm_p6_maxval1023.ppm', f'P6 {w} {h} 1023\n'.encode() + struct.pack('>' + 'H' * len(rgb), *[(v * 1023 // 255) ^ (i & 1) for i, v in enumerate(rgb)]))
    write('pnm_p6_maxval65535.ppm', f'P6\n{w} {h}\n65535\n'.encode() + struct.pack('>' + 'H' * len(rgb), *[v * 257 ^ (i * 31 % 256) for i, v in enumerate(rgb)]))
    write('pnm_p5_maxval65535.pgm', f'P5\n{w} {h}\n65535\n'.encode() + struct.pack('>' + 'H' * len(grey), *[v * 200 for v in grey]))
    write('pnm_p6_truncated.ppm', open('pnm_p6.ppm', 'rb').read()[:-100])
    # Plain data missing its last samples: Pillow 9.4 repeats the last one when no newline follows it.
    short = ' '.join(map(str, grey[:-30]))
    write('pnm_p2_missing_samples_no_newline.pgm', f'P2\n{w} {h}\n255\n{short}'.encode())
    write('pnm_p2_missing_samples.pgm', f'P2\n{w} {h}\n255\n{short}\n'.encode())


def make_others():
    im = photo(40, 30)
    im.save('other.ico')
    im.save('other.tga')
    im.save('other.pcx')
    im.save('other.sgi')
    buf = io.BytesIO()
    photo(60, 45).save(buf, 'PNG')
    png = buf.getvalue()
    write('png_plain.png', png)
    write('png_no_iend.png', png[:-12])
    write('png_iend_cut.png', png[:-4])
    write('png_truncated_pixels.png', png[:len(png) // 2])

    def chunk(kind, body):
        return struct.pack('>L', len(body)) + kind + body + struct.pack('>L', zlib.crc32(kind + body))
    idat = png.index(b'IDAT') - 4
    # Broken metadata only: a text chunk that inflates past Pillow's 1 MB guard, an animation
    # control chunk without any frame control chunk.
    big_text = chunk(b'zTXt', b'Comment\0\0' + zlib.compress(b' ' * (2 * 1024 * 1024), 9))
    write('png_ztxt_too_large.png', png[:idat] + big_text + png[idat:])
    write('png_actl_without_fctl.png', png[:idat] + chunk(b'acTL', struct.pack('>LL', 1, 0)) + png[idat:])


def record(f):
    e = {}
    try:
        im = Image.open(f)
        e.update(format=im.format, mode=im.mode, width=im.width, height=im.height)
        rgb224 = TO_RGB224(im)
        e['rgb224_sha256'] = hashlib.sha256(rgb224.tobytes()).hexdigest()
        pv = PREPROCESS_VAL(Image.open(f))
        assert pv.dtype == torch.float32 and tuple(pv.shape) == (3, 224, 224)
        e['pixel_values_sha256'] = hashlib.sha256(pv.contiguous().numpy().astype('<f4').tobytes()).hexdigest()
    except Exception as err:  # what upstream does with the file
        e['upstream_error'] = f'{type(err).__name__}: {err}'
    return e


if __name__ == '__main__':
    for name in os.listdir('.'):
        if not name.endswith(('.py', '.ts', '.json', '.md')):
            os.remove(name)
    make_jpegs()
    make_tiffs()
    make_tiff_variants()
    make_bmps()
    make_pnms()
    make_others()
    files = {f: record(f) for f in sorted(os.listdir('.')) if not f.endswith(('.py', '.ts', '.json', '.md'))}
    import PIL, torchvision
    json.dump({'pillow': PIL.__version__, 'torchvision': torchvision.__version__, 'files': files},
              open('goldens.json', 'w'), indent=1)
    print(len(files), 'files,', sum(1 for e in files.values() if 'upstream_error' in e), 'refused by upstream')
