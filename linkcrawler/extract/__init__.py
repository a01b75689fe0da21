"""From a fetched document to the links it holds.

`page` parses a document and reads every link it declares, `urls` gives each
href the one normalized form the crawler stores, `anchors` the anchor text a
reader sees; `links` and `items` are the records the spider hands the
pipelines.
"""
