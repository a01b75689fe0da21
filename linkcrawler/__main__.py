"""`python -m linkcrawler` is the `linkcrawler` command."""

from linkcrawler.cli.main import main

main()
