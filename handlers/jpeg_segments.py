"""A JPEG's own bytes without its metadata: the display copy of a photo that needs no resizing.

Re-encoding a 1280 px photo costs more CPU than everything else a report does; dropping the
segments that carry metadata keeps the picture bit for bit and loses what must go. Only what a
decoder needs is kept (an allow-list): frame and scan headers, tables, the scans themselves, a
plain JFIF header and Adobe's colour-transform flag. EXIF and XMP (GPS, device, owner), ICC,
IPTC, comments, embedded thumbnails and anything after the end marker (a phone's trailer, a
motion photo) are all dropped.
"""

from __future__ import annotations

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
# Markers without a length: restart markers and TEM.
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
# SOF0-15 (less the reserved C8), DHT, DAC, DQT, DNL, DRI, DHP, EXP, SOS.
_DECODER = {*range(0xC0, 0xD0), 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, SOS} - {0xC8}
_APP0, _APP14 = 0xE0, 0xEE


def _needed(marker: int, body: bytes) -> bool:
    if marker in _DECODER:
        return True
    if marker == _APP0:
        return body.startswith(b"JFIF\x00")  # not JFXX: that one holds a thumbnail
    return marker == _APP14 and body.startswith(b"Adobe")


def without_metadata(data: bytes) -> bytes | None:
    """The JPEG `data` keeping only what decoding needs; None when it cannot be walked to its end
    marker (not a JPEG, or damaged): then the caller decodes and re-encodes instead."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out = [b"\xff\xd8"]
    i, n = 2, len(data)
    while i + 2 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == EOI:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if marker in _STANDALONE:
            out.append(data[i : i + 2])
            i += 2
            continue
        if i + 4 > n:
            return None
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if end > n or end < i + 4:
            return None
        if _needed(marker, data[i + 4 : min(end, i + 10)]):
            out.append(data[i:end])
        i = end
        if marker == SOS:  # entropy-coded data: up to the next marker that is not RSTn or a 00
            j = i
            while True:
                j = data.find(b"\xff", j)
                if j < 0 or j + 1 >= n:
                    return None
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    j += 2
                elif following == 0xFF:
                    j += 1
                else:
                    break
            out.append(data[i:j])
            i = j
    return None
