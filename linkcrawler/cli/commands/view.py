"""`scrapy view` without the frontier and the store (see `linkcrawler.cli.commands.standalone`)."""

from scrapy.commands.view import Command as ScrapyViewCommand

from linkcrawler.cli.commands.standalone import Standalone


class Command(Standalone, ScrapyViewCommand):
    """Scrapy's, with `Standalone`'s settings."""
