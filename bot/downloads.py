"""Files from a platform's servers, read as they come and abandoned past a cap: whatever size
was declared (or not), no more than the cap is ever held in memory."""

from __future__ import annotations

import httpx

from handlers.photos import PhotoRejected


async def read_capped(
    client: httpx.AsyncClient, url: str, limit: int, headers: dict | None = None
) -> bytes:
    async with client.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        if int(response.headers.get("content-length") or 0) > limit:
            raise PhotoRejected("photo.too_big")
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > limit:
                raise PhotoRejected("photo.too_big")
        return bytes(data)
