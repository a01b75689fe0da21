"""The whole crawl on one machine, for the demo, the tests and the benchmarks.

`synthweb` generates and serves a web of sites on loopback with its ground
truth, `redis_server` starts an embedded Redis-protocol server, `workers`
starts real `scrapy crawl` worker processes, and `demo` runs them together.
"""
