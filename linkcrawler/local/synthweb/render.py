"""From model to bytes: the HTML, robots.txt and HTTP responses the server sends.

Rendering is deterministic (filler text comes from `Page.text_seed`) and
writes every `ModelLink` exactly as the model says (`href`, `rel`, `attrs`,
`markup`), in the region its `position` names, so what a crawler extracts
can be compared with `truth.ground_truth`. Nothing here decides what is
linked; that is the generator's job.
"""

from __future__ import annotations

import base64
import gzip
import random
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from linkcrawler.local.synthweb.model import LOGO_PATH, ModelLink, Page, Site, Sitemap, Web

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4P5MBAAQzAZncH4SNAAAAAElFTkSuQmCC")
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
FILLER = (
    "we", "tested", "every", "option", "over", "several", "weeks", "and", "the", "results",
    "surprised", "us", "most", "readers", "will", "find", "that", "quality", "matters", "more",
    "than", "price", "when", "it", "comes", "to", "daily", "use", "a", "good", "setup", "saves",
    "time", "in", "long", "run", "our", "team", "compared", "notes", "with", "experts", "budget",
    "choices", "still", "hold", "up", "well", "for", "beginners", "this", "season",
)  # fmt: skip
INLINE = ("See {} for details.", "{} covers this too.", "We also liked {}.", "More at {}.")


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response, before serialization: status, extra headers, body."""

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def responses(web: Web) -> dict[tuple[str, str], Response]:
    """(host, path) -> response for every page, sitemap and robots.txt of the web."""
    table = {(page.host, page.path): render_page(web, page) for page in web.pages.values()}
    for site in web.sites:
        table[(site.host, "/robots.txt")] = render_robots(site)
    for sitemap in web.sitemaps.values():
        parts = urlsplit(sitemap.url)
        table[(parts.hostname or "", parts.path)] = render_sitemap(sitemap)
    return table


def render_page(web: Web, page: Page) -> Response:
    site = web.site(page.host)
    if page.kind in ("html", "refresh"):
        headers = (("X-Robots-Tag", page.robots_header),) if page.robots_header else ()
        return Response(200, page.content_type, _html(site, page).encode(), headers)
    if page.kind == "redirect":
        location = page.links[0].href
        body = f'<!DOCTYPE html><title>Moved</title><p>Moved to <a href="{escape(location)}">here</a>.</p>\n'
        return Response(page.status, page.content_type, body.encode(), (("Location", location),))
    if page.kind == "missing":
        return render_not_found(site)
    if page.kind == "error":
        body = "<!DOCTYPE html><title>Server error</title><h1>Something went wrong</h1>\n"
        return Response(500, page.content_type, body.encode())
    return Response(200, page.content_type, PNG if page.kind == "png" else PDF)


def render_not_found(site: Site) -> Response:
    """The site's 404 page, for its missing pages and any unknown path."""
    body = (
        f"<!DOCTYPE html><html><head><title>Not found | {escape(site.brand)}</title></head>"
        '<body><h1>Page not found</h1><p><a href="/">Back to the home page</a></p></body></html>\n'
    )
    return Response(404, "text/html; charset=utf-8", body.encode())


def robots_txt(site: Site) -> str:
    """The site's robots.txt: `Disallow` prefixes for every agent, a group for another bot, its `Sitemap:` lines."""
    rules = "".join(f"Disallow: {prefix}\n" for prefix in site.disallow) or "Disallow:\n"
    sitemaps = "".join(f"\nSitemap: {url}" for url in site.sitemaps)
    return f"# robots.txt for {site.host}\nUser-agent: ExampleBot\nDisallow: /\n\nUser-agent: *\n{rules}{sitemaps}"


def render_sitemap(sitemap: Sitemap) -> Response:
    """A sitemap or sitemap index in the sitemaps.org XML format; a gzip file when `sitemap.gzip`."""
    entry = "url" if sitemap.kind == "urlset" else "sitemap"
    entries = "".join(f"<{entry}><loc>{escape(loc)}</loc></{entry}>\n" for loc in sitemap.locs)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<{sitemap.kind} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</{sitemap.kind}>\n'
    ).encode()
    if sitemap.gzip:
        return Response(200, "application/gzip", gzip.compress(xml, mtime=0))
    return Response(200, "application/xml", xml)


def render_robots(site: Site) -> Response:
    if not site.has_robots:
        return render_not_found(site)
    return Response(200, "text/plain; charset=utf-8", robots_txt(site).encode())


def _html(site: Site, page: Page) -> str:
    rng = random.Random(page.text_seed)
    regions: dict[str, list[ModelLink]] = {}
    for link in page.links:
        regions.setdefault(link.position, []).append(link)
    content = regions.pop("content", [])
    head = [f"<title>{escape(page.title or site.brand)}</title>"]
    if page.robots_meta:
        head.append(f'<meta name="robots" content="{escape(page.robots_meta)}">')
    for link in content:
        if link.link_type == "canonical":
            head.append(f'<link rel="canonical" href="{escape(link.href)}">')
        elif link.link_type == "redirect":
            head.append(f'<meta http-equiv="refresh" content="0; url={escape(link.href)}">')
    if page.kind == "html":
        head.append('<link rel="stylesheet" href="/static/site.css">')
    body = []
    if "header" in regions:
        body.append(f'<header id="top">{" ".join(_a(x) for x in regions["header"])}</header>')
    if "nav" in regions:
        body.append(f"<nav><ul>{''.join(f'<li>{_a(x)}</li>' for x in regions['nav'])}</ul></nav>")
    body.append(_main(rng, site, page, content))
    if "aside" in regions:
        items = "".join(f"<li>{_a(x)}</li>" for x in regions["aside"])
        body.append(f"<aside><h2>Friends of {escape(site.brand)}</h2><ul>{items}</ul></aside>")
    if "footer" in regions:
        credits = " &middot; ".join(_a(x) for x in regions["footer"])
        body.append(f"<footer><p>&copy; 2024 {escape(site.brand)}</p><p>{credits}</p></footer>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        + "\n".join(head) + "\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )  # fmt: skip


def _main(rng: random.Random, site: Site, page: Page, content: list[ModelLink]) -> str:
    """The article: filler paragraphs with inline external links, then lists, embeds, comments."""
    inline, related, comments, frames = [], [], [], []
    for link in content:
        if link.link_type == "frame":
            frames.append(f'<figure><iframe src="{escape(link.href)}" width="560" height="315"></iframe></figure>')
        elif link.link_type in ("canonical", "redirect"):
            continue
        elif link.ugc:
            comments.append(f"<li><p>{_sentence(rng)} {_a(link)}</p></li>")
        elif link.host == page.host:
            related.append(f"<li>{_a(link)}</li>")
        else:
            inline.append(_a(link))
    paragraphs = []
    for i in range(max(2 if page.kind == "html" else 0, (len(inline) + 1) // 2)):
        sentences = [_sentence(rng) for _ in range(rng.randint(2, 4))]
        for anchor in inline[2 * i : 2 * i + 2]:
            sentences.insert(rng.randint(0, len(sentences)), rng.choice(INLINE).format(anchor))
        paragraphs.append(f"<p>{' '.join(sentences)}</p>")
    parts = [f"<h1>{escape(page.title or site.brand)}</h1>", *paragraphs, *frames]
    if related:
        parts.append(f'<h2>Read next</h2><ul class="related">{"".join(related)}</ul>')
    if comments:
        parts.append(f'<section class="comments"><h2>Comments</h2><ol>{"".join(comments)}</ol></section>')
    if page.kind == "html":
        parts.insert(1, f'<p><img src="{LOGO_PATH}" alt=""></p>')
    return "<main><article>\n" + "\n".join(parts) + "\n</article></main>"


def _a(link: ModelLink) -> str:
    rel = f' rel="{escape(link.rel)}"' if link.rel else ""
    return f'<a href="{escape(link.href)}"{rel}{link.attrs}>{link.markup or escape(link.anchor)}</a>'


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(8, 14))]
    return " ".join(words).capitalize() + "."
