#!/usr/bin/python3
"""Makes samples/real/text_line.png, the image the PP-OCRv4 sample reads: one line of text drawn
with PIL in DejaVu Sans (Debian's fonts-dejavu-core), dark grey on an off-white page, with a
little blur and noise so that it looks scanned rather than drawn. We made it ourselves, so it
carries no licence beyond this project's. The text is in samples/real/text_line.txt.

Needs: apt-get install -y python3-pil fonts-dejavu-core
"""
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

root = Path(__file__).resolve().parent.parent
out = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "samples/real/text_line.png"
text = (root / "samples/real/text_line.txt").read_text(encoding="utf-8").strip()
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
left, top, right, bottom = font.getbbox(text)
pad = 12
img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), (246, 244, 238))
ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=(40, 40, 48))
img = img.filter(ImageFilter.GaussianBlur(0.7))
rng = random.Random(7)
px = img.load()
for y in range(img.height):
    for x in range(img.width):
        n = rng.randint(-10, 10)
        px[x, y] = tuple(max(0, min(255, c + n)) for c in px[x, y])
img.save(out, optimize=True)
print(f"wrote {out} ({img.width}x{img.height})")
