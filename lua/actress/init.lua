-- actress: light-weight tasks for Lua 5.4 on a C scheduler.
--
-- The scheduler, timers and Fork handles live in the C module
-- `actress.core`; this module exports them and adds what is best written
-- in Lua: `all`, `defer`, `deferred`, `Fork:then_`, and the effect
-- combinators of actress.effects.

local core = require "actress.core"
local check = require "actress.check"
local Deferred = require "actress.deferred"
local effects = require "actress.effects"

-- On luv's loop, the bridge that lets uv.run() run the tasks too.
if core.luv_status() == "shared" then require "actress.loop" end

local fork, spawn, join, group, wait = core.fork, core.spawn, core.join, core.group, core.wait
local check_task, callback = core.check_task, core.callback
local pack, unpack = table.pack, table.unpack

local task = {
  _VERSION = core._VERSION,
  Fork = core.Fork,
}

-- Operations of the C core, exported as they are (so that argument errors
-- name them).
for _, name in ipairs {
  "current", "suspend", "resume", "sleep", "wait", "send",
  "fork", "spawn", "main", "join", "group", "abort", "exit", "terminate",
  "run", "drain", "poll", "now", "set_clock", "advance", "stats", "on_error",
} do
  task[name] = core[name]
end

--- Runs the tasks concurrently; returns their first results in input order.
-- On the first failure the others are aborted and the error is raised.
function task.all(tasks)
  check.table(tasks, 1, "all")
  for i = 1, #tasks do
    if not check.callable(tasks[i]) then
      check.argerror(1, "all", ("array of tasks expected, got %s at index %d")
        :format(check.typename(tasks[i]), i))
    end
  end
  check_task("all")
  local forks = {}
  for i = 1, #tasks do forks[i] = fork(tasks[i]) end
  group(forks)
  local results = {}
  for i = 1, #forks do results[i] = (join(forks[i])) end
  return results
end

-- The effect combinators (API §5) and map.
for _, name in ipairs { "none", "effect", "effects", "batch", "tag", "map", "listen", "loop", "then_" } do
  task[name] = effects[name]
end

local Defer = {
  __name = "actress.Defer",
  __close = function(self, err) self[1](err) end,
}

--- A to-be-closed value that calls fn(err) when its scope ends.
function task.defer(fn)
  return setmetatable({ check.fn(fn, 1, "defer") }, Defer)
end

task.deferred = Deferred.new

--- Bridges a callback API into a task: calls start(cb) and suspends until
-- cb is called, then returns cb's arguments. A cb that comes after the task
-- was aborted or exited is ignored, as is any call of cb but the first.
--   local err, stat = task.await_callback(function(cb) uv.fs_stat(path, cb) end)
function task.await_callback(start)
  check.fn(start, 1, "await_callback")
  check_task("await_callback")
  local d = Deferred.new()
  start(function(...) d:resolve(...) end)
  return wait(d)
end

--- f:then_(on_ok, on_err): starts f if idle; calls on_ok(values...) or
-- on_err(err) from the scheduler once f finishes (never synchronously),
-- outside any task, as a promise callback. A callback's error goes to the
-- error handler, with f. Returns f.
function core.Fork.then_(f, on_ok, on_err)
  local mt = debug.getmetatable(f)
  if not (mt and mt.__name == "actress.Fork") then
    check.argerror(1, "then_", "Fork expected, got " .. check.typename(f))
  end
  check.optfn(on_ok, 1, "then_")
  check.optfn(on_err, 2, "then_")
  core.Fork.start(f)
  spawn(function()  -- waits for f; the callback itself runs outside any task
    local r = pack(pcall(wait, f))
    if r[1] then
      if on_ok then callback(f, on_ok, unpack(r, 2, r.n)) end
    elseif on_err then
      callback(f, on_err, r[2])
    end
  end)
  return f
end

return task
