-- W1 fork+join (actress): a task forks N tasks that each return their
-- index at once, then joins them in order and checks the sum.
-- Figure: ns per fork+join. Usage: lua5.4 bench/actress/w1.lua [N]
local here = arg[0]:match("^(.*)/") or "."
package.path = here .. "/../lib/?.lua;" .. here .. "/?.lua;" .. package.path
local bench = require "bench"
local task = require "actress"

local N = bench.n(100000)

local function child(i) return i end

local function main(n)
  local t0 = task.now()
  local forks = {}
  for i = 1, n do forks[i] = task.fork(child, i) end
  local sum = 0
  for i = 1, n do sum = sum + task.join(forks[i]) end
  return sum, task.now() - t0
end

local sum, ms = task.run(main, N)
assert(sum == N * (N + 1) // 2, "wrong sum")
bench.report("W1", "actress", N, "ns_per_op", ms * 1e6 / N)
os.exit(0)
