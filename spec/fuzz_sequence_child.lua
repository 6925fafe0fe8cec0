-- spec/fuzz_sequence_child.lua: random sequences of operations, run by
-- spec/41-fuzz_spec.lua in a child lua5.4 (one per seed, under `timeout`,
-- so that a hang or a crash fails one spec instead of the whole run).
--
-- A pool of the 40 latest Forks is acted on at random: fork, spawn, abort,
-- exit, resume, start, then_, join, wait, group, gather, adopt, sleep,
-- suspend, send, map, all, raw coroutine.yield, deferreds, from task bodies,
-- map functions, <close> handlers, then_ callbacks and plain code, between
-- random run / poll / advance / drain. Nothing is checked against a model
-- (spec/40-stress_spec.lua does that); what must hold is that the process
-- neither crashes nor hangs, that every error is a Lua error, and that at
-- the end, once the pool is aborted and the loop drained, nothing is ready
-- or timed and a small program still runs right.
--
--   lua5.4 spec/fuzz_sequence_child.lua SPEC_DIR SEED [STEPS]
-- prints "OK seed=... steps=... tasks=..." and exits 0.
package.path = arg[1] .. "/?.lua;" .. package.path
local task = require "actress"
local core = require "actress.core"
local F = require "fuzz_helpers"

local SEED = math.tointeger(tonumber(arg[2]) or 1)
local STEPS = math.tointeger(tonumber(arg[3]) or 1000)
math.randomseed(SEED)
local R = math.random

task.set_clock("manual")
task.on_error(function() end)

local pool = {}
local function pick()
  if #pool == 0 then return nil end
  return pool[R(#pool)]
end
local function add(f)
  pool[#pool + 1] = f
  if #pool > 40 then table.remove(pool, 1) end
end

local ERRORS = { "e1", {}, 42, true }
local body

-- One random operation; `inside` says whether we are on a task's own
-- coroutine (or in code that runs for it: a map function, a <close>).
local function op(inside)
  local k = R(1, 22)
  local f = pick()
  if k == 1 then
    add(task.fork(body, R(1, 3)))
  elseif k == 2 then
    if f then pcall(task.abort, f, ERRORS[R(#ERRORS)]) end
  elseif k == 3 then
    if f then pcall(task.exit, f, R(10)) end
  elseif k == 4 then
    if f then pcall(task.resume, f) end
  elseif k == 5 then
    if f then pcall(f.start, f) end
  elseif k == 6 then
    if f then
      pcall(f.then_, f, function() if R() < 0.3 then op(false) end end,
        function() if R() < 0.3 then error("callback") end end)
    end
  elseif k == 14 then
    pcall(task.spawn, body, R(1, 3))
  elseif not inside then
    return
  elseif k == 7 then
    if f then pcall(task.join, f) end
  elseif k == 8 then
    if f then pcall(task.wait, f) end
  elseif k == 9 then
    local g = {}
    for _ = 1, R(0, 3) do g[#g + 1] = pick() end
    pcall(task.group, g)
  elseif k == 10 then
    pcall(task.sleep, R(0, 5))
  elseif k == 11 then
    pcall(task.suspend)
  elseif k == 12 then
    pcall(task.send, R(100))
  elseif k == 13 then
    pcall(task.wait)
  elseif k == 15 then
    pcall(task.map(function() op(true) op(true) return 1 end, function(m)
      if R() < 0.2 then op(true) end
      if R() < 0.1 then error("map") end
      return m
    end))
  elseif k == 16 then
    local _ <close> = setmetatable({}, { __close = function() if R() < 0.5 then op(true) end end })
    op(true)
  elseif k == 17 then
    local g = {}
    for _ = 1, R(0, 2) do g[#g + 1] = pick() end
    pcall(core.gather, g, function(m) if R() < 0.3 then op(true) end return m end)
  elseif k == 18 then
    if f then pcall(core.adopt, f, task.fork(body, 1)) end
  elseif k == 19 then
    local d = task.deferred()
    if R() < 0.5 then task.spawn(function() task.sleep(R(0, 3)) d:resolve(1) end) end
    pcall(task.wait, d)
  elseif k == 20 then
    pcall(coroutine.yield, R() < 0.5 and "raw" or nil)
  elseif k == 21 then
    pcall(task.all, { function() op(true) end, function() op(true) return 2 end })
  elseif k == 22 then
    add(task.current())
  end
end

body = function(n)
  for _ = 1, n do op(true) end
  if R() < 0.2 then error(ERRORS[R(#ERRORS)]) end
  return n
end

for _ = 1, STEPS do
  local k = R(1, 6)
  if k == 1 then
    pcall(task.run, body, R(1, 4))
  elseif k == 2 then
    pcall(task.poll)
  elseif k == 3 then
    pcall(task.advance, R(0, 5))
  elseif k == 4 then
    pcall(task.drain)
  else
    op(false)
  end
end

for _, f in ipairs(pool) do
  if f.status ~= "finished" then pcall(task.abort, f, "end") end
end
task.drain()
local s = task.stats()
assert(s.ready == 0 and s.timers == 0, ("after the drain: %d ready, %d timers"):format(s.ready, s.timers))
assert(s.suspended <= s.tasks, ("%d suspended but %d live"):format(s.suspended, s.tasks))
local ok, why = F.sanity()
assert(ok, why)
print(("OK seed=%d steps=%d tasks=%d suspended=%d switches=%d"):format(SEED, STEPS, s.tasks, s.suspended,
  s.switches))
