"""linkcrawler: a self-hosted backlink crawler built on Scrapy, Redis and MongoDB."""
