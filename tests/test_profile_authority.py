"""Authority: our sparse PageRank against networkx's, and the properties the 0-100 score must keep."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from linkcrawler.profile.authority import authority_scores, pagerank, scale


def random_graph(seed: int, nodes: int, edges: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    names = [f"d{i}.com" for i in range(nodes)]
    return [(rng.choice(names), rng.choice(names)) for _ in range(edges)]


@pytest.mark.parametrize("seed", range(8))
def test_pagerank_equals_networkx_on_small_graphs(seed):
    edges = [(s, t) for s, t in random_graph(seed, nodes=3 + seed * 3, edges=5 + seed * 8) if s != t]
    graph = nx.DiGraph(edges)
    expected = nx.pagerank(graph, alpha=0.85, tol=1e-12, max_iter=1000)
    ours = pagerank(edges)
    assert ours.keys() == expected.keys()
    assert all(ours[n] == pytest.approx(expected[n], rel=1e-6, abs=1e-9) for n in expected)


def test_duplicate_edges_and_self_links_count_once_or_not_at_all():
    edges = [("a.com", "b.com"), ("b.com", "c.com"), ("c.com", "a.com"), ("a.com", "c.com")]
    assert pagerank(edges * 3 + [("a.com", "a.com")]) == pagerank(edges)


def test_scores_run_from_0_to_100_and_are_deterministic():
    edges = random_graph(42, nodes=30, edges=120)
    scores = authority_scores(edges)
    assert min(scores.values()) == 0.0 and max(scores.values()) == 100.0
    assert authority_scores(list(reversed(edges))) == scores
    assert scale({"a": 0.5, "b": 0.5}) == {"a": 0.0, "b": 0.0}
    assert authority_scores([]) == {}


@pytest.mark.parametrize("seed", range(6))
def test_links_from_high_authority_domains_raise_a_score(seed):
    edges = [*random_graph(100 + seed, nodes=25, edges=90), ("hub1.com", "d0.com"), ("d1.com", "hub1.com")]
    before = authority_scores(edges)
    ranked = sorted(before, key=before.get)
    target = next(n for n in ranked if before[n] < 100.0 and n != ranked[-1])
    donors = [n for n in reversed(ranked) if n != target][:3]
    after = authority_scores(edges + [(donor, target) for donor in donors])
    assert after[target] > before[target]


def test_a_link_from_a_strong_domain_is_worth_more_than_one_from_a_weak_one():
    edges = [*random_graph(7, nodes=20, edges=80), ("new1.com", "d19.com"), ("new2.com", "d18.com")]
    ranks = pagerank(edges)
    strong, weak = max(ranks, key=ranks.get), min(ranks, key=ranks.get)
    with_strong = pagerank([*edges, (strong, "fresh.com")])["fresh.com"]
    with_weak = pagerank([*edges, (weak, "fresh.com")])["fresh.com"]
    assert with_strong > with_weak
