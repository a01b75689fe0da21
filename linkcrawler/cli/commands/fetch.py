"""`scrapy fetch` without the frontier and the store (see `linkcrawler.cli.commands.standalone`)."""

from scrapy.commands.fetch import Command as ScrapyFetchCommand

from linkcrawler.cli.commands.standalone import Standalone


class Command(Standalone, ScrapyFetchCommand):
    """Scrapy's, with `Standalone`'s settings."""
