-- W2 messages (actress): an effect sends M integers; a task.map around it
-- counts them. Figure: ns per message. Usage: lua5.4 bench/actress/w2.lua [M]
local here = arg[0]:match("^(.*)/") or "."
package.path = here .. "/../lib/?.lua;" .. here .. "/?.lua;" .. package.path
local bench = require "bench"
local task = require "actress"

local M = bench.n(1000000)

local function producer(m)
  for i = 1, m do task.send(i) end
end

local count = 0
local function counter(_) count = count + 1 end -- returns nil: dropped

local t0 = task.now()
task.run(task.map(producer, counter), M)
local ms = task.now() - t0
assert(count == M, "lost messages")
bench.report("W2", "actress", M, "ns_per_op", ms * 1e6 / M)
os.exit(0)
