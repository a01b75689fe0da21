"""Extraction + normalization speed against the bare lxml parse, on the same pages, side by side.

    python bench/extract.py [--quick] [--json]

The corpus is generated: 300 pages of 50-300 links on 30 sites (about 14 KB
each: fewer bytes per link than real pages, and the parse costs per byte
where extraction costs per link). About half of a page's links are its
site's template (header navigation, a sidebar of recent posts, footer links
to social profiles, sponsored partners and legal pages), the same on every
page of the site: Gibson, Punera and Tomkins (The volume and evolution of web
page templates, WWW 2005) measured 40-50% of web content as template
material, growing 6-8% a year in text, links and bytes. The other half are
content links in short paragraphs and lists, nearly all unique: relative,
root-relative, absolute and protocol-relative, some with tracking parameters
or fragments, some nofollow, some image links. A second corpus has content
links only, the worst case for the extractor's caches.

The same ratio is measured on real pages when the shared corpus is beside
the repository (`../shared/corpus/readability-pages`: 130 saved news,
blog, wiki and shop pages, about 200 KB each, many more bytes per link
than the generated pages), at the base URL its README gives.

Each round times every timer on every page, rotating which goes first,
with a fresh `Extractor` per round (its caches warm up within a round as
they do within a crawl). Times are CPU times of this process: the machines
are shared, and wall time would count other processes' turns. The results
are medians over rounds of (pages/s extracting) / (pages/s parsing the same
pages with lxml, the parser Scrapy's selectors use): 1.0 would mean a whole
extraction costs what lxml's parse alone does. Extraction itself parses with
Lexbor (`linkcrawler.extract.document`), as does the lean loop.
"""

from __future__ import annotations

import gzip
import random
import statistics
import sys
import time
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cli import run_measure
from linkcrawler.extract.document import parse
from linkcrawler.extract.page import Extractor
from linkcrawler.extract.urls import UrlNormalizer

REAL_PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "readability-pages"
REAL_PAGE_URL = "http://fakehost/test/page.html"
WORDS = (
    "seo", "link", "crawl", "garden", "recipe", "travel", "camera", "review",
    "guide", "budget", "coffee", "design", "city", "photo", "news",
)  # fmt: skip


def _site_chrome(rng: random.Random, host: str) -> tuple[str, str, str]:
    """Header, sidebar and footer of a site: 40-130 links, the same on every page of the site."""
    size = rng.randint(40, 130)
    nav_links, side_links = size * 2 // 5, size * 3 // 10
    foot_links = size - nav_links - side_links - 1
    nav = "".join(f'<li><a href="/section/{rng.choice(WORDS)}-{n}/">{rng.choice(WORDS).title()}</a></li>'
                  for n in range(nav_links - 1))  # fmt: skip
    recent = "".join(f'<li><a href="/{rng.choice(WORDS)}/{rng.randrange(10_000)}.html">{_words(rng, 4)}</a></li>'
                     for _ in range(side_links))  # fmt: skip
    follow = " ".join(f'<a href="https://social{n}.example.net/{host}">Follow {n}</a>' for n in range(foot_links // 3))
    partners = " ".join(
        f'<a href="https://partner{n}.example.org/?utm_source={host}" rel="sponsored">Partner {n}</a>'
        for n in range(foot_links // 3)
    )
    legal = " ".join(f'<a href="/legal/{n}">Legal {n}</a>' for n in range(foot_links - 2 * (foot_links // 3)))
    header = f'<header><a href="/"><img src="/logo.png" alt="{host}"></a><nav><ul>{nav}</ul></nav></header>'
    sidebar = f"<aside class='sidebar'><h2>Recent</h2><ul>{recent}</ul><a href='/tags'>Tags</a></aside>"
    footer = f'<footer class="site-footer"><p>{follow}</p><p>{partners}</p><p>{legal}</p></footer>'
    return header, sidebar, footer


def _content_link(rng: random.Random, sites: list[str]) -> str:
    word = rng.choice(WORDS)
    kind = rng.random()
    if kind < 0.4:
        href = f"/{word}/{rng.randrange(10_000)}.html"
    elif kind < 0.5:
        href = f"{word}-{rng.randrange(1000)}.html"
    elif kind < 0.8:
        href = f"https://www.{rng.choice(sites)}/{word}/{rng.randrange(500)}?ref=x#c{rng.randrange(9)}"
    else:
        href = f"//{rng.choice(sites)}/{word}?utm_medium=feed&id={rng.randrange(99)}"
    rel = ' rel="nofollow"' if rng.random() < 0.15 else ""
    if rng.random() < 0.1:
        return f'<a href="{href}"{rel}><img src="/i.jpg" alt="{word} photo"></a>'
    return f'<a href="{href}"{rel}>{word} <b>{rng.choice(WORDS)}</b></a>'


def _block(rng: random.Random, sites: list[str], links: int) -> str:
    """A paragraph with a few links in its text, or a list of links."""
    if rng.random() < 0.5:
        return f"<p>{' '.join(f'{_words(rng, 7)} {_content_link(rng, sites)}' for _ in range(links))}.</p>"
    return f"<ul>{''.join(f'<li>{_content_link(rng, sites)} {_words(rng, 2)}</li>' for _ in range(links))}</ul>"


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choices(WORDS, k=count))


def corpus(pages: int = 300, seed: int = 7, template: bool = True) -> list[tuple[str, str]]:
    """(url, html) pairs: `pages` pages over 30 sites, 50-300 links each, about half of them the site's template.

    Without `template`, every link is a content link: the worst case for caches, as no href repeats.
    """
    rng = random.Random(seed)
    sites = [f"{rng.choice(WORDS)}{n}.example.com" for n in range(30)]
    chrome = {host: _site_chrome(rng, host) for host in sites}
    documents = []
    for n in range(pages):
        host = sites[n % len(sites)]
        header, sidebar, footer = chrome[host] if template else ("", "", "")
        links = rng.randint(10, 170) if template else rng.randint(50, 300)
        paragraphs = "".join(_block(rng, sites, min(links - start, 4)) for start in range(0, links, 4))
        html = (
            f"<!DOCTYPE html><html><head><title>{host} {n}</title></head><body>{header}"
            f"<main><article>{paragraphs}</article></main>{sidebar}{footer}</body></html>"
        )
        documents.append((f"https://{host}/page/{n}.html", html))
    return documents


def real_pages(limit: int | None = None) -> list[tuple[str, str]]:
    """(url, html) of the real pages of the shared corpus, in name order; none when it is not there."""
    paths = sorted(REAL_PAGES.glob("*.html.gz"))[:limit]
    return [(REAL_PAGE_URL, gzip.decompress(path.read_bytes()).decode("utf-8", "replace")) for path in paths]


def _time_parse(documents: list[tuple[str, str]]) -> float:
    started = time.process_time()
    for _, html in documents:
        lxml.html.fromstring(html)
    return time.process_time() - started


def _time_lean_loop(documents: list[tuple[str, str]]) -> float:
    """What reading alone costs: parse as `Extractor` does (Lexbor), then read the href, rel and text of each `a`,
    normalizing nothing."""
    started = time.process_time()
    for _, html in documents:
        for element in parse(html).css("a"):
            attributes = element.attributes
            attributes.get("href"), attributes.get("rel"), element.text(True, "", False)
    return time.process_time() - started


def page_hrefs(documents: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """(url, hrefs of its `a` elements) per page: the input of `_time_urls`, read before timing it."""
    return [(url, [a.attributes["href"] or "" for a in parse(html).css("a[href]")]) for url, html in documents]


def _time_urls(pages: list[tuple[str, list[str]]]) -> float:
    """URL normalization alone, caches included: a fresh normalizer per round, as `_time_extract` has."""
    normalizer = UrlNormalizer()
    started = time.process_time()
    for url, hrefs in pages:
        resolve = normalizer.resolver(url)
        for href in hrefs:
            resolve(href)
    return time.process_time() - started


def _time_extract(documents: list[tuple[str, str]]) -> float:
    """A fresh extractor per round: its URL caches warm up over the round, as over a crawl."""
    extractor = Extractor()
    started = time.process_time()
    for url, html in documents:
        extractor.extract(html, url)
    return time.process_time() - started


def measure(quick: bool = False) -> dict[str, float]:
    """Median over rounds of each ratio to the bare parse of the same pages; each round runs every timer, in a
    rotating order. `..._without_template` is measured on pages of content links only."""
    documents = corpus(100 if quick else 300)
    unique = corpus(100 if quick else 300, template=False)
    real = real_pages(30 if quick else None)
    rounds = 3 if quick else 7
    timers = {
        "parse": (_time_parse, documents),
        "lean_loop": (_time_lean_loop, documents),
        "urls": (_time_urls, page_hrefs(documents)),
        "extract": (_time_extract, documents),
        "parse_without_template": (_time_parse, unique),
        "extract_without_template": (_time_extract, unique),
    }
    baselines = {
        "extract": "parse", "lean_loop": "parse", "urls": "parse", "extract_without_template": "parse_without_template",
    }  # fmt: skip
    if real:
        timers.update(parse_real_pages=(_time_parse, real), extract_real_pages=(_time_extract, real))
        baselines["extract_real_pages"] = "parse_real_pages"
    times: dict[str, list[float]] = {name: [] for name in timers}
    ratios: dict[str, list[float]] = {name: [] for name in [*baselines, "floor"]}
    for n in range(rounds):
        names = list(timers)[n % len(timers) :] + list(timers)[: n % len(timers)]
        round_times = {name: timers[name][0](timers[name][1]) for name in names}
        for name, seconds in round_times.items():
            times[name].append(seconds)
        for name, baseline in baselines.items():
            ratios[name].append(round_times[baseline] / round_times[name])
        ratios["floor"].append(round_times["parse"] / (round_times["lean_loop"] + round_times["urls"]))
    links = sum(len(Extractor().extract(html, url).links) for url, html in documents) / len(documents)
    return {
        "extract_vs_lxml_parse": round(statistics.median(ratios["extract"]), 3),
        "extract_vs_lxml_parse_without_template": round(statistics.median(ratios["extract_without_template"]), 3),
        "extract_vs_lxml_parse_real_pages": round(statistics.median(ratios["extract_real_pages"]), 3) if real else None,
        "real_pages": len(real),
        "lean_loop_vs_lxml_parse": round(statistics.median(ratios["lean_loop"]), 3),
        "urls_vs_lxml_parse": round(statistics.median(ratios["urls"]), 3),
        "lean_loop_plus_urls_vs_lxml_parse": round(statistics.median(ratios["floor"]), 3),
        "pages": len(documents),
        "mean_bytes_per_page": round(sum(len(h) for _, h in documents) / len(documents)),
        "mean_links_per_page": round(links),
        "parse_pages_per_second": round(len(documents) / statistics.median(times["parse"])),
        "extract_pages_per_second": round(len(documents) / statistics.median(times["extract"])),
        "extract_links_per_second": round(links * len(documents) / statistics.median(times["extract"])),
    }


if __name__ == "__main__":
    run_measure(measure, __doc__, "fewer pages and rounds")
