#!/usr/bin/env python3
# Screenshot checks of the board tests (wallboard_screenshot.sh, relay_board.sh):
# Decodes a PNG (8-bit RGB/RGBA, as stb_image_write writes it) with the standard library only and
# prints: distinct colors in a coarse sample, and the share of strongly red pixels in the top band;
# with a second argument also writes that top band as a grey PNG; with --crop OUT X Y W H SCALE a
# region in grey, enlarged.
import struct, sys, zlib
def load(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line); prev = line
    return w, h, bpp, rows
def chunk(k, d):
    return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d) & 0xffffffff)
w, h, bpp, rows = load(sys.argv[1])
if len(sys.argv) > 2 and sys.argv[2] == "--crop":
    # --crop OUT X Y W H SCALE: a region in grey, enlarged SCALE times (tesseract reads the
    # desktop's 17 px panels reliably only at twice their size).
    out_path, x0, y0, cw, ch, sc = sys.argv[3], *map(int, sys.argv[4:9])
    out = bytearray()
    for y in range(y0, y0 + ch):
        line = bytearray()
        for x in range(x0, x0 + cw):
            p = rows[y][x * bpp:x * bpp + 3]
            line += bytes([(p[0] * 299 + p[1] * 587 + p[2] * 114) // 1000]) * sc
        for _ in range(sc):
            out.append(0)
            out += line
    with open(out_path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", cw * sc, ch * sc, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b""))
    sys.exit(0)
colors = {tuple(rows[y][x * bpp:x * bpp + 3]) for y in range(0, h, 7) for x in range(0, w, 7)}
band = [rows[y][x * bpp:x * bpp + 3] for y in range(0, max(1, h // 20)) for x in range(0, w, 4)]
red = sum(1 for p in band if p[0] > 150 and p[1] < 60 and p[2] < 60) / len(band)
print(w, h, len(colors), f"{red:.2f}")
if len(sys.argv) > 2:
    # The top band alone, in grey: tesseract skips white-on-red text inside a full board, and
    # reads it at once on its own.
    bh = max(1, h // 18)
    out = bytearray()
    for y in range(bh):
        out.append(0)
        for x in range(w):
            p = rows[y][x * bpp:x * bpp + 3]
            out.append((p[0] * 299 + p[1] * 587 + p[2] * 114) // 1000)
    with open(sys.argv[2], "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, bh, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b""))
