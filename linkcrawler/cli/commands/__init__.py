"""Scrapy commands of this project (`COMMANDS_MODULE`): `crawl` with a preflight check; `fetch`, `view` and
`shell` without the frontier and the store (`standalone`)."""
