"""Content-addressed photo files under MEDIA_DIR. Only EXIF-free copies are ever written."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


class MediaStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _paths(self, sha256: str) -> tuple[Path, Path]:
        folder = self.root / sha256[:2]
        return folder / f"{sha256}.jpg", folder / f"{sha256}.thumb.jpg"

    def _write(self, sha256: str, display: bytes, thumb: bytes) -> tuple[str, str]:
        display_path, thumb_path = self._paths(sha256)
        display_path.parent.mkdir(parents=True, exist_ok=True)
        for path, data in ((display_path, display), (thumb_path, thumb)):
            if not path.exists():
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(data)
                os.replace(tmp, path)  # atomic: a reader never sees half a file
        return (
            str(display_path.relative_to(self.root)),
            str(thumb_path.relative_to(self.root)),
        )

    async def put(self, sha256: str, display: bytes, thumb: bytes) -> tuple[str, str]:
        """Store both copies (once per content); return their paths relative to the root."""
        return await asyncio.to_thread(self._write, sha256, display, thumb)

    def resolve(self, relative: str) -> Path:
        return self.root / relative
