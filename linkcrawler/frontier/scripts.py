"""The frontier's Lua scripts: one file each in `lua/`, read once, registered with a client by name.

Each script names its KEYS and ARGV at its top and says what it replies.
The functions several scripts share (the per-site key names, queueing a
request, giving a lease back, a Bloom filter's bits) are in
`lua/library.lua`, put in front of every script: it only defines functions,
each given the keys and the time it works with, so no script reads another
one's KEYS. A script that reads the Redis clock reads it once, first
(`server_time`).

Every script touches the keys of one partition
(`linkcrawler.frontier.partitions`) or of the start list: one hash slot of a
Redis Cluster. They are called by EVALSHA (`linkcrawler.frontier.roundtrips`).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

LIBRARY = "library"


@functools.cache
def source(name: str) -> str:
    """The Lua of script `name` (`lua/{name}.lua`), the library in front."""
    folder = resources.files(__package__) / "lua"
    return f"{(folder / f'{LIBRARY}.lua').read_text()}\n{(folder / f'{name}.lua').read_text()}"


def register(server: Any, name: str) -> Any:
    """Script `name` registered with `server` (redis-py's `Script`: EVALSHA, loaded on NOSCRIPT)."""
    return server.register_script(source(name))
