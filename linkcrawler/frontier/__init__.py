"""The shared crawl frontier in Redis: what every worker pops, acknowledges and queues.

`scheduler` is the Scrapy scheduler workers run; `sites` keeps requests in
per-site queues and hands out only those whose site is ready; `leases` keeps popped
requests safe from a worker that dies, `seedleases` the seeds it took,
`popping` shares a pop out over the partitions, `runs` tells a worker of a
new crawl run; `queueing` and `bloom` put a page's
new links on the frontier through the seen-set, `serializer` stores requests
as JSON, `seeds` puts start URLs on it, `scope` decides which links are
followed, `workers` and `stats` tell who is crawling and how far the crawl
is, `heartbeat` the extension that reports a worker, takes seeds and closes
it once the crawl is done, `health` is the workers' liveness probe, `connection` the one way to a
Redis client, `roundtrips` what the frontier sends to Redis together, and
`keys` the names of everything the frontier keeps in Redis (`format`
refuses a frontier kept otherwise); the Lua
scripts are in `lua/`, loaded by `scripts`.
"""
