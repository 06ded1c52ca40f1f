"""Decodes a PNG (8-bit RGB/RGBA/grey, non-interlaced) with zlib alone and
prints JSON stats: size, distinct colours, non-white share, and how many
pixels are close to each colour given as hex on the command line."""
import json
import struct
import sys
import zlib

path = sys.argv[1]
wanted = sys.argv[2:]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    print(json.dumps({"error": "not a PNG"}))
    sys.exit(0)
pos, idat = 8, b""
width = height = depth = colortype = interlace = None
while pos < len(data):
    (length,) = struct.unpack(">I", data[pos:pos + 4])
    kind = data[pos + 4:pos + 8]
    body = data[pos + 8:pos + 8 + length]
    pos += 12 + length
    if kind == b"IHDR":
        width, height, depth, colortype, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
if depth != 8 or interlace != 0 or colortype not in (0, 2, 4, 6):
    print(json.dumps({"width": width, "height": height, "error": "unsupported PNG format"}))
    sys.exit(0)
bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colortype]
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
i = 0
colours = {}
for _ in range(height):
    f = raw[i]
    i += 1
    line = bytearray(raw[i:i + stride])
    i += stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        if f == 1:
            line[x] = (line[x] + a) & 255
        elif f == 2:
            line[x] = (line[x] + b) & 255
        elif f == 3:
            line[x] = (line[x] + ((a + b) >> 1)) & 255
        elif f == 4:
            c = prev[x - bpp] if x >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
    for x in range(0, stride, bpp):
        px = tuple(line[x:x + 3]) if bpp >= 3 else (line[x],) * 3
        colours[px] = colours.get(px, 0) + 1
    prev = line
total = width * height
white = sum(n for c, n in colours.items() if min(c) >= 245)
near = {}
for hexcolour in wanted:
    target = tuple(int(hexcolour[k:k + 2], 16) for k in (0, 2, 4))
    near[hexcolour] = sum(n for c, n in colours.items() if all(abs(c[k] - target[k]) <= 12 for k in range(3)))
print(json.dumps({"width": width, "height": height, "colours": len(colours),
                  "nonWhite": 1 - white / total, "near": near}))
