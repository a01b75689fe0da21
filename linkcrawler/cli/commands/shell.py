"""`scrapy shell` without the frontier and the store (see `linkcrawler.cli.commands.standalone`)."""

from scrapy.commands.shell import Command as ScrapyShellCommand

from linkcrawler.cli.commands.standalone import Standalone


class Command(Standalone, ScrapyShellCommand):
    """Scrapy's, with `Standalone`'s settings."""
