"""Only for scrapyd-deploy, which builds its egg with `python setup.py bdist_egg`.

Everything (packages, the `scrapy` settings entry point scrapyd reads) comes
from pyproject.toml; without this file scrapyd-deploy would write its own,
packaging every directory (tests included) under a made-up name.
"""

from setuptools import setup

setup()
