"""Every user-facing sentence lives in a gettext catalogue per locale; code holds only keys."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from babel.messages.pofile import read_po

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")


@cache
def catalogue(locale: str) -> dict[str, str]:
    with files("handlers").joinpath(f"locales/{locale}.po").open("rb") as f:
        po = read_po(f, locale=locale)
    return {m.id: m.string for m in po if m.id and m.string}


def normalise(language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Map a platform language code ("en", "en-US", "zh-hans") onto a locale we ship."""
    if not language:
        return default
    code = language.replace("-", "_").lower()
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return default


def t(key: str, locale: str = DEFAULT_LOCALE, **values: object) -> str:
    """The sentence for `key` in `locale` (falling back to Chinese), with values filled in."""
    text = catalogue(locale).get(key) or catalogue(DEFAULT_LOCALE).get(key)
    if text is None:
        raise KeyError(f"no message {key!r} in the catalogue")
    return text.format(**values)
