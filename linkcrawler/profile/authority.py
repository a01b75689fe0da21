"""Authority: PageRank over the graph of dofollow links between registered domains, scaled to 0-100.

One edge per (source domain, target domain) pair however many links it
stands for, so a sitewide footer counts once, as in Ahrefs' Domain Rating.
PageRank (damping 0.85, dangling domains spread their rank evenly, as
networkx does) runs as a power iteration on a scipy sparse matrix over
domains in sorted order, so the same graph always gives the same scores.
Raw PageRank spans orders of magnitude; the score is its logarithm, scaled
so the least linked domain of the graph has 0 and the most linked 100.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

DAMPING = 0.85
TOLERANCE = 1e-12
MAX_ITERATIONS = 1000


def pagerank(edges: Iterable[tuple[str, str]], damping: float = DAMPING) -> dict[str, float]:
    """PageRank of every node of a directed graph given as (source, target) pairs; duplicates count once."""
    import numpy as np  # the profile extra: a crawl worker's image has no numpy or scipy
    from scipy import sparse

    pairs = sorted({(s, t) for s, t in edges if s != t})
    nodes = sorted({n for pair in pairs for n in pair})
    if not nodes:
        return {}
    index = {node: i for i, node in enumerate(nodes)}
    n = len(nodes)
    rows = np.fromiter((index[t] for _, t in pairs), dtype=np.int64, count=len(pairs))
    cols = np.fromiter((index[s] for s, _ in pairs), dtype=np.int64, count=len(pairs))
    out_degree = np.bincount(cols, minlength=n).astype(float)
    weights = 1.0 / out_degree[cols]
    transition = sparse.csr_matrix((weights, (rows, cols)), shape=(n, n))
    dangling = out_degree == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(MAX_ITERATIONS):
        previous = rank
        rank = damping * (transition @ rank + previous[dangling].sum() / n) + (1.0 - damping) / n
        if np.abs(rank - previous).sum() < n * TOLERANCE:
            break
    rank /= rank.sum()
    return {node: float(rank[i]) for i, node in enumerate(nodes)}


def scale(ranks: dict[str, float]) -> dict[str, float]:
    """Log-scale PageRank to 0-100 (one decimal): the least ranked domain 0, the most ranked 100."""
    if not ranks:
        return {}
    low, high = min(ranks.values()), max(ranks.values())
    span = math.log(high / low)
    if span <= 1e-9:
        return dict.fromkeys(ranks, 0.0)
    return {node: round(100.0 * math.log(value / low) / span, 1) for node, value in ranks.items()}


def authority_scores(edges: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Authority 0-100 of every domain on the graph; domains off the graph have none (0)."""
    return scale(pagerank(edges))
