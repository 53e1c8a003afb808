"""Map links riders and officials can open on a phone."""

from urllib.parse import quote


def amap_url(lat: float, lon: float, name: str) -> str:
    """An Amap marker; `coordinate=wgs84` lets Amap shift our WGS-84 point onto its GCJ-02 map."""
    return (
        f"https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}"
        f"&name={quote(name)}&coordinate=wgs84"
    )
