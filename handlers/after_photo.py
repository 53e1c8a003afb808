"""The 整改后照片: a picture of the fixed problem, sent with the resolution (desk or chat).

Checked and stored like a report's photo (handlers/photos.py, the media store), then set beside
the report's first photo as one picture for the reporter and the group. The picture is made
before the unit of work (file and image work stay off the transaction); `store` adds the row
inside it, only once the resolution went through.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from handlers.deps import Deps
from handlers.i18n import t
from handlers.photos import ProcessedPhoto, process
from storage.desk import first_photo_path
from storage.models import AFTER, Photo, phash_bands

PAIR_HEIGHT = 720
GAP = 12
LABEL_BAND = 56


@dataclass(frozen=True)
class AfterPhoto:
    photo: ProcessedPhoto
    path: str
    thumb: str
    unique_id: str | None
    pair: bytes  # JPEG: before | after (or the after photo alone when the report had none)


async def prepare(deps: Deps, number: int, data: bytes, unique_id: str | None = None) -> AfterPhoto:
    """Check and store the picture; compose it beside ticket `number`'s first photo.
    Raises `handlers.photos.PhotoRejected` for a file that is no usable picture."""
    processed = await asyncio.to_thread(process, data, False)
    path, thumb = await deps.media.put(
        processed.sha256, processed.display_jpeg, processed.thumb_jpeg
    )
    before = await deps.db.run(lambda s: first_photo_path(s, number), write=False)
    locale = deps.config.locale
    labels = (t("photo.before", locale), t("photo.after", locale))
    before_file = deps.media.resolve(before) if before else None
    pair = await asyncio.to_thread(side_by_side, before_file, processed.display_jpeg, labels)
    return AfterPhoto(processed, path, thumb, unique_id, pair)


def store(w, ticket_id: int, after: AfterPhoto) -> None:
    """The after photo's row, in the resolution's unit of work."""
    p = after.photo
    w.s.add(
        Photo(
            sha256=p.sha256,
            phash=p.phash,
            **phash_bands(p.phash),
            path=after.path,
            thumb_path=after.thumb,
            size_bytes=p.size_bytes,
            width=p.width,
            height=p.height,
            platform_file_id=after.unique_id,
            ticket_id=ticket_id,
            created_at=w.now,
            kind=AFTER,
        )
    )


def _font(size: int) -> ImageFont.ImageFont:
    from handlers.digest_render import cjk_font  # the same Chinese font the digest's chart uses

    path = cjk_font()
    if path is None:
        return ImageFont.load_default()
    return ImageFont.truetype(str(path), size)


def side_by_side(before: Path | None, after_jpeg: bytes, labels: tuple[str, str]) -> bytes:
    """One JPEG, the two pictures at one height with their labels above. CPU and file work:
    run in a thread."""
    after = Image.open(io.BytesIO(after_jpeg)).convert("RGB")
    pictures = [after]
    if before is not None and before.is_file():
        with Image.open(before) as img:
            pictures.insert(0, img.convert("RGB"))
    else:
        labels = labels[1:]
    scaled = [p.resize((max(1, p.width * PAIR_HEIGHT // p.height), PAIR_HEIGHT)) for p in pictures]
    width = sum(p.width for p in scaled) + GAP * (len(scaled) - 1)
    canvas = Image.new("RGB", (width, PAIR_HEIGHT + LABEL_BAND), "white")
    draw, font, x = ImageDraw.Draw(canvas), _font(LABEL_BAND * 2 // 3), 0
    for picture, label in zip(scaled, labels, strict=True):
        canvas.paste(picture, (x, LABEL_BAND))
        draw.text((x + 12, LABEL_BAND // 2), label, fill=(30, 30, 30), font=font, anchor="lm")
        x += picture.width + GAP
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=85)
    return out.getvalue()
