-- spec/effects_helpers.lua: helpers for the effect specs (20-23).
--
-- Effects are captured by running them under task.map with a recorder;
-- timed captures also note task.now() for each message. Every spec runs on
-- the manual clock; teardown aborts the forks a spec tracked, drains the
-- loop and goes back to the system clock.
local task = require "actress"

local H = {}

local pack = table.pack

-- Forks that teardown aborts if a spec leaves them unfinished.
local tracked = {}

--- Remember fork f so that teardown aborts it if it is still running.
function H.track(f)
  tracked[#tracked + 1] = f
  return f
end

--- before_each: the manual clock (starts at 0).
function H.setup()
  task.set_clock("manual")
end

--- after_each: abort leftovers, drain, and restore the system clock (this
-- raises if a timer is still pending, which fails the spec).
function H.teardown()
  for i = #tracked, 1, -1 do
    local f = tracked[i]
    tracked[i] = nil
    if f.status ~= "finished" then
      pcall(task.abort, f, "spec cleanup")
    end
  end
  task.drain()
  task.set_clock("system")
end

--- Inside a task: runs task e(...) under task.map, recording each message.
-- Returns the list of messages and a packed pcall result of e.
function H.capture(e, ...)
  local log = {}
  local r = pack(pcall(task.map(e, function(m) table.insert(log, m) end), ...))
  return log, r
end

--- Inside a task: like capture, but each entry is { time, message }.
function H.capture_timed(e, ...)
  local log = {}
  local r = pack(pcall(task.map(e, function(m) table.insert(log, { task.now(), m }) end), ...))
  return log, r
end

--- Outside a task: task.run of capture(e, ...).
function H.run_capture(e, ...)
  local args = pack(...)
  return task.run(function() return H.capture(e, table.unpack(args, 1, args.n)) end)
end

--- Outside a task: task.run of capture_timed(e, ...).
function H.run_timed(e, ...)
  local args = pack(...)
  return task.run(function() return H.capture_timed(e, table.unpack(args, 1, args.n)) end)
end

--- An effect that sends prefix .. i every `every` ms, n times.
function H.ticker(prefix, n, every)
  return function()
    for i = 1, n do
      task.sleep(every)
      task.send(prefix .. i)
    end
  end
end

--- An effect that sleeps ms, then sends m.
function H.after(ms, m)
  return function()
    task.sleep(ms)
    task.send(m)
  end
end

--- A fresh error value; identity is what must be preserved.
function H.E(name)
  return setmetatable({ name = name or "E" }, {
    __tostring = function(e) return "E<" .. e.name .. ">" end,
  })
end

--- Asserts that fn(...) raises exactly "bad argument #n to 'fname' (detail)"
-- (after the position prefix Lua adds).
function H.bad_argument(n, fname, detail, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, ("expected a bad argument error from '%s', got none"):format(fname))
  local want = ("bad argument #%d to '%s' (%s)"):format(n, fname, detail)
  assert(type(err) == "string" and err:sub(-#want) == want,
    ("expected an error ending in %q, got %q"):format(want, tostring(err)))
end

--- The interpreter for child processes.
H.LUA = os.getenv("ACTRESS_SPEC_LUA") or "lua5.4"

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Runs the Lua file at `path` in a child interpreter that finds modules
-- where this process does (its package.path and package.cpath become the
-- child's LUA_PATH_5_4 and LUA_CPATH_5_4); the rest of the environment is
-- inherited. Returns stdout, stderr and the exit code.
function H.run_lua_file(path)
  local errfile = os.tmpname()
  local cmd = ("LUA_PATH_5_4=%s LUA_CPATH_5_4=%s %s %s 2>%s"):format(
    shell_quote(package.path), shell_quote(package.cpath), H.LUA, shell_quote(path), errfile)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local fh = assert(io.open(errfile, "r"))
  local err = fh:read("a")
  fh:close()
  os.remove(errfile)
  return out, err, code
end

--- Runs Lua `source` in a child interpreter, as run_lua_file.
function H.run_lua(source)
  local script = os.tmpname()
  local fh = assert(io.open(script, "w"))
  fh:write(source)
  fh:close()
  local out, err, code = H.run_lua_file(script)
  os.remove(script)
  return out, err, code
end

--- Reads a whole file.
function H.read(path)
  local fh = assert(io.open(path, "r"))
  local s = fh:read("a")
  fh:close()
  return s
end

return H
