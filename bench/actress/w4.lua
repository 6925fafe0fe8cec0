-- W4 ping-pong (actress): two tasks hand control to each other N times
-- (N/2 round trips) with resume + suspend. Figure: ns per switch.
-- Usage: lua5.4 bench/actress/w4.lua [N]
local here = arg[0]:match("^(.*)/") or "."
package.path = here .. "/../lib/?.lua;" .. here .. "/?.lua;" .. package.path
local bench = require "bench"
local task = require "actress"

local N = bench.n(1000000)
local rounds = N // 2

local ping, pong

local function pong_body(r)
  for _ = 1, r do
    task.suspend()
    task.resume(ping)
  end
end

local function ping_body(r)
  for _ = 1, r do
    task.resume(pong)
    task.suspend()
  end
end

local function main(r)
  pong = task.fork(pong_body, r)
  task.wait() -- pong runs up to its first suspend
  ping = task.fork(ping_body, r)
  local t0 = task.now()
  task.join(ping)
  task.join(pong)
  return task.now() - t0
end

local ms = task.run(main, rounds)
bench.report("W4", "actress", N, "ns_per_op", ms * 1e6 / (2 * rounds))
os.exit(0)
