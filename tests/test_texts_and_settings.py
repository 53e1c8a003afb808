"""Every sentence exists in both locales; settings read the environment with clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings
from handlers.categories import OTHER, guess
from handlers.i18n import catalogue, normalise, t


def test_both_catalogues_hold_the_same_keys_and_placeholders():
    zh, en = catalogue("zh_CN"), catalogue("en")
    assert zh.keys() == en.keys()
    for key in zh:
        assert set(re.findall(r"{(\w+)}", zh[key])) == set(re.findall(r"{(\w+)}", en[key])), key


def test_handlers_use_only_keys_that_exist():
    used = set()
    for path in Path("handlers").rglob("*.py"):
        used |= set(
            re.findall(r'"((?:intake|photo|help|command)\.[a-z_]+)"', path.read_text("utf-8"))
        )
    assert used and used <= catalogue("zh_CN").keys()


def test_language_codes_map_to_shipped_locales():
    assert [normalise(c) for c in ("en-US", "zh-hans", "ru", None)] == [
        "en",
        "zh_CN",
        "zh_CN",
        "zh_CN",
    ]
    assert t("intake.registered", "en", number=3, category="x").startswith("Logged #3")


def test_categories_come_from_the_riders_words():
    assert guess("井盖松了") == "井盖损坏"
    assert guess("楼上有人飞线充电") == "飞线充电"
    assert guess("路口积水到脚踝") == "道路积水"
    assert guess("今天的盒饭不错") == OTHER


def test_settings_defaults_and_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.database_url.endswith("./data/woodpecker.db")
    assert (s.media_dir, s.timezone, s.locale, s.report_pair_window_minutes) == (
        "./data/media",
        "Asia/Shanghai",
        "zh_CN",
        10,
    )
    monkeypatch.setenv("ALLOWED_CHATS", "-1001, -1002 ,")
    monkeypatch.setenv("REPORT_PAIR_WINDOW_MINUTES", "5")
    s = Settings()
    assert s.allowed_chats == ["-1001", "-1002"] and s.core().window_minutes == 5


def test_a_bad_setting_names_itself(monkeypatch):
    monkeypatch.setenv("LOCALE", "fr")
    with pytest.raises(ValueError, match="LOCALE"):
        Settings(_env_file=None)


def test_env_example_lists_every_setting():
    example = Path(".env.example").read_text("utf-8")
    for name in Settings.model_fields:
        assert f"{name.upper()}=" in example, name


def test_the_readme_lists_every_setting_and_explains_webhook_mode():
    readme = Path("README.md").read_text("utf-8")
    table = readme[readme.index("## Settings") :]
    table = table[: table.index("\n\n", table.index("| setting |"))]
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in table, name
    assert "### Telegram: polling or webhook" in readme


def test_the_prompt_grace_must_end_inside_the_pair_window(monkeypatch):
    monkeypatch.setenv("REPORT_PAIR_WINDOW_MINUTES", "1")
    monkeypatch.setenv("PROMPT_GRACE_SECONDS", "60")
    with pytest.raises(ValueError, match="PROMPT_GRACE_SECONDS"):
        Settings(_env_file=None)
    monkeypatch.setenv("PROMPT_GRACE_SECONDS", "45")
    assert Settings(_env_file=None).core().prompt_grace.total_seconds() == 45
