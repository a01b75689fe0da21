"""From a page's links to documents in MongoDB, or to a journal on disk when there is no MongoDB.

`documents` maps a crawled page to its `links` and `pages` documents,
`linkstore` upserts them in batches, `spill` writes from a thread and keeps
what MongoDB refuses on disk until it is back, `journal` appends batches to
files and replays them, and `mongo` opens whichever `MONGO_URI` names.
"""
