from linkcrawler.frontier.scope import DomainFilter


def test_everything_passes_without_lists():
    assert DomainFilter().allows("any.example.org")


def test_allowed_domains_cover_their_subdomains_only():
    allowed = DomainFilter(allowed=["example.com", " .Shop.Example.net "])
    assert allowed.allows("example.com") and allowed.allows("www.Example.com")
    assert allowed.allows("eu.shop.example.net")
    assert not allowed.allows("notexample.com")
    assert not allowed.allows("example.net")


def test_denied_wins_over_allowed():
    rules = DomainFilter(allowed=["example.com"], denied=["ads.example.com"])
    assert rules.allows("www.example.com")
    assert not rules.allows("ads.example.com") and not rules.allows("x.ads.example.com")
