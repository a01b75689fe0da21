"""The `linkcrawler` console command (`linkcrawler.cli.main`) and the project's Scrapy commands (`commands`).

Kept empty so that Scrapy, which imports `linkcrawler.cli.commands` at every
`scrapy crawl`, does not load the console's commands with it.
"""
