-- Per (domain, pages, partition prefix) in ARGV: move the domain's count from the old hash `old_key` into its
-- partition's budgets.
local old_key = KEYS[1]

for i = 1, #ARGV, 3 do
  if redis.call('hdel', old_key, ARGV[i]) == 1 then
    redis.call('hincrby', ARGV[i + 2] .. ':domain_pages', ARGV[i], ARGV[i + 1])
  end
end
return 1
