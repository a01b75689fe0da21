"""scrapy-redis internals (written against scrapy-redis 0.9.1).

`Base._encode_request` / `_decode_request` of `scrapy_redis.queue`: the queue's
own request serialization (with the `SCHEDULER_SERIALIZER` it was built with).
The frontier writes and reads the queue's sorted set itself, in Lua scripts
and batches, so it must encode exactly as the queue would.
"""

from __future__ import annotations

from typing import Any


def encode_request(queue: Any, request: Any) -> bytes:
    return queue._encode_request(request)


def decode_request(queue: Any, data: bytes) -> Any:
    return queue._decode_request(data)
