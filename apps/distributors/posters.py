"""推广海报: share posters rendered by the server as PNG (Pillow), one per product and one per store.

A poster is a fixed 750 × 1200 canvas (the size WeChat users save and forward): the product image
(or a quiet placeholder), name and price, the distributor's name and a QR code of their share link,
which carries ``?ref=CODE``. Chinese text needs a CJK font: ``settings.FENXIAO_POSTER_FONT`` when
set, else the first of ``FONT_CANDIDATES`` present on the machine (``make install`` installs
Debian's ``fonts-wqy-microhei``), else Pillow's built-in font (Latin only: Chinese would show as
boxes, so a warning is logged once).

Rendering costs tens of milliseconds, so the PNG is cached (Django cache) under a key made of
everything drawn on it: a change of name, price, image, link or font makes a new key by itself.
"""

import functools
import hashlib
import io
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import qrcode
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Min, Q
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from apps.merchants.models import Merchant
from apps.products.models import Product

from .links import share_url, store_page_path
from .models import Distributor
from .selectors import products_to_share

logger = logging.getLogger(__name__)

POSTER_WIDTH = 750
POSTER_HEIGHT = 1200
IMAGE_BOX = (0, 0, 750, 660)  # the product image's area
QR_SIZE = 240  # pixels, quiet zone included
QR_BORDER_MODULES = 2
QR_LEFT = POSTER_WIDTH - 40 - QR_SIZE
QR_TOP = POSTER_HEIGHT - 40 - QR_SIZE
# A source image larger than this is not decoded (decompression bombs): the placeholder is drawn.
MAX_SOURCE_PIXELS = 40_000_000
CACHE_SECONDS = 24 * 3600
ON_SALE_SKU = Q(skus__is_active=True)
LAYOUT_VERSION = 1  # bump when the drawing changes, so that cached posters are redrawn

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)

INK = (34, 34, 34)
MUTED = (128, 128, 128)
PRICE = (226, 61, 43)
PAPER = (255, 255, 255)
PLACEHOLDER = (246, 238, 228)
PLACEHOLDER_INK = (196, 164, 132)
BAND = (250, 247, 242)


@dataclass(frozen=True)
class Poster:
    png: bytes
    filename: str


def poster_font_path() -> str | None:
    """The CJK font posters use: the setting, else the first candidate present, else None."""
    configured = getattr(settings, "FENXIAO_POSTER_FONT", "")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if Path(candidate).is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=32)
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            logger.warning("poster font %s could not be loaded; using Pillow's built-in font", path)
    else:
        logger.warning(
            "no CJK font for posters (set FENXIAO_POSTER_FONT or install fonts-wqy-microhei): "
            "Chinese text will not render"
        )
    return ImageFont.load_default(size)


def poster_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return _font(poster_font_path(), size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list[str]:
    """Character-wise wrapping (Chinese has no spaces), ellipsis on the last line when cut."""
    lines: list[str] = []
    current = ""
    for character in text.replace("\n", " "):
        if draw.textlength(current + character, font=font) <= width:
            current += character
            continue
        lines.append(current)
        current = character.lstrip()
        if len(lines) == max_lines:
            break
    else:
        if current:
            lines.append(current)
        return lines
    last = lines[-1]
    while last and draw.textlength(last + "…", font=font) > width:
        last = last[:-1]
    lines[-1] = last + "…"
    return lines


def qr_image(url: str, size: int = QR_SIZE) -> Image.Image:
    """The QR code of ``url`` scaled to ``size`` pixels (nearest neighbour: modules stay crisp)."""
    code = qrcode.QRCode(border=QR_BORDER_MODULES, box_size=1)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()  # includes the quiet zone
    modules = len(matrix)
    image = Image.new("L", (modules, modules), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    return image.resize((size, size), Image.Resampling.NEAREST).convert("RGB")


def _product_image(product: Product) -> Image.Image | None:
    if not product.image:
        return None
    try:
        with product.image.open("rb") as file, Image.open(file) as source:
            if source.width * source.height > MAX_SOURCE_PIXELS:
                return None
            source.draft("RGB", (IMAGE_BOX[2], IMAGE_BOX[3]))
            picture = source.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        logger.warning("product %s: image %s could not be read", product.pk, product.image.name)
        return None
    # Cover the area: scale to fill it, crop the middle of the overflowing side.
    width, height = IMAGE_BOX[2] - IMAGE_BOX[0], IMAGE_BOX[3] - IMAGE_BOX[1]
    scale = max(width / picture.width, height / picture.height)
    picture = picture.resize(
        (max(width, round(picture.width * scale)), max(height, round(picture.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left, top = (picture.width - width) // 2, (picture.height - height) // 2
    return picture.crop((left, top, left + width, top + height))


def _placeholder(draw: ImageDraw.ImageDraw, title: str) -> None:
    draw.rectangle(IMAGE_BOX, fill=PLACEHOLDER)
    initial = (title.strip()[:1] or "·").upper()
    font = poster_font(300)
    centre = ((IMAGE_BOX[0] + IMAGE_BOX[2]) // 2, (IMAGE_BOX[1] + IMAGE_BOX[3]) // 2)
    draw.text(centre, initial, font=font, fill=PLACEHOLDER_INK, anchor="mm")


def _footer(canvas: Image.Image, draw: ImageDraw.ImageDraw, *, url: str, distributor_name: str):
    """The band at the bottom: who recommends it, and the QR code of their link."""
    band_top = QR_TOP - 30
    draw.rectangle((0, band_top, POSTER_WIDTH, POSTER_HEIGHT), fill=BAND)
    canvas.paste(qr_image(url), (QR_LEFT, QR_TOP))
    name_lines = _wrap(draw, distributor_name, poster_font(34), QR_LEFT - 80, 2)
    y = QR_TOP + 30
    for line in name_lines:
        draw.text((40, y), line, font=poster_font(34), fill=INK)
        y += 46
    draw.text((40, y + 4), _("recommends this to you"), font=poster_font(26), fill=MUTED)
    draw.text(
        (40, QR_TOP + QR_SIZE - 40), _("Scan the QR code to buy"), font=poster_font(24), fill=MUTED
    )


def _png(canvas: Image.Image) -> bytes:
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _price_label(low: Decimal, sku_count: int) -> str:
    label = f"¥{low:.2f}"
    return _("%(price)s and up") % {"price": label} if sku_count > 1 else label


def render_product_poster(
    *, product: Product, price_label: str, url: str, distributor_name: str
) -> bytes:
    canvas = Image.new("RGB", (POSTER_WIDTH, POSTER_HEIGHT), PAPER)
    draw = ImageDraw.Draw(canvas)
    picture = _product_image(product)
    if picture is None:
        _placeholder(draw, product.name)
    else:
        canvas.paste(picture, IMAGE_BOX[:2])
    y = IMAGE_BOX[3] + 24
    for line in _wrap(draw, product.name, poster_font(38), POSTER_WIDTH - 80, 2):
        draw.text((40, y), line, font=poster_font(38), fill=INK)
        y += 50
    draw.text((40, y + 6), price_label, font=poster_font(48), fill=PRICE)
    _footer(canvas, draw, url=url, distributor_name=distributor_name)
    return _png(canvas)


def render_store_poster(*, merchant: Merchant, url: str, distributor_name: str) -> bytes:
    canvas = Image.new("RGB", (POSTER_WIDTH, POSTER_HEIGHT), PAPER)
    draw = ImageDraw.Draw(canvas)
    _placeholder(draw, merchant.name)
    y = IMAGE_BOX[3] + 24
    for line in _wrap(draw, merchant.name, poster_font(44), POSTER_WIDTH - 80, 2):
        draw.text((40, y), line, font=poster_font(44), fill=INK)
        y += 58
    draw.text((40, y + 6), _("Visit my store"), font=poster_font(32), fill=PRICE)
    _footer(canvas, draw, url=url, distributor_name=distributor_name)
    return _png(canvas)


def _cached(parts: tuple, render) -> bytes:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256(repr((LAYOUT_VERSION, poster_font_path(), *parts)).encode())
    key = f"poster:{digest.hexdigest()}"
    png = cache.get(key)
    if png is None:
        png = render()
        cache.set(key, png, CACHE_SECONDS)
    return png


def poster_for_product(*, distributor: Distributor, product_id: int) -> Poster | None:
    """The distributor's poster of a product on sale in their store; None for any other id."""
    merchant = distributor.merchant
    product = (
        products_to_share(merchant=merchant)
        .filter(pk=product_id)
        .only("id", "name", "image")
        .annotate(
            low_price=Min("skus__price", filter=ON_SALE_SKU),
            sku_count=Count("skus", filter=ON_SALE_SKU),
        )
        .first()
    )
    if product is None:
        return None
    path = store_page_path(merchant=merchant, product_id=product.pk)
    url = share_url(path=path, invite_code=distributor.invite_code)
    name = distributor.user.display_name
    price_label = _price_label(product.low_price, product.sku_count)  # type: ignore[attr-defined]
    png = _cached(
        ("product", product.pk, product.name, str(product.image), price_label, url, name),
        lambda: render_product_poster(
            product=product, price_label=price_label, url=url, distributor_name=name
        ),
    )
    return Poster(png=png, filename=f"poster-{merchant.slug}-{product.pk}.png")


def poster_for_store(*, distributor: Distributor) -> Poster:
    merchant = distributor.merchant
    url = share_url(path=store_page_path(merchant=merchant), invite_code=distributor.invite_code)
    name = distributor.user.display_name
    png = _cached(
        ("store", merchant.pk, merchant.name, url, name),
        lambda: render_store_poster(merchant=merchant, url=url, distributor_name=name),
    )
    return Poster(png=png, filename=f"poster-{merchant.slug}.png")
