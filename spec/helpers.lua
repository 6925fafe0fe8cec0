-- spec/helpers.lua: the one helpers module of the actress specs (spec/README.md).
--
-- busted runs every spec file in one Lua state, so all files share one runtime.
-- A spec leaves it as it found it: the forks it may leave unfinished are given
-- to H.track, and H.reset (run after each spec) aborts them, lets the rest run
-- out and restores the system clock and the default error handler. Then the
-- leak check (H.after_each_check, in every spec file) fails a test that left a
-- task live or ready or a timer pending.
--
-- The sections: cleanup and the clock; the leak check; values and recorders;
-- errors; messages (collectors and small effects); child interpreters and files.
local task = require "actress"

local H = {}

local pack, unpack = table.pack, table.unpack

-- luassert is busted's; loaded when an assertion first needs it, so that
-- this module also loads where busted is not (a child interpreter).
local function check(cond, msg)
  return require("luassert")(cond, msg)
end

-- {====================================================================
-- Cleanup and the clock
-- ===================================================================== --

-- Forks that reset() aborts if they are still unfinished.
local tracked = {}

--- Remember fork `f` so that reset() aborts it if a spec leaves it unfinished.
-- Returns f.
function H.track(f)
  if f ~= nil then
    tracked[#tracked + 1] = f
  end
  return f
end

local function silent() end

--- Install an error handler that ignores everything (reset() restores the default).
function H.quiet()
  task.on_error(silent)
end

--- For before_each: select the manual clock (it starts at 0); reset() goes
-- back to the system clock.
function H.use_manual_clock()
  task.set_clock("manual")
end

-- Aborts the tracked forks still unfinished (the last tracked first), and
-- forgets the ones that are finished then.
local function abort_tracked()
  for i = #tracked, 1, -1 do
    local f = tracked[i]
    pcall(function()
      if f.status ~= "finished" then
        task.abort(f, "spec cleanup")
      end
    end)
  end
  local left = {}
  for _, f in ipairs(tracked) do
    if f.status ~= "finished" then
      left[#left + 1] = f
    end
  end
  tracked = left
end

--- Abort the tracked forks still unfinished, let the rest run out (drain), then
-- restore the system clock and the default error handler. An error raised by
-- the drain is raised again once all that is done. Returns true if the clock
-- could be switched back to "system" (no timer left pending), else false and
-- the error. (A tracked fork that outlives its abort stays tracked, so that
-- the leak check names it.)
function H.reset()
  task.on_error(silent)
  abort_tracked()
  local drained, drain_err = pcall(task.drain)
  local ok, err = pcall(task.set_clock, "system")
  task.on_error(nil)
  if not drained then
    error(drain_err, 0)
  end
  return ok, err
end

--- Wrap a spec body so that it runs under the manual clock. Afterwards the spec's
-- leftovers are cleaned up and the system clock is restored; a timer the spec left
-- pending (so that the clock cannot be switched back) fails the spec.
function H.with_manual_clock(fn)
  return function(...)
    task.set_clock("manual")
    local ok, err = pcall(fn, ...)
    local clock_ok, clock_err = H.reset()
    if not ok then
      error(err, 0)
    end
    check(clock_ok, "a timer was left pending, set_clock('system') failed: " .. tostring(clock_err))
  end
end

-- }==================================================================== --

-- {====================================================================
-- The leak check: after every test, nothing is left
-- ===================================================================== --

--- What the runtime still holds: nil when no task is live or ready and no timer
-- is pending (task.stats()), else a description of what is: the counts, and
-- the tracked forks that are still unfinished (id, name, status).
function H.leftovers()
  local s = task.stats()
  if s.tasks == 0 and s.ready == 0 and s.timers == 0 then
    return nil
  end
  local what = ("%d task(s) live (%d ready, %d suspended), %d timer(s) pending"):format(
    s.tasks, s.ready, s.suspended, s.timers)
  local named = {}
  for _, f in ipairs(tracked) do
    if f.status ~= "finished" then
      named[#named + 1] = ("%d %q (%s)"):format(f.id, f.name, f.status)
    end
  end
  if #named > 0 then
    what = what .. "; tracked forks still unfinished: " .. table.concat(named, ", ")
  end
  return what
end

-- The full name of the test that runs, and task.stats() when it began (set
-- by H.after_each_check).
local test_name, at_start

--- The leak check, an after_each handler: raises if the test left a task live
-- or ready or a timer pending. Before raising, it aborts the tracked forks and
-- polls the loop a little (never blocking), so that one leak fails one test
-- where it can.
function H.assert_no_leaks()
  local what = H.leftovers()
  if what == nil then
    return
  end
  if at_start and (at_start.tasks > 0 or at_start.ready > 0 or at_start.timers > 0) then
    what = what .. ("; when the test began, %d task(s) and %d timer(s) were already there (left by an earlier test)")
      :format(at_start.tasks, at_start.timers)
  end
  abort_tracked()
  for _ = 1, 100 do
    if not task.poll() then
      break
    end
  end
  error(("leak check: %s left %s"):format(test_name and ("'" .. test_name .. "'") or "the test", what), 0)
end

-- The names of a busted element and of its describe blocks, outermost first.
local function full_name(busted, element)
  local names = {}
  while element and element.descriptor ~= "file" and element.descriptor ~= "suite" do
    table.insert(names, 1, element.name)
    element = busted.parent(element)
  end
  return table.concat(names, " ")
end

--- Registers the leak check after every test of the spec file that calls it:
-- call it once, at the top level of each spec file (spec/README.md). The check
-- runs after the test's own cleanup (the after_each handlers of its describe
-- blocks, H.reset for one, and `cleanup` if given: H.after_each_check(H.reset)
-- resets after every test of the file), and fails the run with an error that
-- names the test.
function H.after_each_check(cleanup)
  local busted = require "busted"
  local channel = { "test", "start" }
  local sub = busted.subscribe(channel, function(element)
    test_name, at_start = full_name(busted, element), task.stats()
    return nil, true  -- the other subscribers (the output handler) get it too
  end)
  if cleanup then
    busted.after_each(cleanup)
  end
  busted.after_each(H.assert_no_leaks)
  busted.teardown(function()
    busted.unsubscribe(sub.id, channel)
  end)
end

-- }==================================================================== --

-- {====================================================================
-- Values and recorders
-- ===================================================================== --

--- A log list and a function that appends to it.
function H.recorder()
  local log = {}
  return log, function(v)
    log[#log + 1] = v
  end
end

--- A time in milliseconds as text: "10" for 10 or 10.0 (now() may return a float).
function H.ms(t)
  return ("%g"):format(t)
end

--- A fresh error value (a table: identity is what join must preserve).
function H.E(name)
  return setmetatable({ name = name or "E" }, {
    __tostring = function(e)
      return "E<" .. tostring(e.name) .. ">"
    end,
  })
end

--- The sorted list of the keys of table t.
function H.keys(t)
  local ks = {}
  for k in pairs(t) do
    ks[#ks + 1] = tostring(k)
  end
  table.sort(ks)
  return ks
end

--- Inside a task: let other tasks take n turns (n cooperative yields).
function H.turns(n)
  for _ = 1, n or 5 do
    task.wait()
  end
end

-- }==================================================================== --

-- {====================================================================
-- Errors
-- ===================================================================== --

--- Call fn(...) and return the error it raised; fail if it returned normally.
function H.error_of(fn, ...)
  local r = pack(pcall(fn, ...))
  check(not r[1], "expected an error, but the call returned normally")
  return r[2]
end

local function show(err)
  return type(err) == "string" and ("%q"):format(err) or tostring(err)
end

--- Assert that fn(...) raises a string error containing `text` (plain match).
function H.assert_error_contains(text, fn, ...)
  local err = H.error_of(fn, ...)
  check(type(err) == "string" and err:find(text, 1, true) ~= nil,
    ("expected an error containing %q, got %s"):format(text, show(err)))
  return err
end

local function bad_arg_text(n, name)
  return ("bad argument #%d to '%s'"):format(n, name)
end

--- Assert that fn(...) raises "bad argument #n to 'name'".
function H.assert_bad_arg(n, name, fn, ...)
  return H.assert_error_contains(bad_arg_text(n, name), fn, ...)
end

--- Assert that fn(...) raises exactly "bad argument #n to 'name' (detail)"
-- (after the position prefix Lua adds).
function H.bad_argument(n, name, detail, fn, ...)
  local err = H.error_of(fn, ...)
  local want = ("%s (%s)"):format(bad_arg_text(n, name), detail)
  check(type(err) == "string" and err:sub(-#want) == want,
    ("expected an error ending in %q, got %s"):format(want, show(err)))
end

--- Assert that fn(...) raises "actress: <name> must be called from inside a task".
function H.assert_task_only(name, fn, ...)
  return H.assert_error_contains(("actress: %s must be called from inside a task"):format(name), fn, ...)
end

-- }==================================================================== --

-- {====================================================================
-- Messages: collectors and small effects
-- ===================================================================== --

--- Stands for a nil that reached a collector (messages are never nil).
H.NIL = setmetatable({}, { __tostring = function() return "NIL" end })

local function as_sent(m)
  if m == nil then
    return H.NIL
  end
  return m
end

local function with_time(m)
  return { task.now(), as_sent(m) }
end

-- Inside a task: runs t(...) under task.map, recording entry(m) for each
-- message m. Returns the list and pcall's results, packed.
local function record(entry, t, ...)
  local log = {}
  local r = pack(pcall(task.map(t, function(m)
    log[#log + 1] = entry(m)
  end), ...))
  return log, r
end

--- Inside a task: run task t(...) under task.map, collecting every message it
-- passes on (a nil, which should never arrive, is recorded as H.NIL).
-- Returns the list of messages, then pcall's results (true, values... or false, error).
function H.collect(t, ...)
  local log, r = record(as_sent, t, ...)
  return log, unpack(r, 1, r.n)
end

--- Inside a task: join fork f through task.map, collecting the messages it sends.
-- Returns the list of messages, then pcall's results of the join.
function H.collect_messages(f)
  return H.collect(function()
    return task.join(f)
  end)
end

--- Inside a task: as collect, but returns the list of messages and pcall's
-- results packed (table.pack).
function H.capture(e, ...)
  return record(as_sent, e, ...)
end

--- Inside a task: as capture, but each entry is { task.now(), message }.
function H.capture_timed(e, ...)
  return record(with_time, e, ...)
end

--- Outside a task: task.run of capture(e, ...).
function H.run_capture(e, ...)
  return task.run(H.capture, e, ...)
end

--- Outside a task: task.run of capture_timed(e, ...).
function H.run_timed(e, ...)
  return task.run(H.capture_timed, e, ...)
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

-- }==================================================================== --

-- {====================================================================
-- Child interpreters and files
-- ===================================================================== --

--- The Lua interpreter used for child processes.
H.LUA = os.getenv("ACTRESS_SPEC_LUA") or "lua5.4"

--- s quoted for the shell (as one word).
function H.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- Runs the Lua file at `path` in a child interpreter that finds modules
-- where this process does (its package.path and package.cpath become the
-- child's LUA_PATH_5_4 and LUA_CPATH_5_4); the rest of the environment is
-- inherited. opts (optional): args, a list of arguments for the script;
-- timeout, seconds after which `timeout` kills the child (exit code 124);
-- merge, true to have stderr in stdout (as 2>&1: in the order written).
-- Returns stdout, stderr ("" with merge), the exit code, and how it ended
-- ("exit" or "signal").
function H.run_lua_file(path, opts)
  opts = opts or {}
  local args = {}
  for i, v in ipairs(opts.args or {}) do
    args[i] = H.shell_quote(v)
  end
  local errfile = not opts.merge and os.tmpname()
  local cmd = ("LUA_PATH_5_4=%s LUA_CPATH_5_4=%s %s%s %s %s 2>%s"):format(
    H.shell_quote(package.path), H.shell_quote(package.cpath),
    opts.timeout and ("timeout %d "):format(opts.timeout) or "", H.LUA, H.shell_quote(path),
    table.concat(args, " "), errfile or "&1")
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local _, how, code = p:close()
  local err = ""
  if errfile then
    err = H.read(errfile)
    os.remove(errfile)
  end
  return out, err, code, how
end

--- Runs Lua `source` in a child interpreter, as run_lua_file (opts too).
function H.run_lua(source, opts)
  local script = os.tmpname()
  local fh = assert(io.open(script, "w"))
  fh:write(source)
  fh:close()
  local out, err, code, how = H.run_lua_file(script, opts)
  os.remove(script)
  return out, err, code, how
end

--- Calls fn(...) with the Lua stack of the calling thread all but full: 999,000
-- values (of the 1,000,000 that LUAI_MAXSTACK allows) lie below fn's frame,
-- so that what fn pushes on that stack (a driver, abort) has room for a few
-- thousand values at most. For a child interpreter, whose main stack starts
-- empty, so that thousands of tasks stand for a million. Returns pcall's results.
function H.pcall_on_full_stack(fn, ...)
  local args = pack(...)
  local filler = {}
  for i = 1, 999000 do
    filler[i] = false
  end
  local function below(...)
    return pcall(fn, unpack(args, 1, args.n))
  end
  return below(unpack(filler))
end

--- Reads a whole file.
function H.read(path)
  local fh = assert(io.open(path, "r"))
  local s = fh:read("a")
  fh:close()
  return s
end

-- }==================================================================== --

return H
