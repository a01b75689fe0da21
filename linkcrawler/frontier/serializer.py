"""Request serialization for the Redis frontier: JSON, not pickle.

scrapy-redis pickles requests by default; a pickle written by one version of
Scrapy or Python may not load in another, and a frontier outlives upgrades.
`Request.to_dict()` holds bytes (body, headers) and tuples, which JSON lacks,
so they are tagged: `{"$b": base64}` for bytes and `{"$m": [[k, v], ...]}` for
mappings whose keys are not all strings. The module has the `dumps`/`loads`
pair that scrapy-redis's `SCHEDULER_SERIALIZER` setting expects.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$m": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} into the frontier: {value!r}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if "$m" in value:
            return {_decode(k): _decode(v) for k, v in value["$m"]}
        return {k: _decode(v) for k, v in value.items()}
    return value


def dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(_encode(obj), separators=(",", ":")).encode()


def loads(data: bytes | str) -> dict[str, Any]:
    return _decode(json.loads(data))
