-- bench/scale.lua: memory at scale. Runs N fork/join cycles, then N
-- sleep/wake cycles (manual clock), then N spawn+advance cycles (a host's
-- frame loop: a top-level task sleeps 1 ms, the host advances 1 ms), and
-- prints, every N/10 cycles, the Lua heap after a full collection and the
-- process RSS (VmRSS). Both must stay flat after warm-up: nothing a
-- finished task used may be kept.
--
--   LUA_PATH_5_4='lua/?.lua;lua/?/init.lua;;' LUA_CPATH_5_4='build/?.so;;' \
--     lua5.4 bench/scale.lua [N (1000000)] [checkpoints (10)] [gc mode]
--
-- gc mode: "incremental" (Lua's library default, which embedding hosts get;
-- the default here) or "generational" (what the lua5.4 interpreter selects).
-- Lua 5.4.4 (Debian 12) has a bug in generational mode: after a full
-- collection (each checkpoint makes one) the next cycle's target is not
-- set, so the heap grows by all the garbage made until the next full
-- collection; the RSS high-water mark then reflects that, not actress.
--
-- Output: one line per checkpoint,
--   fork/join cycles=100000 lua_kb=... rss_kb=... ms=...
-- then one summary line per workload with the growth from the first
-- checkpoint to the last.
local task = require "actress"

local N = math.tointeger(tonumber(arg[1]) or 1000000)
local CHECKPOINTS = math.tointeger(tonumber(arg[2]) or 10)
local EVERY = N // CHECKPOINTS
local MODE = arg[3] or "incremental"
assert(MODE == "generational" or MODE == "incremental", "gc mode: generational or incremental")
collectgarbage(MODE)
print(("%s, gc mode %s, N=%d"):format(_VERSION, MODE, N))

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+) kB")) or 0
end

local function lua_kb()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count")
end

local clock = os.clock

-- The checkpoint records are made before the measurement starts, so that
-- they do not count in it.
local function new_points()
  local points = { n = 0 }
  for i = 1, CHECKPOINTS do points[i] = { cycles = 0, lua = 0.0, rss = 0 } end
  return points
end

local function checkpoint(name, points, cycles, t0)
  points.n = points.n + 1
  local p = points[points.n]
  p.cycles = cycles
  p.lua = lua_kb()
  p.rss = rss_kb()
  print(("%-10s cycles=%-8d lua_kb=%-10.1f rss_kb=%-8d cpu_s=%.2f"):format(
    name, cycles, p.lua, p.rss, clock() - t0))
  io.stdout:flush()
end

local function summary(name, points)
  local first, last = points[1], points[points.n]
  print(("%-10s growth from cycles=%d to cycles=%d: lua_kb %+.1f, rss_kb %+d"):format(
    name, first.cycles, last.cycles, last.lua - first.lua, last.rss - first.rss))
end

local function noop() end

task.set_clock("manual")

-- 1. fork + join, one task at a time.
do
  local points, t0 = new_points(), clock()
  task.run(function()
    for i = 1, N do
      task.join(task.fork(noop))
      if i % EVERY == 0 then checkpoint("fork/join", points, i, t0) end
    end
  end)
  summary("fork/join", points)
end

-- 2. sleep + wake: one task sleeps 1 ms N times; run moves the manual clock.
do
  local points, t0 = new_points(), clock()
  task.run(function()
    for i = 1, N do
      task.sleep(1)
      if i % EVERY == 0 then checkpoint("sleep/wake", points, i, t0) end
    end
  end)
  summary("sleep/wake", points)
end

-- 3. a host's frames: each frame starts a top-level task that sleeps 1 ms
-- and finishes in the next frame's advance.
do
  local points, t0 = new_points(), clock()
  local function frame_task() task.sleep(1) end
  for i = 1, N do
    task.main(frame_task)
    task.advance(1)
    if i % EVERY == 0 then checkpoint("main/advance", points, i, t0) end
  end
  summary("main/advance", points)
end

task.drain()
task.set_clock("system")
local s = task.stats()
print(("stats: tasks=%d ready=%d suspended=%d timers=%d switches=%d pooled=%d"):format(
  s.tasks, s.ready, s.suspended, s.timers, s.switches, s.pooled))
