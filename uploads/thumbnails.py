"""Small JPEG previews of uploaded images, for pages that show them to everyone (the showcase).

A preview is a new image drawn from the pixels only: the camera's orientation applied, then no
EXIF (no GPS position, no camera serial), no ICC profile, no comments. The same file always gives
the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

#: The longest side of a preview, in pixels: sharp on a phone, small on a rural line.
MAX_SIDE = 800
QUALITY = 82
CONTENT_TYPE = "image/jpeg"


def make_thumbnail(path: Path, max_side: int = MAX_SIDE) -> bytes:
    """The preview of the image at ``path`` as JPEG bytes; raises what Pillow raises for a file
    that is not an image (the caller's check has already opened it)."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        image.seek(0)  # the first frame of an animation
        upright = ImageOps.exif_transpose(image)
        if upright.mode in ("RGBA", "LA", "P"):
            rgba = upright.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            upright = flat
        elif upright.mode != "RGB":
            upright = upright.convert("RGB")
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        upright.save(out, format="JPEG", quality=QUALITY, optimize=True, progressive=True)
        return out.getvalue()
