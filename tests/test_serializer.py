"""Requests survive the Redis frontier as JSON, with everything Scrapy puts in them."""

from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict

from linkcrawler.frontier import serializer


def roundtrip(request: Request) -> Request:
    data = serializer.dumps(request.to_dict())
    assert data.startswith(b"{")  # JSON, readable with redis-cli, never a pickle
    return request_from_dict(serializer.loads(data))


def test_url_priority_and_flags_survive():
    request = Request("http://a.com/x?b=2&a=1", priority=-4, dont_filter=True, flags=["seed"])
    back = roundtrip(request)
    assert (back.url, back.priority, back.dont_filter, back.flags) == (request.url, -4, True, ["seed"])


def test_bytes_headers_and_body_survive():
    request = Request("http://a.com/", method="POST", headers={"X-Token": "1"}, body=b"\x00\xffraw")
    back = roundtrip(request)
    assert back.body == b"\x00\xffraw"
    assert back.headers.getlist("X-Token") == [b"1"]


def test_meta_from_redirects_and_depth_survives():
    meta = {"depth": 3, "redirect_urls": ["http://a.com/old"], "redirect_reasons": [301], "redirect_times": 1}
    assert roundtrip(Request("http://a.com/new", meta=meta)).meta == meta


def test_keys_that_look_like_tags_are_not_confused_with_them():
    meta = {"$b": "not base64", "nested": {"$m": [1, 2]}}
    assert roundtrip(Request("http://a.com/", meta=meta)).meta == meta


def test_unserializable_meta_is_refused_loudly():
    import pytest

    with pytest.raises(TypeError, match="cannot put a object"):
        serializer.dumps({"meta": {"x": object()}})


class Probe(Spider):
    name = "probe"

    def failed(self, failure):
        """An errback, named in the stored request."""


STORED = (
    b'{"url":"http://a.com/x?q=1","callback":"parse","errback":"failed","headers":{"$m":[[{"$b":"WA=="},'
    b'[{"$b":"eQ=="}]]]},"body":{"$b":"AGI="},"cookies":{},"meta":{"depth":2,"dont_redirect":true,"lease":"w#1"},'
    b'"encoding":"utf-8","flags":[],"cb_kwargs":{},"dont_filter":true,"method":"GET","priority":-3}'
)
"""A request as workers store it in Redis (scrapy-redis's queues store it the same with this serializer)."""


def test_a_stored_request_reads_back_whole_and_is_stored_again_byte_for_byte():
    spider = Probe()
    methods = serializer.SpiderMethods(spider)
    request = serializer.decode_request(STORED, methods)
    assert (request.url, request.callback, request.errback) == ("http://a.com/x?q=1", spider.parse, spider.failed)
    assert (request.body, request.headers.getlist("X"), request.priority) == (b"\x00b", [b"y"], -3)
    assert request.meta == {"depth": 2, "dont_redirect": True, "lease": "w#1"} and request.dont_filter
    assert serializer.encode_request(request, methods) == STORED
