-- W5 idle memory (actress): N tasks suspended forever. Figures: bytes per
-- task on the Lua heap after a full GC, and in RSS. The array that keeps
-- the handles is allocated before the baseline, so it is not counted.
-- Usage: lua5.4 bench/actress/w5.lua [N]
local here = arg[0]:match("^(.*)/") or "."
package.path = here .. "/../lib/?.lua;" .. here .. "/?.lua;" .. package.path
local bench = require "bench"
local task = require "actress"

local N = bench.n(100000)

local function sleeper()
  task.suspend()
end

local function main(n)
  local forks = {}
  for i = 1, n do forks[i] = false end
  local heap0, rss0 = bench.heap_bytes(), bench.status_kb("VmRSS")
  for i = 1, n do forks[i] = task.fork(sleeper) end
  task.wait() -- every fork runs up to its suspend
  local heap1, rss1 = bench.heap_bytes(), bench.status_kb("VmRSS")
  assert(task.stats().suspended >= n, "not all suspended")
  return (heap1 - heap0) / n, (rss1 - rss0) * 1024 / n
end

local heap_b, rss_b = task.run(main, N)
bench.report("W5", "actress", N, "heap_b_per_task", heap_b, "rss_b_per_task", rss_b)
os.exit(0)
