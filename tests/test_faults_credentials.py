"""Fault: credentials in REDIS_URL / MONGO_URI, which must work and must never be shown."""

from __future__ import annotations

import uuid

import pytest
import redis
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.errors import UserError
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.local.redis_server import EmbeddedRedis
from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web
from linkcrawler.store.mongo import get_database
from tests.conftest import local_crawl
from tests.crawlfaults import page_hits

pytestmark = pytest.mark.faults

PASSWORD = f"pw-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def protected_redis():
    with EmbeddedRedis(password=PASSWORD) as server:
        yield server


@pytest.mark.slow
def test_a_crawl_through_a_password_protected_redis_never_shows_the_password(protected_redis):
    """Injects: a Redis that demands a password, given in REDIS_URL, with workers logging at DEBUG.

    Proves: auth works through the URL (the crawl completes), and the password appears in no worker
    log, in `linkcrawler stats`, nor in what the demo prints about its services.
    """
    assert PASSWORD in protected_redis.url
    with pytest.raises(UserError, match="cannot reach Redis"):
        connect_redis(protected_redis.url.replace(PASSWORD, "wrong"))
    web = generate_web(seed=2, sites=5, pages_per_site=5)
    with local_crawl(protected_redis.url, "linkcrawler_creds") as crawl, WebServer(web) as server:
        crawl.redis.flushdb()
        result = crawl.crawl(server.seeds, server.hosts, workers=2, timeout=180, settings={"LOG_LEVEL": "DEBUG"})
        hits = page_hits(server.hits())
        logs = "".join(path.read_text(errors="replace") for path in crawl.workdir.glob("worker-*.log"))
        services = str(crawl.describe_services())
    stats = CliRunner().invoke(app, ["stats", "--redis-url", protected_redis.url])

    assert result.worker_exit_codes == [0, 0], result.logs
    assert set(hits) == fetchable_pages(server.web)
    assert "DEBUG" in logs and stats.exit_code == 0
    for shown in (logs, services, stats.output):
        assert PASSWORD not in shown


def test_tls_and_auth_options_pass_through_the_uris():
    """Injects: TLS and auth options in both URIs (no TLS server is needed: the clients are only built).

    Proves: they reach redis-py and pymongo as given, so TLS deployments need nothing but the URIs.
    """
    client = connect_redis(f"rediss://app:{PASSWORD}@127.0.0.1:6380/0?ssl_cert_reqs=required", check=False)
    options = client.connection_pool.connection_kwargs
    assert client.connection_pool.connection_class is redis.SSLConnection
    assert (options["ssl_cert_reqs"], options["username"], options["password"]) == ("required", "app", PASSWORD)

    uri = f"mongodb://app:{PASSWORD}@127.0.0.1:1/?tls=true&tlsAllowInvalidHostnames=true&authSource=admin"
    pool = get_database(uri, "x", check=False).client.options.pool_options
    assert pool._ssl_context is not None
    assert (pool._credentials.username, pool._credentials.source) == ("app", "admin")
