-- W2J messages through a join (actress): as W2, but the producer is a fork
-- that a parent joins, so every message passes through the join.
-- Figure: ns per message. Usage: lua5.4 bench/actress/w2j.lua [M]
local here = arg[0]:match("^(.*)/") or "."
package.path = here .. "/../lib/?.lua;" .. here .. "/?.lua;" .. package.path
local bench = require "bench"
local task = require "actress"

local M = bench.n(1000000)

local function producer(m)
  for i = 1, m do task.send(i) end
end

local function parent(m)
  return task.join(task.fork(producer, m))
end

local count = 0
local function counter(_) count = count + 1 end -- returns nil: dropped

local t0 = task.now()
task.run(task.map(parent, counter), M)
local ms = task.now() - t0
assert(count == M, "lost messages")
bench.report("W2J", "actress", M, "ns_per_op", ms * 1e6 / M)
os.exit(0)
