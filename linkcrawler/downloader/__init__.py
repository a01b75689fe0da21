"""Scrapy downloader components: what a request passes before and after it reaches a server.

`resolver` and `netpolicy` keep the crawl on the addresses it may reach,
`robots` checks robots.txt, `politeness` holds per-site concurrency and delay
across all workers, `compression` records bodies that inflate too far, and
`headers` bounds a response's headers.
"""
