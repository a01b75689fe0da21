"""The profile job: backlink metrics per target domain, computed by MongoDB, stored in `domain_profiles`.

Modules: `state` (each link's live/lost/broken state, by pipeline), `metrics`
(grouped pipelines), `anchors` (anchor classes), `authority` (PageRank
score), `history` (headline numbers per run), `job` (`summarize`),
`report_text` and `report_html` (what `linkcrawler profile` shows).
"""
