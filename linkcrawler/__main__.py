"""`python -m linkcrawler` is the `linkcrawler` command."""

from linkcrawler.cli import main

main()
