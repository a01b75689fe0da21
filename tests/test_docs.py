"""The documentation site's settings tables come from `linkcrawler.config`, and every setting is described there.

The site itself is built by `mkdocs build --strict` (`.ci/run`); these tests need
no mkdocs: they load the hook that generates the tables and read the pages.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from linkcrawler import config

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def load_hook() -> ModuleType:
    """The hook module, as mkdocs loads it: by path, from mkdocs.yml's `hooks:`."""
    path = DOCS / "hooks" / "settings_reference.py"
    spec = importlib.util.spec_from_file_location("settings_reference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = load_hook()


def pages() -> list[Path]:
    return sorted(path for path in DOCS.rglob("*.md"))


@pytest.mark.parametrize("name", sorted(config.SETTINGS))
def test_every_setting_has_one_description_a_table_cell_can_hold(name):
    description = config.SETTINGS[name].description
    assert description, f"{name} has no description in linkcrawler/config.py"
    assert description.endswith("."), description
    assert "|" not in description and "\n" not in description, description


def test_the_reference_shows_every_setting_with_the_default_config_holds():
    table = hook.reference_table()
    rows = [line for line in table.splitlines()[2:]]
    assert len(rows) == len(config.SETTINGS)
    for row, (name, setting) in zip(rows, config.SETTINGS.items(), strict=True):
        assert f"`{name}`" in row
        assert f"| {hook.format_default(setting)} |" in row
        assert row.endswith(f"| {setting.description} |")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("ROBOTSTXT_OBEY", "`true`"),
        ("ALLOWED_DOMAINS", "empty"),
        ("CRAWL_HOSTS", "`{}`"),
        ("DOWNLOAD_MAXSIZE", "`10485760` (10 MiB)"),
        ("DOWNLOAD_MAX_HEADER_BYTES", "`262144` (256 KiB)"),
        ("LEASE_SECONDS", "`30`"),
        ("BLOOM_ERROR_RATE", "`0.001`"),
        ("POLITENESS_BY", "`host`"),
    ],
)
def test_defaults_are_written_as_the_environment_would_set_them(name, shown):
    assert hook.format_default(config.SETTINGS[name]) == shown


def test_a_marker_names_settings_and_links_them_to_the_reference_from_any_page():
    page = "Intro\n\n<!-- settings: LEASE_SECONDS FRONTIER_PREFETCH -->\n\nAfter\n"
    rendered = hook.render(page, "concepts/crash-safety.md")
    assert "<!--" not in rendered
    rows = [line for line in rendered.splitlines() if line.startswith("| [")]
    assert rows[0].startswith("| [`LEASE_SECONDS`](../settings.md#lease_seconds) | `30` |")
    assert rows[1].startswith("| [`FRONTIER_PREFETCH`](../settings.md#frontier_prefetch) | `4` |")
    assert "](settings.md#lease_seconds)" in hook.render(page, "running.md")


def test_a_marker_naming_an_unknown_setting_stops_the_build():
    with pytest.raises(ValueError, match=r"unknown setting.*NO_SUCH_SETTING"):
        hook.render("<!-- settings: LEASE_SECONDS NO_SUCH_SETTING -->\n", "running.md")


@pytest.mark.parametrize("page", pages(), ids=lambda path: str(path.relative_to(DOCS)))
def test_every_page_renders_its_settings_tables(page):
    hook.render(page.read_text(), str(page.relative_to(DOCS)))


def test_the_reference_page_holds_the_generated_table():
    assert "<!-- settings: all -->" in (DOCS / "settings.md").read_text().splitlines()


def test_every_setting_is_explained_on_a_page_besides_the_reference():
    """A setting added to `config.SETTINGS` needs a page that says where it fits, not only a reference row."""
    named: set[str] = set()
    for page in pages():
        if page.name != "settings.md":
            named |= set(re.findall(r"[A-Z][A-Z0-9_]{2,}", page.read_text()))
    assert sorted(set(config.SETTINGS) - named) == []


def nav_pages(entries: list) -> list[str]:
    """The pages mkdocs.yml's `nav` lists, however deeply nested."""
    found: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += nav_pages(value) if isinstance(value, list) else [value]
    return found


def test_every_page_is_in_the_navigation_and_every_entry_is_a_page():
    nav = nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    assert sorted(nav) == sorted(str(page.relative_to(DOCS)) for page in pages())
