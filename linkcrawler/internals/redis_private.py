"""redis-py internals (written against redis-py 8.2).

- `Connection._sock`: the socket of a connection, for the reactor to watch
  while a pipeline sent on it is not read yet
  (`linkcrawler.frontier.roundtrips.Sent`). redis-py reads replies only by
  blocking on the socket; it has no public call for "is a reply in?" that a
  reactor can wait on.
"""

from __future__ import annotations

import socket
from typing import Any


def socket_of(connection: Any) -> socket.socket | None:
    """The connected socket of a redis-py connection, or None if it is not connected."""
    return connection._sock
