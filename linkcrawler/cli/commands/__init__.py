"""Scrapy commands of this project (`COMMANDS_MODULE`): `crawl` with a preflight check."""
