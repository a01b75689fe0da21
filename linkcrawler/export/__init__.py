"""`linkcrawler export`: every row of one question about a domain, streamed from a server-side cursor.

`kinds` builds the aggregation of each kind (backlinks, referring-domains,
anchors, new, lost, broken, outlinks) from `linkcrawler.query`'s stages;
`formats` writes rows as spreadsheet-safe CSV or as JSON lines, one row at a
time, so an export holds one batch of the cursor in memory whatever its size.
"""
