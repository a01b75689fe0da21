"""Every setting works both ways, as an environment variable and as `-s NAME=VALUE` (the settings reference says so)."""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import pytest
from scrapy import Spider
from scrapy.settings import Settings, default_settings
from scrapy.utils.test import get_crawler
from typer.testing import CliRunner

from linkcrawler import config
from linkcrawler.cli.main import app
from linkcrawler.errors import UserError
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.scheduler import Scheduler


class Probe(Spider):
    name = "probe"


def sample(name: str) -> tuple[str, Any]:
    """A value other than the default: as the environment or `-s` writes it, and as a component reads it."""
    value = config.default(name)
    if isinstance(value, bool):
        return str(not value).lower(), not value
    if isinstance(value, int):
        return str(value + 7), value + 7
    if isinstance(value, float):
        return str(value + 0.5), value + 0.5
    if isinstance(value, list):
        return "a.example, b.example", ["a.example", "b.example"]
    if isinstance(value, dict):
        return '{"a.example": "127.0.0.1"}', {"a.example": "127.0.0.1"}
    return f"{value}-changed", f"{value}-changed"


def project_settings_with(monkeypatch: pytest.MonkeyPatch, **environ: str) -> Settings:
    """The project settings as a freshly started worker reads them, with `environ` set."""
    for name, text in environ.items():
        monkeypatch.setenv(name, text)
    settings = Settings()
    settings.setmodule(importlib.reload(importlib.import_module("settings.base")), priority="project")
    return settings


@pytest.mark.parametrize("name", sorted(config.SETTINGS))
def test_a_setting_works_from_the_environment_and_from_the_command_line(monkeypatch, name):
    text, value = sample(name)
    assert config.get(project_settings_with(monkeypatch, **{name: text}), name) == value
    monkeypatch.delenv(name)
    settings = project_settings_with(monkeypatch)
    assert config.get(settings, name) == config.default(name)
    settings.set(name, text, priority="cmdline")
    assert config.get(settings, name) == value


def test_components_built_without_project_settings_get_the_same_defaults():
    """Scrapy reads its own settings from the project's module; ours have a default however a component is built."""
    ours = [name for name in config.SETTINGS if not hasattr(default_settings, name)]
    assert len(ours) > 30
    assert {name: config.get(Settings(), name) for name in ours} == {name: config.default(name) for name in ours}


@pytest.mark.parametrize(
    ("text", "message"),
    [("12k", "is not a whole number"), ("1,5", "is not a number"), ("maybe", "is not a boolean")],
)
def test_a_bad_environment_value_names_the_variable(text, message):
    name = {"is not a whole number": "STORE_BATCH_SIZE", "is not a number": "LEASE_SECONDS"}.get(
        message, "ROBOTSTXT_OBEY"
    )
    with pytest.raises(UserError, match=f"environment variable {name}='{re.escape(text)}' {message}"):
        config.from_environment({name: text})


def test_blank_variables_count_as_unset():
    assert config.from_environment({"STORE_BATCH_SIZE": "  ", "DENIED_DOMAINS": ""}) == config.from_environment({})


@pytest.mark.parametrize("road", ["environment", "command line"])
def test_the_frontier_reads_prefetch_and_redis_retries_both_ways(monkeypatch, redis_url, road):
    """Two settings that drifted: FRONTIER_PREFETCH was not read from the environment, REDIS_RETRIES only from it."""
    values = {"FRONTIER_PREFETCH": "9", "REDIS_RETRIES": "3", "REDIS_URL": redis_url}
    if road == "environment":
        settings = project_settings_with(monkeypatch, **values)
    else:
        settings = project_settings_with(monkeypatch, REDIS_URL=redis_url)
        settings.setdict({k: v for k, v in values.items() if k != "REDIS_URL"}, priority="cmdline")
    crawler = get_crawler(Probe, {name: settings.get(name) for name in values})
    scheduler = Scheduler.from_crawler(crawler)
    assert scheduler.prefetch == 9
    assert redis_from_settings(settings).get_retry().get_retries() == 3


def test_redis_cluster_on_a_plain_server_is_refused_in_one_line(redis_url):
    with pytest.raises(UserError, match=r"REDIS_CLUSTER is on but Redis at .* is not a cluster node"):
        redis_from_settings(Settings({"REDIS_URL": redis_url, "REDIS_CLUSTER": "true"}))


def test_extract_reads_the_settings_a_worker_reads(tmp_path, monkeypatch):
    page = tmp_path / "page.html"
    page.write_text('<a href="https://other.example/x?ref=home&id=1">x</a><a href="/in">in</a>')
    runner = CliRunner()
    args = ["extract", str(page), "--base-url", "https://site.example/", "--json"]

    default = [json.loads(line) for line in runner.invoke(app, args).output.splitlines()]
    assert [r["target_url"] for r in default] == ["https://other.example/x?id=1&ref=home"]

    monkeypatch.setenv("TRACKING_PARAMS", "ref")
    monkeypatch.setenv("STORE_INTERNAL_LINKS", "true")
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["target_url"] for r in records] == ["https://other.example/x?id=1", "https://site.example/in"]
