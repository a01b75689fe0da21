"""A corpus of hard HTML cases, each with the link records written out by hand.

Every row: a name, a small document, the URL it was served from (and its
headers), and the exact links expected, in document order, as
(target_url, anchor, link_type, nofollow, ugc, sponsored, follow, position).
Nothing expected here is computed by the code under test.
"""

from __future__ import annotations

import pytest

from linkcrawler.extract import Extractor, is_html

PAGE = "http://site.com/dir/page.html"
F = (False, False, False, True)  # rel flags: none, effective follow
NF = (True, False, False, False)


def L(target, anchor="", link_type="text", flags=F, position="content"):
    return (target, anchor, link_type, *flags, position)


CASES = [
    # --- every way a page links out
    ("plain absolute link", '<a href="http://other.com/x">Other</a>', PAGE, {}, [L("http://other.com/x", "Other")]),
    ("relative link", '<a href="../up.html">Up</a>', PAGE, {}, [L("http://site.com/up.html", "Up")]),
    ("root-relative link", '<a href="/top">Top</a>', PAGE, {}, [L("http://site.com/top", "Top")]),
    ("area in an image map", '<map><area href="/a" alt="Region A"><area alt="no href"></map>', PAGE, {},
     [L("http://site.com/a", "Region A", "area")]),
    ("image link takes alt text", '<a href="http://b.com/"><img src="x.png" alt=" The  Logo "></a>', PAGE, {},
     [L("http://b.com/", "The Logo", "image")]),
    ("image without alt is an empty image anchor", '<a href="http://b.com/"><img src="x.png"></a>', PAGE, {},
     [L("http://b.com/", "", "image")]),
    ("text beside an image wins over alt", '<a href="http://b.com/"><img alt="logo"> Brand</a>', PAGE, {},
     [L("http://b.com/", "Brand", "text")]),
    ("canonical link", '<head><link rel="canonical" href="http://other.com/orig"></head>', PAGE, {},
     [L("http://other.com/orig", "", "canonical")]),
    ("canonical among other rel tokens", '<link rel="Alternate CANONICAL" href="/c">', PAGE, {},
     [L("http://site.com/c", "", "canonical")]),
    ("stylesheet links are not links", '<link rel="stylesheet" href="/s.css"><link rel="icon" href="/i.ico">', PAGE, {},
     []),
    ("iframe is a frame link", '<iframe src="https://video.net/embed/1"></iframe>', PAGE, {},
     [L("https://video.net/embed/1", "", "frame")]),
    ("meta refresh is a redirect", '<meta http-equiv="Refresh" content="0; URL=\'http://new.com/p\'">', PAGE, {},
     [L("http://new.com/p", "", "redirect")]),
    ("meta refresh without url= part", '<meta http-equiv="refresh" content="5;http://new.com/q">', PAGE, {},
     [L("http://new.com/q", "", "redirect")]),
    ("meta refresh that only reloads is no link", '<meta http-equiv="refresh" content="30">', PAGE, {}, []),
    # --- rel tokens and page-level nofollow
    ("nofollow", '<a rel="nofollow" href="http://b.com/">b</a>', PAGE, {}, [L("http://b.com/", "b", flags=NF)]),
    ("rel tokens any case and spacing", '<a rel="  UGC\tNoFollow  " href="http://b.com/">b</a>', PAGE, {},
     [L("http://b.com/", "b", flags=(True, True, False, False))]),
    ("sponsored alone is not dofollow", '<a rel="sponsored" href="http://b.com/">b</a>', PAGE, {},
     [L("http://b.com/", "b", flags=(False, False, True, False))]),
    ("noopener does not change follow", '<a rel="noopener noreferrer" href="http://b.com/">b</a>', PAGE, {},
     [L("http://b.com/", "b")]),
    ("meta robots nofollow", '<meta name="robots" content="index, NOFOLLOW"><a href="http://b.com/">b</a>', PAGE, {},
     [L("http://b.com/", "b", flags=(False, False, False, False))]),
    ("meta googlebot none", '<meta name="googlebot" content="none"><a href="http://b.com/">b</a>', PAGE, {},
     [L("http://b.com/", "b", flags=(False, False, False, False))]),
    ("meta for another bot is ignored", '<meta name="bingbot" content="nofollow"><a href="http://b.com/">b</a>', PAGE,
     {}, [L("http://b.com/", "b")]),
    ("X-Robots-Tag header", '<a href="http://b.com/">b</a>', PAGE, {"X-Robots-Tag": "noarchive, nofollow"},
     [L("http://b.com/", "b", flags=(False, False, False, False))]),
    ("X-Robots-Tag for googlebot", '<a href="http://b.com/">b</a>', PAGE, {"X-Robots-Tag": "googlebot: nofollow"},
     [L("http://b.com/", "b", flags=(False, False, False, False))]),
    # --- positions
    ("html5 regions", '<header><a href="/h">h</a></header><nav><a href="/n">n</a></nav><main><a href="/c">c</a>'
     '</main><aside><a href="/s">s</a></aside><footer><a href="/f">f</a></footer>', PAGE, {},
     [L("http://site.com/h", "h", position="header"), L("http://site.com/n", "n", position="nav"),
      L("http://site.com/c", "c"), L("http://site.com/s", "s", position="aside"),
      L("http://site.com/f", "f", position="footer")]),
    ("aria roles", '<div role="navigation"><a href="/n">n</a></div><div role="contentinfo"><a href="/f">f</a></div>'
     '<div role="complementary"><a href="/s">s</a></div><div role="banner"><a href="/h">h</a></div>', PAGE, {},
     [L("http://site.com/n", "n", position="nav"), L("http://site.com/f", "f", position="footer"),
      L("http://site.com/s", "s", position="aside"), L("http://site.com/h", "h", position="header")]),
    ("class and id heuristics", '<div class="site-footer"><a href="/f">f</a></div><ul id="main-menu"><li>'
     '<a href="/m">m</a></li></ul><div class="sidebar-left"><a href="/s">s</a></div>', PAGE, {},
     [L("http://site.com/f", "f", position="footer"), L("http://site.com/m", "m", position="nav"),
      L("http://site.com/s", "s", position="aside")]),
    ("the nearest region wins", '<footer><nav><a href="/x">x</a></nav></footer>', PAGE, {},
     [L("http://site.com/x", "x", position="nav")]),
    ("article ends the search: its footer class does not leak", '<div class="footer"><article><p>'
     '<a href="/x">x</a></p></article></div>', PAGE, {}, [L("http://site.com/x", "x")]),
    # --- URL normalization
    ("base href", '<base href="http://cdn.site.com/assets/"><a href="img/1">1</a>', PAGE, {},
     [L("http://cdn.site.com/assets/img/1", "1")]),
    ("relative base href", '<base href="/root/"><a href="x">x</a>', PAGE, {}, [L("http://site.com/root/x", "x")]),
    ("protocol-relative", '<a href="//Other.COM/p">p</a>', "https://site.com/", {}, [L("https://other.com/p", "p")]),
    ("whitespace and newlines inside href", '<a href="  http://b.com/a\n/b\t ">ab</a>', PAGE, {},
     [L("http://b.com/a/b", "ab")]),
    ("entities in href", '<a href="http://b.com/?x=1&amp;y=2">q</a>', PAGE, {}, [L("http://b.com/?x=1&y=2", "q")]),
    ("IDN host to punycode", '<a href="http://bücher.de/ä">b</a>', PAGE, {},
     [L("http://xn--bcher-kva.de/%C3%A4", "b")]),
    ("query order and percent-encoding", '<a href="http://b.com/a b?z=1&a=2">q</a>', PAGE, {},
     [L("http://b.com/a%20b?a=2&z=1", "q")]),
    ("default port dropped, others kept", '<a href="https://b.com:443/">1</a><a href="http://b.com:8080/">2</a>', PAGE,
     {}, [L("https://b.com/", "1"), L("http://b.com:8080/", "2")]),
    ("fragment dropped", '<a href="http://b.com/p#section">p</a>', PAGE, {}, [L("http://b.com/p", "p")]),
    ("tracking parameters dropped", '<a href="http://b.com/p?utm_source=x&id=3&gclid=y&fbclid=z">p</a>', PAGE, {},
     [L("http://b.com/p?id=3", "p")]),
    ("path case and trailing slash kept", '<a href="http://b.com/About/">a</a><a href="http://b.com/About">b</a>',
     PAGE, {}, [L("http://b.com/About/", "a"), L("http://b.com/About", "b")]),
    ("non-http schemes skipped", '<a href="javascript:go()">j</a><a href="mailto:a@b.c">m</a><a href="tel:1">t</a>'
     '<a href="data:text/html,x">d</a><a href="ftp://f.com/">f</a>', PAGE, {}, []),
    ("malformed hosts skipped", '<a href="http://bad host/">1</a><a href="http://a..b/">2</a>'
     '<a href="http://b.com:99999/">3</a>', PAGE, {}, []),
    ("the page itself and its fragments", '<a href="">self</a><a href="#top">top</a>', PAGE, {},
     [L(PAGE, "self"), L(PAGE, "top")]),
    # --- anchors
    ("nested markup flattened, entities decoded", '<a href="http://b.com/"><span>Fish</span> &amp; <em>Chips</em></a>',
     PAGE, {}, [L("http://b.com/", "Fish & Chips")]),
    ("NFKC and collapsed whitespace", '<a href="http://b.com/">\uff26\uff55\uff4c\uff4c\u00a0 width\n text</a>', PAGE,
     {}, [L("http://b.com/", "Full width text")]),
    ("title is not anchor text", '<a href="http://b.com/" title="Title text"></a>', PAGE, {},
     [L("http://b.com/", "")]),
    ("one record per target, type and anchor", '<a href="http://b.com/">b</a><a href="http://b.com/#x">b</a>'
     '<a href="http://b.com/">B</a>', PAGE, {}, [L("http://b.com/", "b"), L("http://b.com/", "B")]),
    # --- broken HTML
    ("unclosed tags still yield links", '<div><a href="http://b.com/1">one<a href="http://b.com/2">two</div>', PAGE,
     {}, [L("http://b.com/1", "one"), L("http://b.com/2", "two")]),
    ("link in a table without rows", '<table><a href="http://b.com/t">t</a></table>', PAGE, {},
     [L("http://b.com/t", "t")]),
]


@pytest.mark.parametrize(("name", "html", "url", "headers", "expected"), CASES, ids=[c[0] for c in CASES])
def test_corpus(name, html, url, headers, expected):
    page = Extractor().extract(html, url, headers)
    got = [
        (k.target_url, k.anchor, k.link_type, k.nofollow, k.ugc, k.sponsored, k.follow, k.position) for k in page.links
    ]
    assert got == expected


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


def test_skips_are_counted_by_kind():
    html = '<a href="javascript:x()">j</a><a href="mailto:a@b">m</a><a href="http://bad host/">b</a>'
    extractor = Extractor(max_url_length=40)
    page = extractor.extract(html + '<a href="http://b.com/' + "x" * 50 + '">long</a>', PAGE)
    assert dict(page.skipped) == {"scheme": 2, "malformed": 1, "too_long": 1}


def test_anchor_length_is_capped():
    page = Extractor(max_anchor_length=10).extract('<a href="http://b.com/">' + "word " * 10 + "</a>", PAGE)
    assert page.links[0].anchor == "word word"


def test_page_level_directives_and_canonical():
    html = '<meta name="robots" content="noindex,nofollow"><link rel="canonical" href="/canon">'
    page = Extractor().extract(html, PAGE, {"X-Robots-Tag": "noarchive"})
    assert (page.nofollow, page.noindex, page.canonical) == (True, True, "http://site.com/canon")
    assert page.robots == ["noarchive", "noindex", "nofollow"]


def test_bytes_are_decoded_the_scrapy_way():
    body = '<meta charset="windows-1252"><a href="http://b.com/">caf\xe9</a>'.encode("cp1252")
    assert Extractor().extract(body, PAGE).links[0].anchor == "café"
    latin = '<a href="http://b.com/">na\xefve</a>'.encode("latin-1")
    headers = {"Content-Type": "text/html; charset=iso-8859-1"}
    assert Extractor().extract(latin, PAGE, headers).links[0].anchor == "naïve"


def test_the_page_url_is_normalized_like_its_links():
    page = Extractor().extract("", "HTTP://Site.COM:80/a?utm_medium=x#frag")
    assert (page.url, page.host, page.domain, page.links) == ("http://site.com/a", "site.com", "site.com", [])


@pytest.mark.parametrize(
    ("content_type", "body", "parsed"),
    [
        ("text/html; charset=utf-8", b"<html>", True),
        ("application/xhtml+xml", b"<html>", True),
        ("application/pdf", b"%PDF-1.7", False),
        ("image/png", b"\x89PNG\r\n", False),
        ("application/json", b'{"a": 1}', False),
        ("text/html", b"%PDF-1.4 binary labelled html", False),
        ("text/html", b"<html>\x00\x01\x02", False),
        (None, b"  <!DOCTYPE html><html>", True),
        (None, b"plain text", False),
    ],
)
def test_only_html_is_parsed(content_type, body, parsed):
    assert is_html(content_type, body) is parsed


@pytest.mark.parametrize(
    "url",
    ["http://a.com", "http://a.com/", "http://a.com/A/b-c_d.e~f/", "https://a.com/x//y", "http://a.com/%7ex",
     "http://a.com/a b", "http://a.com/é", "http://a.com/p;params", "http://a.com/p?", "http://a.com/p?b=1&a=2",
     "http://a.com/p/../q", "http://a.com/./p", "http://a.com/p?a", "http://a.com/p?a=&b=c", "http://a.com/p?z=1&z=0",
     "http://a.com/p?q=a+b", "http://a.com/p?q=%41%7e", "http://a.com/p?=x", "http://a.com/p?a=1;b=2",
     "http://a.com/p?k=%E2%82%AC", "http://a.com/p?b&a=2&c"],
)  # fmt: skip
def test_normal_form_is_w3lib_canonical_form(url):
    from w3lib.url import canonicalize_url

    assert Extractor().normalize_url(url, url) == canonicalize_url(url, keep_fragments=False)


@pytest.mark.parametrize(
    "href", ["/x", "/a b", "/p?b=1&a=2", "/./x", "/a/../b", "/x#f", "/p?utm_source=s&k=v", "/%7euser", "/é?q=ü", "/"]
)
def test_root_relative_hrefs_match_w3lib_after_a_join(href):
    from urllib.parse import urljoin

    from w3lib.url import canonicalize_url

    base = "http://a.com:8080/dir/page"
    expected = canonicalize_url(urljoin(base, href).replace("utm_source=s&", ""), keep_fragments=False)
    assert Extractor().normalize_url(href, base) == expected


@pytest.mark.parametrize(
    ("document", "targets"),
    [
        ("<!-- only a comment -->", []),
        ("   plain text  ", []),
        ('<?xml version="1.0" encoding="utf-8"?><html><a href="/x">x</a></html>', ["http://site.com/x"]),
        ("\x00\x01\x02", []),
        (b"\xff\xfe<\x00a\x00", []),
        (b"", []),
    ],
)
def test_odd_documents_yield_what_links_they_have_and_never_fail(document, targets):
    assert [link.target_url for link in Extractor().extract(document, PAGE).links] == targets
