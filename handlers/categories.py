"""Guessing a ticket's category from the rider's own words, by keywords in a data file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

OTHER = "其他"


@dataclass(frozen=True)
class Category:
    name: str
    en: str
    keywords: tuple[str, ...]


@cache
def all_categories() -> tuple[Category, ...]:
    raw = tomllib.loads(files("handlers").joinpath("data/categories.toml").read_text("utf-8"))
    return tuple(
        Category(c["name"], c["en"], tuple(k.lower() for k in c["keywords"]))
        for c in raw["category"]
    )


def guess(description: str | None) -> str:
    """The first category with a keyword in the description, else 其他."""
    if not description:
        return OTHER
    text = description.lower()
    for category in all_categories():
        if category.name in description or any(k in text for k in category.keywords):
            return category.name
    return OTHER


def looks_like_report(description: str | None) -> bool:
    return guess(description) != OTHER


def label(name: str, locale: str) -> str:
    """The category's name in the reader's language (names are stored in Chinese)."""
    if locale.startswith("zh"):
        return name
    for category in all_categories():
        if category.name == name:
            return category.en
    return "other" if name == OTHER else name
