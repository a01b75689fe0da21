"""The Site Explorer: `linkcrawler serve`, a read-only web application over the link table and the profiles.

Server-rendered (Starlette, Jinja2 templates shipped in this package,
uvicorn), no JavaScript: charts are SVG drawn on the server, every filter,
sort and page lives in the URL. `app.create_app` builds it; `views` holds
one function per page, `reads` the queries, `paging` the keyset page tokens.
"""

QUERY_SECONDS = 10.0
"""Default time limit of every query a request sends (`linkcrawler serve --query-timeout`); here, apart from the
application, so the command reads it without importing the server's dependencies."""
