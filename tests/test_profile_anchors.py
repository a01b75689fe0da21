"""Anchor classes: one case per rule, with the order of the rules."""

from __future__ import annotations

import pytest

from linkcrawler.profile.anchors import brand_key, classify_anchor, fold


@pytest.mark.parametrize(
    ("anchor", "domain", "expected"),
    [
        ("", "maple.com", "empty"),
        ("   ", "maple.com", "empty"),
        ("Maple News", "maple-news.co.uk", "branded"),
        ("MAPLE logo", "maple.com", "branded"),
        ("Powered by Maple News", "maplenews.com", "branded"),
        ("www.maple.com", "maple.com", "naked_url"),
        ("https://Maple.com/shop?x=1", "maple.com", "naked_url"),
        ("blog.other.org", "maple.com", "naked_url"),
        ("Click here", "maple.com", "generic"),
        ("read   more", "maple.com", "generic"),
        ("The best grinders of 2024", "maple.com", "other"),
        ("Crème brûlée compared", "quartz.github.io", "other"),
        ("3.5 stars", "maple.com", "other"),
    ],
)
def test_classify_anchor(anchor, domain, expected):
    assert classify_anchor(anchor, domain) == expected


def test_fold_and_brand_key():
    assert fold("  Crème\n BRÛLÉE ") == "crème brûlée"
    assert fold("STRASSE") == fold("straße")
    assert brand_key("maple-news.co.uk") == "maplenews"
    assert brand_key("quartz.github.io") == "quartz"
