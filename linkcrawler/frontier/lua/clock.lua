-- Redis's clock, for the workers to date what they fetch by (linkcrawler.frontier.sharedclock).
-- No KEYS and no ARGV: a script, not the TIME command, because a cluster client sends a keyless script to one
-- node and TIME to every node. Replies {seconds, microseconds}.
return redis.call('TIME')
