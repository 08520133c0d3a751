"""Writes the Pillow-made format samples and records Pillow 9.4's preprocess result for every sample
in this folder (run after make-sharp.ts, with Debian's python3-pil 9.4.0: /usr/bin/python3 record.py)."""
import hashlib, json, os, struct
from PIL import Image, ImageOps

os.chdir(os.path.dirname(os.path.abspath(__file__)))
W, H = 150, 110

def photo(w=W, h=H):
    im = Image.new('RGB', (w, h))
    px = im.load()
    for y in range(h):
        for x in range(w):
            px[x, y] = ((x * 3 + y) % 256, (y * 2 + (x * x) // 97) % 256, ((x ^ y) * 5) % 256)
    return im

im = photo()
big = photo(260, 230)
alpha = Image.linear_gradient('L').resize((W, H))
rgba = im.convert('RGBA'); rgba.putalpha(alpha)
im.convert('1').save('pil_1.png')
im.quantize(4).save('pil_p2bit.png', bits=2)
q = im.quantize(100)
q.save('pil_p_trns.png', transparency=5)
q.save('pil_p.gif')
q.save('pil_p_trns.gif', transparency=5)
im.convert('L').save('pil_l_trns.png', transparency=7)
im.save('pil_rgb_trns.png', transparency=(0, 0, 0))
im.convert('LA').save('pil_la.png')
big.convert('CMYK').save('pil_cmyk.jpg', quality=90)
big.convert('CMYK').save('pil_cmyk.tif', compression='tiff_adobe_deflate')
big.quantize(32).save('pil_p.tif')
im.convert('L').save('pil_l.tif', compression='tiff_lzw')
rgba.save('pil_rgba.tif', compression='tiff_adobe_deflate')
im.save('pil_rgb_packbits.tif', compression='packbits')
im.convert('L').save('pil_l.jpg', quality=90)
big.save('pil_prog.jpg', quality=75, progressive=True, subsampling=1)
big.save('pil_rgb.webp', quality=85)
rgba.save('pil_rgba.webp', quality=80)
rgba.save('pil_rgba_lossless.webp', lossless=True)
im.save('pil_rgb.bmp')
ramp = Image.linear_gradient('L').resize((W, H)).convert('P')
ramp.putpalette([v for i in range(256) for v in (i, i, i)])
ramp.save('gif_identity_palette.gif')  # Pillow opens an identity grey palette GIF as mode L

def with_screen(src, dst, w, h):  # logical screen larger than the first frame
    b = bytearray(open(src, 'rb').read()); b[6:10] = struct.pack('<HH', w, h); open(dst, 'wb').write(b)
with_screen('pil_p.gif', 'gif_partial.gif', W + 20, H + 20)
with_screen('pil_p_trns.gif', 'gif_partial_trns.gif', W + 20, H + 20)

def strip_adobe(src, dst):
    b = open(src, 'rb').read(); i = 2; out = bytearray(b[:2])
    while True:
        m = b[i + 1]; n = struct.unpack('>H', b[i + 2:i + 4])[0]
        if m == 0xDA:
            out += b[i:]; break
        if m != 0xEE:
            out += b[i:i + 2 + n]
        i += 2 + n
    open(dst, 'wb').write(out)
strip_adobe('pil_cmyk.jpg', 'pil_cmyk_noadobe.jpg')

for o in range(1, 9):
    ex = Image.Exif(); ex[0x0112] = o
    im.save(f'orient{o}.jpg', exif=ex.tobytes(), quality=92)

def preprocess(path, exif=False):
    im = Image.open(path)
    if exif:
        im = ImageOps.exif_transpose(im)
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    if short != 224:
        ns, nl = 224, int(224 * long / short)
        im = im.resize((ns, nl) if w <= h else (nl, ns), Image.BICUBIC)
    W2, H2 = im.size
    top = int(round((H2 - 224) / 2.0)); left = int(round((W2 - 224) / 2.0))
    return hashlib.sha256(im.crop((left, top, left + 224, top + 224)).convert('RGB').tobytes()).hexdigest()

expected = {}
for f in sorted(os.listdir('.')):
    if f.endswith(('.py', '.ts', '.json', '.md')):
        continue
    e = {}
    try:
        im = Image.open(f)
        e.update(format=im.format, mode=im.mode, width=im.width, height=im.height)
        e['rgb224_sha256'] = preprocess(f)
        if f.startswith('orient'):
            e['exif_transposed_rgb224_sha256'] = preprocess(f, True)
    except Exception as err:  # recorded: what Pillow does with the file
        e['pillow_error'] = f'{type(err).__name__}: {err}'
    expected[f] = e
json.dump({'pillow': Image.__version__, 'files': expected}, open('expected.json', 'w'), indent=1)
print(len(expected), 'files recorded')
