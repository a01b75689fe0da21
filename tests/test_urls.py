"""URL normalization and registered domains, one edge case per test (w3lib's style).

Expected URLs are written out by hand. Where our form is the one w3lib's
`canonicalize_url` gives, a test at the end also holds the two together on
many generated URLs, because our fast path builds that form itself.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest
from w3lib.url import canonicalize_url

from linkcrawler.extract.hosts import registered_domain
from linkcrawler.extract.urls import (
    SKIP_MALFORMED,
    SKIP_SCHEME,
    SKIP_TOO_LONG,
    UrlNormalizer,
    normalize_seed,
    split_host,
)

PAGE = "http://site.com/dir/page.html?x=1"
ROOT = Path(__file__).resolve().parents[1]


def norm(href: str, base: str = PAGE, **options) -> str | None:
    return UrlNormalizer(**options).normalize(href, base).url


def skip(href: str, base: str = PAGE, **options) -> str | None:
    return UrlNormalizer(**options).normalize(href, base).skip


# --- resolution against the page


def test_absolute_url_unchanged():
    assert norm("http://other.com/x") == "http://other.com/x"


def test_path_relative():
    assert norm("page2.html") == "http://site.com/dir/page2.html"


def test_dot_segments_in_a_relative_href():
    assert norm("./a/../b/./c") == "http://site.com/dir/b/c"


def test_parent_segments_stop_at_the_root():
    assert norm("../../../x") == "http://site.com/x"


def test_root_relative():
    assert norm("/top") == "http://site.com/top"


def test_protocol_relative_takes_the_page_scheme():
    assert norm("//cdn.net/a", "https://site.com/") == "https://cdn.net/a"
    assert norm("//cdn.net/a", "http://site.com/") == "http://cdn.net/a"


def test_query_only_href_replaces_the_page_query():
    assert norm("?q=2") == "http://site.com/dir/page.html?q=2"


def test_empty_href_is_the_page_itself():
    assert norm("") == "http://site.com/dir/page.html?x=1"


def test_fragment_only_href_is_the_page_itself():
    assert norm("#section") == "http://site.com/dir/page.html?x=1"


def test_base_without_a_path():
    assert norm("a", "http://site.com") == "http://site.com/a"


def test_relative_hrefs_depend_on_the_page_they_are_on():
    normalizer = UrlNormalizer()
    assert normalizer.normalize("p.html", "http://s.com/a/").url == "http://s.com/a/p.html"
    assert normalizer.normalize("p.html", "http://s.com/b/").url == "http://s.com/b/p.html"
    assert normalizer.normalize("?q", "http://s.com/a/x").url == "http://s.com/a/x?q="
    assert normalizer.normalize("?q", "http://s.com/a/y").url == "http://s.com/a/y?q="


def test_root_relative_hrefs_depend_on_the_page_origin():
    normalizer = UrlNormalizer()
    assert normalizer.normalize("/x", "http://one.com/p").url == "http://one.com/x"
    assert normalizer.normalize("/x", "https://two.com:8443/p").url == "https://two.com:8443/x"
    assert normalizer.normalize("/x", "http://one.com/q").url == "http://one.com/x"


def test_a_cached_answer_is_the_same_answer():
    normalizer = UrlNormalizer()
    first = normalizer.normalize("http://B.com/a?b=1&a=2#f", PAGE)
    assert normalizer.normalize("http://B.com/a?b=1&a=2#f", "http://elsewhere.org/") == first
    assert first.url == "http://b.com/a?a=2&b=1"


def test_relative_href_on_a_page_that_is_no_url_is_malformed():
    assert skip("/x", "not a url") == SKIP_MALFORMED


# --- whitespace and characters browsers ignore


def test_surrounding_whitespace_stripped():
    assert norm("  \t http://b.com/x \n ") == "http://b.com/x"


def test_tabs_and_newlines_inside_removed():
    assert norm("http://b.com/a\n/b\t/c\r") == "http://b.com/a/b/c"


def test_control_characters_around_stripped():
    assert norm("\x00\x1fhttp://b.com/\x0b") == "http://b.com/"


def test_backslashes_before_the_query_are_slashes():
    assert norm("http:\\\\b.com\\a\\b?q=\\") == "http://b.com/a/b?q=%5C"


# --- scheme and host


def test_scheme_and_host_lower_cased_path_kept():
    assert norm("HTTPS://WWW.B.COM/About/Us") == "https://www.b.com/About/Us"


def test_trailing_slash_kept():
    assert norm("http://b.com/a/") == "http://b.com/a/"
    assert norm("http://b.com/a") == "http://b.com/a"


def test_empty_path_is_slash():
    assert norm("http://b.com") == "http://b.com/"


def test_double_slash_in_path_kept():
    assert norm("http://b.com//x") == "http://b.com//x"


def test_idn_host_to_punycode():
    assert norm("http://bücher.de/") == "http://xn--bcher-kva.de/"


def test_idn_host_upper_case_folded_first():
    assert norm("http://ÉXAMPLE.com/") == "http://xn--xample-9ua.com/"


def test_idn_follows_uts46_like_browsers_not_idna2003():
    assert norm("http://faß.de/") == "http://xn--fa-hia.de/"  # IDNA 2003 (and w3lib) would say fass.de


def test_idn_ideographic_full_stop_separates_labels():
    assert norm("http://例え。テスト/") == "http://xn--r8jz45g.xn--zckzah/"


def test_punycode_host_unchanged():
    assert norm("http://xn--bcher-kva.de/") == "http://xn--bcher-kva.de/"


def test_percent_encoded_host_decoded():
    assert norm("http://b%C3%BCcher.de/") == "http://xn--bcher-kva.de/"


def test_trailing_dot_of_host_dropped():
    assert norm("http://b.com./x") == "http://b.com/x"


def test_underscore_in_host_allowed():
    assert norm("http://my_host.b.com/") == "http://my_host.b.com/"


def test_ipv4_host():
    assert norm("http://1.2.3.4/x") == "http://1.2.3.4/x"


def test_ipv6_host_in_short_form():
    assert norm("http://[2001:DB8::0:1]:8080/") == "http://[2001:db8::1]:8080/"


def test_user_info_dropped():
    assert norm("http://user:secret@b.com/x") == "http://b.com/x"


# --- ports


def test_default_http_port_dropped():
    assert norm("http://b.com:80/") == "http://b.com/"


def test_default_https_port_dropped():
    assert norm("https://b.com:443/") == "https://b.com/"


def test_http_port_on_https_kept():
    assert norm("https://b.com:80/") == "https://b.com:80/"


def test_other_port_kept():
    assert norm("http://site.com:8123/p") == "http://site.com:8123/p"


def test_port_leading_zeros():
    assert norm("http://b.com:0080/") == "http://b.com/"
    assert norm("http://b.com:08080/") == "http://b.com:8080/"


def test_empty_port_dropped():
    assert norm("http://b.com:/x") == "http://b.com/x"


def test_root_relative_href_keeps_the_page_port():
    assert norm("/x", "http://site.com:8123/a") == "http://site.com:8123/x"


# --- fragment, query, tracking parameters


def test_fragment_dropped():
    assert norm("http://b.com/p#top") == "http://b.com/p"


def test_question_mark_inside_fragment_is_fragment():
    assert norm("http://b.com/p?a=1#x?y=2") == "http://b.com/p?a=1"


def test_query_sorted():
    assert norm("http://b.com/?c=3&b=5&b=2&a=50") == "http://b.com/?a=50&b=2&b=5&c=3"


def test_query_sorted_by_name_then_value():
    assert norm("http://b.com/?a1=1&a=2") == "http://b.com/?a=2&a1=1"


def test_blank_values_kept_and_bare_names_get_an_equals_sign():
    assert norm("http://b.com/?b=&a") == "http://b.com/?a=&b="


def test_empty_arguments_dropped():
    assert norm("http://b.com/?a=1&&b=2&") == "http://b.com/?a=1&b=2"


def test_empty_query_dropped():
    assert norm("http://b.com/p?") == "http://b.com/p"


def test_tracking_parameters_dropped():
    assert norm("http://b.com/p?utm_source=x&id=3&gclid=y&fbclid=z&utm_medium=m") == "http://b.com/p?id=3"


def test_tracking_parameter_names_case_insensitive():
    assert norm("http://b.com/p?UTM_Source=x&GCLID=1&k=v") == "http://b.com/p?k=v"


def test_tracking_parameter_without_value_dropped():
    assert norm("http://b.com/p?utm_source&k=v") == "http://b.com/p?k=v"


def test_only_tracking_parameters_leaves_no_query():
    assert norm("http://b.com/p?utm_campaign=spring") == "http://b.com/p"


def test_parameter_that_merely_starts_like_a_tracking_one_kept():
    assert norm("http://b.com/p?gclid_extra=1&utm=2") == "http://b.com/p?gclid_extra=1&utm=2"


def test_tracking_parameters_configurable():
    assert norm("http://b.com/p?ref=x&utm_source=y", tracking_params=["ref"]) == "http://b.com/p?utm_source=y"


def test_tracking_parameters_glob_question_mark():
    assert norm("http://b.com/p?s1=a&s22=b&t=c", tracking_params=["s?"]) == "http://b.com/p?s22=b&t=c"


def test_no_tracking_parameters_keeps_every_argument():
    assert norm("http://b.com/p?utm_source=x", tracking_params=[]) == "http://b.com/p?utm_source=x"


def test_tracking_parameters_dropped_from_a_query_that_needs_encoding():
    assert norm("http://b.com/p?q=a b&utm_source=x") == "http://b.com/p?q=a+b"


# --- percent-encoding


def test_percent_escapes_of_unreserved_characters_decoded():
    assert norm("http://b.com/%7euser?q=%7e") == "http://b.com/~user?q=~"


def test_escaped_slash_stays_escaped():
    assert norm("http://b.com/a%2fb") == "http://b.com/a%2Fb"


def test_space_in_path_encoded():
    assert norm("http://b.com/a b") == "http://b.com/a%20b"


def test_space_in_query_written_as_plus():
    assert norm("http://b.com/?q=a%20b") == "http://b.com/?q=a+b"


def test_non_ascii_path_and_query_as_utf8_escapes():
    assert norm("http://b.com/é?q=ü") == "http://b.com/%C3%A9?q=%C3%BC"


def test_dot_segments_in_an_absolute_url_resolved():
    assert norm("http://b.com/a/./b/../c") == "http://b.com/a/c"


def test_path_parameters_kept():
    assert norm("http://b.com/p;jsessionid=1") == "http://b.com/p;jsessionid=1"


# --- skips


@pytest.mark.parametrize(
    "href",
    ["javascript:void(0)", "JavaScript:go()", "mailto:a@b.com", "tel:+123", "data:text/html,x", "ftp://f.com/",
     "vbscript:x", "sms:1", "about:blank", "foo:bar"],
)  # fmt: skip
def test_non_http_schemes_skipped_as_scheme(href):
    assert skip(href) == SKIP_SCHEME


@pytest.mark.parametrize(
    "href",
    ["http://bad host/", "http://a..b/", "http://.b.com/", "http://b.com:99999/", "http://b.com:8o/", "http://",
     "http:///x", "//", "http://[::1/", "http://" + "a" * 64 + ".com/", "http://" + "a." * 127 + "com/",
     "http://b$c.com/"],
)  # fmt: skip
def test_malformed_hosts_and_ports_skipped_as_malformed(href):
    assert skip(href) == SKIP_MALFORMED


def test_too_long_counts_the_normalized_url():
    url = "http://b.com/" + "x" * 27  # 40 characters
    assert norm(url, max_length=40) == url
    assert skip(url + "y", max_length=40) == SKIP_TOO_LONG


def test_length_limit_applies_after_tracking_parameters_go():
    assert norm("http://b.com/x?utm_source=" + "y" * 50, max_length=20) == "http://b.com/x"


# --- registered domains


def test_registered_domain_of_a_multi_label_suffix():
    assert registered_domain("www.bbc.co.uk") == "bbc.co.uk"


def test_private_suffixes_make_each_customer_a_registered_domain():
    assert registered_domain("alice.github.io") == "alice.github.io"
    assert registered_domain("bob.github.io") == "bob.github.io"
    assert registered_domain("news.bob.blogspot.com") == "bob.blogspot.com"


def test_a_bare_suffix_is_its_own_registered_domain():
    assert registered_domain("github.io") == "github.io"


def test_hosts_on_no_public_suffix_are_their_own_registered_domain():
    assert registered_domain("localhost") == "localhost"
    assert registered_domain("127.0.0.1") == "127.0.0.1"
    assert registered_domain("[::1]") == "[::1]"


def test_link_results_carry_host_and_registered_domain():
    found = UrlNormalizer().normalize("http://Shop.Example.co.uk:8080/x", PAGE)
    assert (found.host, found.domain) == ("shop.example.co.uk", "example.co.uk")


def test_split_host_of_a_normalized_url():
    assert split_host("http://www.example.com:8080/x") == ("www.example.com", "example.com")


def test_split_host_normalizes_what_it_is_given():
    assert split_host("HTTP://WWW.Example.COM./x") == ("www.example.com", "example.com")


def test_split_host_keeps_ipv6_brackets_as_links_do():
    assert split_host("http://[::1]:8080/") == ("[::1]", "[::1]")


def test_split_host_of_no_url():
    assert split_host("not a url") == ("", "")


def test_the_public_suffix_list_is_never_fetched():
    script = (
        "import socket\n"
        "def refuse(*a, **k): raise AssertionError('network used')\n"
        "socket.socket.connect = socket.socket.connect_ex = refuse\n"
        "socket.create_connection = socket.getaddrinfo = refuse\n"
        "from linkcrawler.extract.hosts import registered_domain\n"
        "print(registered_domain('www.example.co.uk'), registered_domain('x.github.io'))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.stdout.split() == ["example.co.uk", "x.github.io"], result.stderr


# --- seeds


def test_seed_normalized():
    assert normalize_seed(" HTTP://Example.com:80/a#b ") == "http://example.com/a"


def test_seed_without_scheme_refused():
    assert normalize_seed("example.com/a") is None


def test_seed_with_other_scheme_refused():
    assert normalize_seed("ftp://example.com/") is None


# --- our fast path writes exactly what canonicalize_url writes


@pytest.mark.parametrize(
    "url",
    ["http://a.com/", "http://a.com/A/b-c_d.e~f/", "https://a.com/x//y", "http://a.com/%7ex", "http://a.com/a b",
     "http://a.com/é", "http://a.com/p;params", "http://a.com/p?b=1&a=2", "http://a.com/p/../q", "http://a.com/./p",
     "http://a.com/p?a", "http://a.com/p?a=&b=c", "http://a.com/p?z=1&z=0", "http://a.com/p?q=a+b",
     "http://a.com/p?q=%41%7e", "http://a.com/p?=x", "http://a.com/p?a=1;b=2", "http://a.com/p?k=%E2%82%AC",
     "http://a.com/p?b&a=2&c", "http://a.com/a,b:c@d!e$f'g(h)i*j+k=l&m", "http://a.com/.well-known/x",
     "http://a.com/p?a-b=1&a=2&a.b=3&a_b=4&a~=5", "http://a.com/p?x=a=b"],
)  # fmt: skip
def test_normal_form_is_w3lib_canonical_form(url):
    assert norm(url) == canonicalize_url(url, keep_fragments=False)


def test_fast_path_agrees_with_w3lib_on_generated_urls():
    rng = random.Random(4)
    path_chars = "abcXYZ019._~-!$&'()*+,=:@/%é ;"
    query_chars = "abZ09._~-+=&%é ;/?"
    normalizer = UrlNormalizer(tracking_params=[])
    for _ in range(3000):
        path = "/" + "".join(rng.choice(path_chars) for _ in range(rng.randrange(12)))
        query = "".join(rng.choice(query_chars) for _ in range(rng.randrange(12)))
        for href in (f"http://a.com{path}?{query}", f"{path}?{query}", f"http://a.com{path}"):
            if href.startswith("//"):
                continue
            expected = canonicalize_url("http://a.com" + href if href.startswith("/") else href, keep_fragments=False)
            assert normalizer.normalize(href, "http://a.com/base").url == expected, href


def test_fast_path_agrees_with_w3lib_on_percent_escaped_paths():
    """Escapes of every byte, in either case, among plain characters: wiki titles and non-ASCII slugs."""
    rng = random.Random(6)
    plain = "abcXYZ019._~-!$&'()*+,=:@/"
    normalizer = UrlNormalizer(tracking_params=[])
    for _ in range(4000):
        parts = []
        for _ in range(1 + rng.randrange(9)):
            if rng.random() < 0.4:
                code = f"{rng.randrange(256):02x}"
                parts.append("%" + (code.upper() if rng.random() < 0.5 else code))
            else:
                parts.append(rng.choice(plain))
        path = "/" + "".join(parts)
        if path.startswith("//"):
            continue
        for href in (f"http://a.com{path}", path, f"http://a.com{path}?b=1&a=2#f"):
            expected = canonicalize_url("http://a.com" + href if href.startswith("/") else href, keep_fragments=False)
            assert normalizer.normalize(href, "http://a.com/base").url == expected, href


def test_fast_path_agrees_with_w3lib_on_generated_relative_hrefs():
    """Path-relative and protocol-relative hrefs, on pages in plain and in escaped directories.

    Without spaces (a space at the end of a path is kept, escaped, where w3lib strips it), `;` (urljoin reads
    it as parameters) and empty segments (urljoin drops them): there the reference, not we, is off.
    """
    rng = random.Random(5)
    path_chars = "abcXYZ019._~-!$&'()*+,=:@/%é"
    query_chars = "abZ09._~-+=&%é;/?"
    normalizer = UrlNormalizer(tracking_params=[])
    bases = (
        "http://a.com/d/base",
        "http://a.com/",
        "http://a.com/d/e/",
        "http://a.com/%7Ed/x?q=1",
        "http://a.com/a b/",
    )
    for _ in range(1500):
        path = "".join(rng.choice(path_chars) for _ in range(1 + rng.randrange(12)))
        query = "".join(rng.choice(query_chars) for _ in range(rng.randrange(8)))
        base = rng.choice(bases)
        for href in (f"{path}?{query}", path, f"//b.com/{path}?{query}"):
            rooted = href.startswith("/") and not href.startswith("//")
            if rooted or ":" in href.split("/", 1)[0] or "//" in href.removeprefix("//"):
                continue
            expected = canonicalize_url(urljoin(base, href), keep_fragments=False)
            assert normalizer.normalize(href, base).url == expected, (href, base)
