-- spec/helpers.lua: shared helpers for the actress busted specs.
--
-- busted runs every spec file in one Lua state, so all files share one runtime:
-- specs compare deltas, clean up the tasks they leave behind (helpers.track +
-- helpers.reset, run after each spec), and restore the clock and the error handler.
local luassert = require "luassert"
local task = require "actress"

local helpers = {}

local pack = table.pack

-- Forks that reset() aborts if they are still unfinished.
local tracked = {}

--- Remember fork `f` so that reset() aborts it if a spec leaves it unfinished.
function helpers.track(f)
  if f ~= nil then
    tracked[#tracked + 1] = f
  end
  return f
end

local function silent() end

--- Install an error handler that ignores everything (reset() restores the default).
function helpers.quiet()
  task.on_error(silent)
end

--- Abort tracked leftovers, let the rest run out, restore the clock and the handler.
-- Returns true if the clock could be switched back to "system" (no timer left pending).
function helpers.reset()
  task.on_error(silent)
  for i = #tracked, 1, -1 do
    local f = tracked[i]
    tracked[i] = nil
    pcall(function()
      if f.status ~= "finished" then
        task.abort(f, "spec cleanup")
      end
    end)
  end
  pcall(task.drain)
  local ok, err = pcall(task.set_clock, "system")
  task.on_error(nil)
  return ok, err
end

--- Wrap a spec body so that it runs under the manual clock. Afterwards the spec's
-- leftovers are cleaned up and the system clock is restored; a timer the spec left
-- pending (so that the clock cannot be switched back) fails the spec.
function helpers.with_manual_clock(fn)
  return function(...)
    task.set_clock("manual")
    local ok, err = pcall(fn, ...)
    local clock_ok, clock_err = helpers.reset()
    if not ok then
      error(err, 0)
    end
    luassert(clock_ok, "a timer was left pending, set_clock('system') failed: " .. tostring(clock_err))
  end
end

--- A log list and a function that appends to it.
function helpers.recorder()
  local log = {}
  return log, function(v)
    log[#log + 1] = v
  end
end

--- A time in milliseconds as text: "10" for 10 or 10.0 (now() may return a float).
function helpers.ms(t)
  return ("%g"):format(t)
end

--- A fresh error value (a table: identity is what join must preserve).
function helpers.E(name)
  return setmetatable({ name = name or "E" }, {
    __tostring = function(e)
      return "E<" .. tostring(e.name) .. ">"
    end,
  })
end

--- Call fn(...) and return the error it raised; fail if it returned normally.
function helpers.error_of(fn, ...)
  local r = pack(pcall(fn, ...))
  luassert(not r[1], "expected an error, but the call returned normally")
  return r[2]
end

--- Assert that fn(...) raises a string error containing `text` (plain match).
function helpers.assert_error_contains(text, fn, ...)
  local err = helpers.error_of(fn, ...)
  luassert(type(err) == "string" and err:find(text, 1, true) ~= nil,
    ("expected an error containing %q, got %s"):format(text, type(err) == "string" and ("%q"):format(err) or tostring(err)))
  return err
end

--- Assert that fn(...) raises "bad argument #n to 'name'".
function helpers.assert_bad_arg(n, name, fn, ...)
  return helpers.assert_error_contains(("bad argument #%d to '%s'"):format(n, name), fn, ...)
end

--- Assert that fn(...) raises "actress: <name> must be called from inside a task".
function helpers.assert_task_only(name, fn, ...)
  return helpers.assert_error_contains(("actress: %s must be called from inside a task"):format(name), fn, ...)
end

--- Stands for a nil that reached a collector (messages are never nil).
helpers.NIL = setmetatable({}, { __tostring = function() return "NIL" end })

--- Inside a task: run task `t` under task.map, collecting every message it passes on
-- (a nil, which should never arrive, is recorded as helpers.NIL).
-- Returns the list of messages, then pcall's results (ok, values... or false, error).
function helpers.collect(t)
  local msgs = {}
  local mapped = task.map(t, function(m)
    if m == nil then
      m = helpers.NIL
    end
    msgs[#msgs + 1] = m
  end)
  return msgs, pcall(mapped)
end

--- Inside a task: join fork f through task.map, collecting the messages it sends.
-- Returns the list of messages, then pcall's results of the join.
function helpers.collect_messages(f)
  return helpers.collect(function()
    return task.join(f)
  end)
end

--- Inside a task: let other tasks take n turns (n cooperative yields).
function helpers.turns(n)
  for _ = 1, n or 5 do
    task.wait()
  end
end

--- The sorted list of the keys of table t.
function helpers.keys(t)
  local ks = {}
  for k in pairs(t) do
    ks[#ks + 1] = tostring(k)
  end
  table.sort(ks)
  return ks
end

--- The Lua interpreter used for child processes.
helpers.LUA = os.getenv("ACTRESS_SPEC_LUA") or "lua5.4"

--- Run Lua `source` in a child interpreter (same LUA_PATH/LUA_CPATH environment).
-- Returns its stdout, its stderr and its exit code.
function helpers.run_lua(source)
  local script, errfile = os.tmpname(), os.tmpname()
  local fh = assert(io.open(script, "w"))
  fh:write(source)
  fh:close()
  local p = assert(io.popen(("%s %s 2>%s"):format(helpers.LUA, script, errfile), "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  fh = assert(io.open(errfile, "r"))
  local err = fh:read("a")
  fh:close()
  os.remove(script)
  os.remove(errfile)
  return out, err, code
end

return helpers
