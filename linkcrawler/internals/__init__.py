"""Every place linkcrawler touches another project's private API, one module per project.

Each module says what it uses, why no public API does the job, and which
version it was written against; `tests/test_internals.py` fails with a line
naming the upstream change when one of these internals moves, so an upgrade
breaks a test instead of a crawl.
"""
