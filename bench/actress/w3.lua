-- W3 timers (actress): N tasks each sleep a pseudo-random 0..99 ms (fixed
-- seed), joined in order. Figures: wall time above the ideal (the longest
-- sleep, 99 ms), that overhead per task, the process CPU time per task
-- (os.clock: the work, whether or not it hides inside the 99 ms), peak RSS.
-- Usage: lua5.4 bench/actress/w3.lua [N]
local here = arg[0]:match("^(.*)/") or "."
package.path = here .. "/../lib/?.lua;" .. here .. "/?.lua;" .. package.path
local bench = require "bench"
local task = require "actress"

local N = bench.n(100000)
local delays = bench.delays(N)
local ideal = 0 -- the longest sleep: 99 ms
for i = 1, N do ideal = math.max(ideal, delays[i]) end

local function sleeper(ms)
  task.sleep(ms)
  return ms
end

local function main(n)
  local t0, c0 = task.now(), os.clock()
  local forks = {}
  for i = 1, n do forks[i] = task.fork(sleeper, delays[i]) end
  local sum = 0
  for i = 1, n do sum = sum + task.join(forks[i]) end
  return sum, task.now() - t0, (os.clock() - c0) * 1e3
end

local sum, ms, cpu_ms = task.run(main, N)
local expected = 0
for i = 1, N do expected = expected + delays[i] end
assert(sum == expected, "wrong sum")
bench.report("W3", "actress", N, "over_ms", ms - ideal, "wall_ms", ms,
  "ideal_ms", ideal, "ns_per_op", (ms - ideal) * 1e6 / N, "cpu_ns_per_op", cpu_ms * 1e6 / N)
os.exit(0)
