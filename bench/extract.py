"""Extraction + normalization speed against the bare lxml parse, on the same pages, side by side.

    python bench/extract.py [--quick] [--json]

The corpus is generated: 300 pages of 50-300 links (about 18 KB each) on 30
sites, with navigation and footer links repeated on every page of a site, as
on real sites, relative and absolute hrefs, tracking parameters, nofollow and
image links. Each round times both on every page, alternating which goes
first, with a fresh `Extractor` per round (its caches warm up within a round
as they do within a crawl). The result is the median over rounds of
(pages/s extracting) / (pages/s parsing): 1.0 would mean extraction is free.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkcrawler.extract import Extractor

WORDS = (
    "seo", "link", "crawl", "garden", "recipe", "travel", "camera", "review",
    "guide", "budget", "coffee", "design", "city", "photo", "news",
)  # fmt: skip


def _site_chrome(rng: random.Random, host: str) -> tuple[str, str]:
    nav = "".join(f'<li><a href="/section/{w}/">{w.title()}</a></li>' for w in rng.sample(WORDS, 12))
    partners = " ".join(
        f'<a href="https://partner{n}.example.org/?utm_source={host}" rel="sponsored">Partner {n}</a>' for n in range(8)
    )
    header = f'<header><a href="/"><img src="/logo.png" alt="{host}"></a><nav><ul>{nav}</ul></nav></header>'
    footer = f'<footer class="site-footer"><p>{partners}</p><a href="/about">About</a></footer>'
    return header, footer


def _content_link(rng: random.Random, sites: list[str]) -> str:
    word = rng.choice(WORDS)
    kind = rng.random()
    if kind < 0.5:
        href = f"/{word}/{rng.randrange(10_000)}.html"
    elif kind < 0.8:
        href = f"https://www.{rng.choice(sites)}/{word}/{rng.randrange(500)}?ref=x#c{rng.randrange(9)}"
    else:
        href = f"//{rng.choice(sites)}/{word}?utm_medium=feed&id={rng.randrange(99)}"
    rel = ' rel="nofollow"' if rng.random() < 0.15 else ""
    if rng.random() < 0.1:
        return f'<a href="{href}"{rel}><img src="/i.jpg" alt="{word} photo"></a>'
    return f'<a href="{href}"{rel}>{word} <b>{rng.choice(WORDS)}</b></a>'


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choices(WORDS, k=count))


def corpus(pages: int = 300, seed: int = 7) -> list[tuple[str, str]]:
    """(url, html) pairs: `pages` pages over 30 sites, 50-300 links each."""
    rng = random.Random(seed)
    sites = [f"{rng.choice(WORDS)}{n}.example.com" for n in range(30)]
    chrome = {host: _site_chrome(rng, host) for host in sites}
    documents = []
    for n in range(pages):
        host = sites[n % len(sites)]
        header, footer = chrome[host]
        links = rng.randint(50, 300) - 33
        paragraphs = "".join(
            f"<p>{_words(rng, 12)} {_content_link(rng, sites)} {_words(rng, 8)}</p>" for _ in range(links)
        )
        html = (
            f"<!DOCTYPE html><html><head><title>{host} {n}</title></head><body>{header}"
            f"<main><article>{paragraphs}</article></main><aside class='sidebar'><a href='/tags'>Tags</a></aside>"
            f"{footer}</body></html>"
        )
        documents.append((f"https://{host}/page/{n}.html", html))
    return documents


def _time_parse(documents: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    for _, html in documents:
        lxml.html.fromstring(html)
    return time.perf_counter() - started


def _time_extract(documents: list[tuple[str, str]]) -> float:
    extractor = Extractor()
    started = time.perf_counter()
    for url, html in documents:
        extractor.extract(html, url)
    return time.perf_counter() - started


def measure(quick: bool = False) -> dict[str, float]:
    documents = corpus(100 if quick else 300)
    rounds = 3 if quick else 7
    ratios, parse_times, extract_times = [], [], []
    for n in range(rounds):
        if n % 2:
            extract_time, parse_time = _time_extract(documents), _time_parse(documents)
        else:
            parse_time, extract_time = _time_parse(documents), _time_extract(documents)
        parse_times.append(parse_time)
        extract_times.append(extract_time)
        ratios.append(parse_time / extract_time)
    links = sum(len(Extractor().extract(html, url).links) for url, html in documents[:20]) / 20
    return {
        "extract_vs_lxml_parse": round(statistics.median(ratios), 3),
        "pages": len(documents),
        "mean_bytes_per_page": round(sum(len(h) for _, h in documents) / len(documents)),
        "mean_links_per_page": round(links),
        "parse_pages_per_second": round(len(documents) / statistics.median(parse_times)),
        "extract_pages_per_second": round(len(documents) / statistics.median(extract_times)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pages and rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args.quick)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
