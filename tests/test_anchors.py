"""Anchor text normalization and flattening, one edge case per test."""

from __future__ import annotations

import pytest

from linkcrawler.extract.anchors import link_content, normalize_anchor
from linkcrawler.extract.document import parse


def content_of(markup: str) -> tuple[str, str | None]:
    """(text, alt of the first image) of the first `a` in `markup`, parsed as the extractor parses it."""
    text, image = link_content(parse(markup).css_first("a"))
    return text, None if image is None else image.attributes.get("alt")


def anchor_of(markup: str) -> str:
    return content_of(markup)[0]


# --- normalize_anchor


def test_plain_text_unchanged():
    assert normalize_anchor("Best running shoes") == "Best running shoes"


def test_whitespace_runs_collapse_to_one_space():
    assert normalize_anchor("  Best \n\t running   shoes ") == "Best running shoes"


def test_case_kept():
    assert normalize_anchor("iPhone CASES") == "iPhone CASES"


def test_empty_stays_empty():
    assert normalize_anchor("") == ""
    assert normalize_anchor(None) == ""
    assert normalize_anchor(" \n ") == ""


def test_non_breaking_and_other_unicode_spaces_are_spaces():
    assert normalize_anchor("a\u00a0b\u2003c\u3000d") == "a b c d"


def test_full_width_letters_become_ascii():
    assert normalize_anchor("\uff33\uff25\uff2f") == "SEO"


def test_ligatures_decomposed():
    assert normalize_anchor("\ufb01nd o\ufb03ce") == "find office"


def test_composed_and_decomposed_accents_are_equal():
    assert normalize_anchor("cafe\u0301") == normalize_anchor("caf\u00e9") == "caf\u00e9"


def test_invisible_characters_removed():
    assert normalize_anchor("co\u00adop\u200bera\u2060tion\ufeff") == "cooperation"


def test_control_characters_removed():
    assert normalize_anchor("Sh\x01op\x7f \x85now") == "Shop now"


def test_zero_width_joiner_kept_inside_emoji():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalize_anchor(f" {family} ") == family


def test_length_capped():
    assert normalize_anchor("abcdefghij", max_length=4) == "abcd"


def test_cap_does_not_leave_a_trailing_space():
    assert normalize_anchor("word word word", max_length=5) == "word"


def test_cap_counts_the_normalized_text():
    assert normalize_anchor("  a    b  ", max_length=3) == "a b"


def test_no_double_decoding_of_entities():
    assert normalize_anchor("&amp;lt;") == "&amp;lt;"


# --- link_content


def test_inline_markup_joins_without_spaces():
    assert anchor_of('<a href="/"><b>Fi</b>sh &amp; <i>Chips</i></a>') == "Fish & Chips"


def test_block_elements_separate_words():
    assert normalize_anchor(anchor_of('<a href="/"><h3>Title</h3><p>Excerpt</p></a>')) == "Title Excerpt"


def test_br_separates_words():
    assert normalize_anchor(anchor_of('<a href="/">One<br>Two</a>')) == "One Two"


def test_list_items_separate_words():
    assert normalize_anchor(anchor_of('<a href="/"><ul><li>a</li><li>b</li></ul></a>')) == "a b"


@pytest.mark.parametrize("tag", ["script", "style", "template"])
def test_code_and_templates_are_not_text(tag):
    assert normalize_anchor(anchor_of(f'<a href="/">Shop<{tag}>var x = 1;</{tag}> now</a>')) == "Shop now"


def test_comments_are_not_text():
    assert anchor_of('<a href="/">Sh<!-- hidden -->op</a>') == "Shop"


def test_text_after_a_nested_element_kept():
    assert anchor_of('<a href="/">a<span>b<em>c</em>d</span>e</a>') == "abcde"


def test_the_links_own_tail_is_not_its_text():
    assert anchor_of('<p><a href="/">inside</a> outside</p>') == "inside"


def test_image_alt_is_not_text():
    assert anchor_of('<a href="/"><img alt="Logo"></a>') == ""


def test_the_first_image_is_found_at_any_depth():
    assert content_of('<a href="/"><span><img alt="Deep"></span><img alt="Second"></a>') == ("", "Deep")


def test_nesting_deeper_than_the_recursion_limit():
    assert anchor_of('<a href="/">' + "<span>" * 5000 + "deep" + "</span>" * 5000 + " end</a>") == "deep end"
