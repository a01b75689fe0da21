"""A corpus of hard HTML cases, each with the link records written out by hand.

Every row: a name, a small document, the URL it was served from (and its
headers), and the exact links expected, in document order, as
(target_url, target_host, target_domain, anchor, link_type, nofollow, ugc,
sponsored, follow, position). Nothing expected here is computed by the code
under test: `L` takes the host from the expected URL with the standard
library, and the registered domain is the host unless a row says otherwise.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import pytest
from scrapy.settings import Settings

from linkcrawler.extract.document import is_html
from linkcrawler.extract.links import Link
from linkcrawler.extract.page import Extractor

PAGE = "http://site.com/dir/page.html"
F = (False, False, False, True)  # rel flags: none, effective follow
NF = (True, False, False, False)
PAGE_NOFOLLOW = (False, False, False, False)


def L(target, anchor="", link_type="text", flags=F, position="content", domain=None):
    host = urlsplit(target).hostname
    return (target, host, domain or host, anchor, link_type, *flags, position)


# A table, one case per entry: kept as compact as it reads.
# fmt: off
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
     [L("http://cdn.site.com/assets/img/1", "1", domain="site.com")]),
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
    ("nesting deeper than libxml2's limit", "<body>" + "<b>" * 3000 + '<a href="/deep">deep</a><nav>'
     '<a href="/n">n</a></nav></body>', PAGE, {},
     [L("http://site.com/deep", "deep"), L("http://site.com/n", "n", position="nav")]),
    ("upper-case tags and attributes", '<A HREF="HTTP://B.COM/X" REL="NOFOLLOW">Up</A>', PAGE, {},
     [L("http://b.com/X", "Up", flags=NF)]),
    ("unquoted attributes", "<a href=/q?a=1&b=2 rel=ugc>u</a>", PAGE, {},
     [L("http://site.com/q?a=1&b=2", "u", flags=(False, True, False, False))]),
    ("a without href is no link", '<a name="top">anchor</a><a>no href</a><a href="http://b.com/">b</a>', PAGE, {},
     [L("http://b.com/", "b")]),
    ("nested a elements are split by the parser", '<p><a href="http://b.com/">Fish<a href="http://c.com/">'
     "Chips</a></a></p>", PAGE, {}, [L("http://b.com/", "Fish"), L("http://c.com/", "Chips")]),
    ("svg link with xlink:href", '<svg><a xlink:href="/svg-link"><text>Chart</text></a></svg>', PAGE, {},
     [L("http://site.com/svg-link", "Chart")]),
    # --- more ways out, and where they do not count
    ("Link header canonical comes first", '<head><link rel="canonical" href="/c2"></head>', PAGE,
     {"Link": '<http://site.com/c1>; rel="canonical", <http://site.com/s.css>; rel=preload'},
     [L("http://site.com/c1", "", "canonical"), L("http://site.com/c2", "", "canonical")]),
    ("canonical in the body is ignored", '<body><link rel="canonical" href="/c"><a href="/a">a</a></body>', PAGE, {},
     [L("http://site.com/a", "a")]),
    ("meta refresh in the body still redirects", '<body><p>moved</p><meta http-equiv="refresh" content="0;url=/m">'
     "</body>", PAGE, {}, [L("http://site.com/m", "", "redirect")]),
    ("frameset frames", '<frameset><frame src="/left.html"><frame src="/right.html"></frameset>', PAGE, {},
     [L("http://site.com/left.html", "", "frame"), L("http://site.com/right.html", "", "frame")]),
    ("iframe takes its region", '<aside><iframe src="http://ads.net/f"></iframe></aside>', PAGE, {},
     [L("http://ads.net/f", "", "frame", position="aside")]),
    ("area with rel flags", '<map><area href="/x" alt="X" rel="nofollow sponsored"></map>', PAGE, {},
     [L("http://site.com/x", "X", "area", flags=(True, False, True, False))]),
    # --- base
    ("base after the links applies to all of them", '<a href="a.html">a</a><base href="http://cdn.com/x/">'
     '<a href="b.html">b</a>', PAGE, {}, [L("http://cdn.com/x/a.html", "a"), L("http://cdn.com/x/b.html", "b")]),
    ("first base wins", '<base href="/one/"><base href="/two/"><a href="x">x</a>', PAGE, {},
     [L("http://site.com/one/x", "x")]),
    ("base that is no URL is ignored", '<base href="javascript:x"><a href="x">x</a>', PAGE, {},
     [L("http://site.com/dir/x", "x")]),
    ("relative link from a page with a query", '<a href="page2.html">2</a>', PAGE + "?sort=asc", {},
     [L("http://site.com/dir/page2.html", "2")]),
    ("href of spaces is the page itself", '<a href="   ">blank</a>', PAGE, {}, [L(PAGE, "blank")]),
    # --- registered domains
    ("registered domains through the public suffix list", '<a href="http://alice.github.io/">a</a>'
     '<a href="https://www.bbc.co.uk/news">n</a><a href="http://127.0.0.1:8080/">ip</a>', PAGE, {},
     [L("http://alice.github.io/", "a"), L("https://www.bbc.co.uk/news", "n", domain="bbc.co.uk"),
      L("http://127.0.0.1:8080/", "ip")]),
    # --- robots directives
    ("X-Robots-Tag for another crawler is ignored", '<a href="http://b.com/">b</a>', PAGE,
     {"X-Robots-Tag": "bingbot: nofollow"}, [L("http://b.com/", "b")]),
    ("X-Robots-Tag given twice", '<a href="http://b.com/">b</a>', PAGE,
     {"X-Robots-Tag": ["noarchive", "googlebot: nofollow"]}, [L("http://b.com/", "b", flags=PAGE_NOFOLLOW)]),
    ("meta robots with spaces instead of commas", '<meta name="robots" content="noindex nofollow">'
     '<a href="http://b.com/">b</a>', PAGE, {}, [L("http://b.com/", "b", flags=PAGE_NOFOLLOW)]),
    ("meta robots after the links still applies", '<a href="http://b.com/">b</a><meta name="ROBOTS" '
     'content="NoFollow">', PAGE, {}, [L("http://b.com/", "b", flags=PAGE_NOFOLLOW)]),
    ("page nofollow keeps the links' own flags", '<meta name="robots" content="nofollow"><a rel="sponsored" '
     'href="http://b.com/">b</a>', PAGE, {}, [L("http://b.com/", "b", flags=(False, False, True, False))]),
    # --- positions
    ("an article's own header and footer are content", '<article><header><a href="/h">h</a></header><footer>'
     '<a href="/t">tag</a></footer></article>', PAGE, {}, [L("http://site.com/h", "h"), L("http://site.com/t", "tag")]),
    ("an explicit role counts inside an article", '<article><div role="contentinfo"><a href="/r">r</a></div>'
     "</article>", PAGE, {}, [L("http://site.com/r", "r", position="footer")]),
    ("navigation inside main is nav", '<main><nav class="toc"><a href="/s">s</a></nav></main>', PAGE, {},
     [L("http://site.com/s", "s", position="nav")]),
    ("more class and id names", '<div class="navbar-collapse"><a href="/x">x</a></div><div id="colophon">'
     '<a href="/y">y</a></div><div class="widget"><a href="/z">z</a></div>', PAGE, {},
     [L("http://site.com/x", "x", position="nav"), L("http://site.com/y", "y", position="footer"),
      L("http://site.com/z", "z")]),
    ("template content is inert", '<p>Ad<template><a href="http://ads.com/">Turn off your ad blocker</a></template>'
     ' blocker <a href="http://b.com/">b</a></p>', PAGE, {}, [L("http://b.com/", "b")]),
    ("nested templates and a template in the head", '<head><template><link rel="canonical" href="http://x.com/">'
     '</template></head><body><template><div><template><a href="/t">t</a></template></div></template></body>', PAGE,
     {}, []),
    ("names are whole words", '<div class="canvas menuitem-free"><a href="/x">x</a></div>', PAGE, {},
     [L("http://site.com/x", "x")]),
    # --- anchors
    ("card link: blocks separate words", '<a href="http://b.com/"><h3>Title</h3><p>Excerpt</p></a>', PAGE, {},
     [L("http://b.com/", "Title Excerpt")]),
    ("br separates words", '<a href="http://b.com/">One<br>Two</a>', PAGE, {}, [L("http://b.com/", "One Two")]),
    ("script inside an anchor is not text", '<a href="http://b.com/">Shop<script>var x</script></a>', PAGE, {},
     [L("http://b.com/", "Shop")]),
    ("spans keep the space between them", '<a href="http://b.com/"><span>Read</span> <span>more</span></a>', PAGE,
     {}, [L("http://b.com/", "Read more")]),
    ("image deeper inside the link", '<a href="http://b.com/"><span><img src="i.png" alt="Pic"></span></a>', PAGE,
     {}, [L("http://b.com/", "Pic", "image")]),
    ("named and numeric entities", '<a href="http://b.com/">caf&eacute; &#8211; &#x263A;&nbsp;ok</a>', PAGE, {},
     [L("http://b.com/", "caf\u00e9 \u2013 \u263a ok")]),
    ("an empty text link and an empty image link differ", '<a href="/a"></a><a href="/a"><img></a>', PAGE, {},
     [L("http://site.com/a", ""), L("http://site.com/a", "", "image")]),
    # --- duplicates
    ("a followed duplicate replaces a nofollow one", '<a href="http://b.com/" rel="nofollow">b</a><nav>'
     '<a href="http://b.com/">b</a></nav>', PAGE, {}, [L("http://b.com/", "b", position="nav")]),
    ("a nofollow duplicate does not replace a followed one", '<footer><a href="http://b.com/">b</a></footer>'
     '<a href="http://b.com/" rel="nofollow">b</a>', PAGE, {}, [L("http://b.com/", "b", position="footer")]),
]
# fmt: on


@pytest.mark.parametrize(("name", "html", "url", "headers", "expected"), CASES, ids=[c[0] for c in CASES])
def test_corpus(name, html, url, headers, expected):
    page = Extractor().extract(html, url, headers)
    got = [
        (k.target_url, k.target_host, k.target_domain, k.anchor, k.link_type, k.nofollow, k.ugc, k.sponsored,
         k.follow, k.position)
        for k in page.links
    ]  # fmt: skip
    assert got == expected


def test_one_extractor_gives_every_page_what_a_fresh_one_gives():
    """A worker's extractor caches URLs per origin and anchors across pages: no page may see another's results.

    Every case served from its own URL and from pages on other origins and in other directories, all through
    one extractor, in two orders, against a fresh extractor per page.
    """
    urls = ("https://site.com/dir/page.html", "http://other.org:8080/a/b/c", "http://site.com/other/")
    pages = [(html, url, headers) for _, html, own, headers, _ in CASES for url in (own, *urls)]
    fresh = [Extractor().extract(*page) for page in pages]
    shared = Extractor()
    for order in (range(len(pages)), reversed(range(len(pages)))):
        for index in order:
            assert shared.extract(*pages[index]) == fresh[index], pages[index]


def test_a_site_template_gives_every_page_its_own_links():
    """Header, nav, aside and footer repeat on every page of a site, and the extractor caches their hrefs per origin.

    A template (a header with a skipped href and a nofollow link, an aside with a relative href, a footer with
    a frame) three times on every page, on pages of one site in two directories and under two schemes, and on
    a page that is nofollow as a whole.
    """
    nav = '<nav><a href="/">Home</a> <a href="mailto:a@b.com">Mail</a> <a href="https://b.com/" rel="nofollow">B</a>'
    aside = '<aside><a href="about.html">About</a><a href="/">Home</a></aside>'
    frame = '<footer><iframe src="/f"></iframe><a href="/legal">Legal</a></footer>'
    template = f"<header>{nav}</nav></header>{aside}{frame}"
    urls = ("http://a.com/d/1.html", "http://a.com/e/2.html", "https://a.com/d/3.html")
    pages = [(f"<body>{template}<main><a href='/p{n}'>P{n}</a>{template}</main>{template}</body>", url)
             for n, url in enumerate(urls)]  # fmt: skip
    pages.append(('<meta name="robots" content="nofollow">' + pages[0][0], urls[0]))
    shared = Extractor()
    for html, url in pages * 2:
        page = shared.extract(html, url)
        assert page == Extractor().extract(html, url), url
        assert page.skipped == Counter({"scheme": 3})
    assert [link.position for link in page.links][:5] == ["nav", "nav", "aside", "footer", "footer"]
    assert [link.follow for link in page.links] == [False] * len(page.links)


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({name for name, *_ in CASES}) == len(CASES)


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


def test_a_header_canonical_is_the_page_canonical():
    page = Extractor().extract('<link rel="canonical" href="/b">', PAGE, {"link": "</a>; rel=canonical"})
    assert page.canonical == "http://site.com/a"


def test_robots_directives_for_other_crawlers_are_not_recorded():
    headers = {"X-Robots-Tag": ["otherbot: noindex, nofollow", "googlebot: noarchive", "max-snippet:50"]}
    page = Extractor().extract('<meta name="bingbot" content="noindex">', PAGE, headers)
    assert (page.robots, page.nofollow, page.noindex) == (["noarchive", "max-snippet:50"], False, False)


def test_headers_as_scrapy_gives_them():
    headers = {b"X-Robots-Tag": [b"noindex"], b"Content-Type": [b"text/html; charset=iso-8859-1"]}
    page = Extractor().extract('<a href="http://b.com/">na\xefve</a>'.encode("latin-1"), PAGE, headers)
    assert (page.noindex, page.links[0].anchor) == (True, "na\u00efve")


def test_explicit_encoding_wins_over_the_document():
    body = '<meta charset="utf-8"><a href="http://b.com/">\u00e9t\u00e9</a>'.encode("cp1252")
    assert Extractor().extract(body, PAGE, encoding="cp1252").links[0].anchor == "\u00e9t\u00e9"


def test_an_oversized_document_is_cut_and_counted():
    html = '<a href="http://b.com/1">1</a>' + " " * 100 + '<a href="http://b.com/2">2</a>'
    page = Extractor(max_document_length=110).extract(html, PAGE)
    assert [link.target_url for link in page.links] == ["http://b.com/1"]
    assert page.skipped == Counter({"truncated": 1})


def test_redirect_link_is_normalized_like_any_link():
    link = Extractor().redirect_link("https://www.B.com/new?utm_source=x#top", "http://a.com/old")
    assert link == Link("https://www.b.com/new", "www.b.com", "b.com", "", "redirect")


def test_redirect_to_a_location_that_is_no_link_gives_none():
    assert Extractor().redirect_link("mailto:x@a.com", "http://a.com/next") is None


def test_redirect_to_a_relative_location():
    link = Extractor().redirect_link("../login", "http://a.com/app/page")
    assert (link.target_url, link.link_type, link.anchor, link.follow, link.position) == (
        "http://a.com/login", "redirect", "", True, "content",
    )  # fmt: skip


def test_settings_configure_the_extractor():
    settings = Settings({"TRACKING_PARAMS": ["ref"], "MAX_URL_LENGTH": 30, "MAX_ANCHOR_LENGTH": 3})
    page = Extractor.from_settings(settings).extract(
        '<a href="http://b.com/?ref=1&utm_source=2">abcdef</a><a href="http://b.com/very/long/path/here">x</a>', PAGE
    )
    assert [(link.target_url, link.anchor) for link in page.links] == [("http://b.com/?utm_source=2", "abc")]
    assert page.skipped == Counter({"too_long": 1})


def test_settings_default_when_absent():
    extractor = Extractor.from_settings(Settings())
    assert extractor.normalize_url("http://b.com/?utm_source=1&k=v", PAGE) == "http://b.com/?k=v"


def test_a_base_in_the_body_applies_to_what_was_read_before_it():
    """The scan looks for a base in the head; one that only the body holds makes it read the page again."""
    html = (
        '<head><link rel="canonical" href="c.html"><meta name="robots" content="noarchive"></head><body>'
        '<a href="javascript:x()">j</a><a href="a.html">a</a><base href="http://cdn.com/x/"><a href="b.html">b</a>'
    )
    page = Extractor().extract(html, PAGE, {"Link": "<h.html>; rel=canonical"})
    assert [(link.target_url, link.link_type) for link in page.links] == [
        ("http://site.com/dir/h.html", "canonical"), ("http://cdn.com/x/c.html", "canonical"),
        ("http://cdn.com/x/a.html", "text"), ("http://cdn.com/x/b.html", "text"),
    ]  # fmt: skip
    assert (page.canonical, page.robots, page.skipped) == ("http://site.com/dir/h.html", ["noarchive"], {"scheme": 1})
