"""Checks on a share poster PNG: its size, and that its QR code is the code of an expected URL.

No QR decoder is installed (zbar/OpenCV would be system packages), so the check is the exact
converse: qrcode encodes the expected URL into its module matrix (deterministic for a given
input), and every module of the poster's QR region, sampled at its centre, must have that
colour. A different URL, a wrong place or a blurred code fails.
"""

import io

import qrcode
from PIL import Image

from apps.distributors import posters


def open_png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def qr_modules_mismatch(image: Image.Image, url: str) -> int:
    """How many modules of the poster's QR region differ from the QR code of ``url``."""
    code = qrcode.QRCode(border=posters.QR_BORDER_MODULES, box_size=1)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = len(matrix)
    step = posters.QR_SIZE / modules
    grey = image.convert("L")
    wrong = 0
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            x = posters.QR_LEFT + int((column + 0.5) * step)
            y = posters.QR_TOP + int((row + 0.5) * step)
            if (grey.getpixel((x, y)) < 128) != dark:
                wrong += 1
    return wrong


def assert_poster_with_qr_of(data: bytes, url: str) -> Image.Image:
    image = open_png(data)
    assert image.size == (posters.POSTER_WIDTH, posters.POSTER_HEIGHT)
    assert qr_modules_mismatch(image, url) == 0
    return image
