"""Crawl runs, as each partition counts them: how a worker learns that a new run started.

`linkcrawler seed --new-run` raises every partition's run count (`keys.RUN`,
see `linkcrawler.frontier.seeds.start_new_run`). A worker reads them all
when it opens and when it takes seeds, and a pop replies its partition's
(`lua/pop.lua`): a change means the seen-set and the budgets were emptied,
and what the worker learnt of them must be forgotten
(`linkcrawler.frontier.scheduler`).
"""

from __future__ import annotations

from typing import Any

from linkcrawler.frontier import keys
from linkcrawler.frontier.partitions import Partitions


class CrawlRuns:
    """The run counts this worker last saw; `new_runs` counts the changes it has seen since it first read them."""

    def __init__(self, server: Any, partitions: Partitions) -> None:
        self.server = server
        self.partitions = partitions
        self.new_runs = 0
        self._runs: list[bytes] | None = None

    def read(self) -> None:
        """Read every partition's run count: one pipeline."""
        runs = [run or b"0" for run in self.partitions.values(self.server, keys.RUN)]
        if self._runs is not None and runs != self._runs:
            self.new_runs += 1
        self._runs = runs

    def saw(self, n: int, run: bytes) -> None:
        """A pop in partition `n` replied its run count."""
        if self._runs is not None and self._runs[n] != run:
            self._runs[n] = run
            self.new_runs += 1
