-- spec/fuzz_helpers.lua: the engine of the API fuzzing spec (41-fuzz_spec.lua),
-- also loaded by the child process that fuzzes a closed runtime.
--
-- Every function is called with every combination of argument values of a
-- fixed set (one of each Lua type, the awkward numbers, and Forks in each
-- state), for 0 .. its arity arguments, either outside any task or from
-- inside one. Each call must return or raise a Lua error; a string error must
-- say "bad argument" (naming the public function) or "actress:". A call made
-- inside a task runs in a fork of its own, which the harness aborts if it is
-- still waiting a few turns later (suspend, sleep, join of a suspended fork
-- ... legitimately wait forever); only the operations that may suspend are
-- allowed to still be waiting then.
local task = require "actress"
local core = require "actress.core"

local F = {}

local pack, unpack = table.pack, table.unpack

--- The error the harness aborts a waiting call with.
F.STOP = setmetatable({}, { __tostring = function() return "STOP" end })
--- The error of the failed Fork in the value set.
F.FAIL = setmetatable({}, { __tostring = function() return "FAIL" end })

-- The one callable value: returns its arguments (so as a task body, a
-- callback or a map function it does something plausible).
local function fnv(...) return ... end
F.fnv = fnv

local function body_ret() return "R" end
local function suspender() task.suspend() return "resumed" end

-- {====================================================================
-- The value set
-- ===================================================================== --

-- Each kind is a constant (v), made fresh per call (make), or a Fork made
-- by the context (fixture). `late` fixtures are made inside the calling
-- task itself (a queued fork must not have run yet; `current` is the caller).
F.KINDS = {
  { name = "nil" },
  { name = "false", v = false },
  { name = "true", v = true },
  { name = "0", v = 0 },
  { name = "-1", v = -1 },
  { name = "1.5", v = 1.5 },
  { name = "nan", v = 0 / 0 },
  { name = "inf", v = math.huge },
  { name = "-inf", v = -math.huge },
  { name = "string", v = "str" },
  { name = "table", make = function() return {} end },
  { name = "function", v = fnv },
  { name = "callable", v = setmetatable({}, { __call = fnv, __name = "callable" }), rich = true },
  { name = "thread", make = function() return coroutine.create(fnv) end },
  { name = "userdata", v = io.stdout },
  { name = "deferred", make = function() return task.deferred() end, rich = true },
  { name = "fork:done", fixture = "done" },
  { name = "fork:failed", fixture = "failed" },
  { name = "fork:idle", fixture = "idle" },
  { name = "fork:queued", fixture = "queued", late = true, rich = true },
  { name = "fork:suspended", fixture = "suspended" },
  { name = "fork:grouping", fixture = "grouping", rich = true },
  { name = "fork:sleeping", fixture = "sleeping", rich = true },
  { name = "fork:waiting", fixture = "waiting", rich = true },
  { name = "fork:current", fixture = "current", late = true, inside_only = true },
  -- Only for the functions that take arrays or records (entry.tables).
  { name = "{fn, fn}", tables = true, make = function() return { fnv, fnv } end },
  { name = "{a = fn, b = fn}", tables = true, make = function() return { a = fnv, b = fnv } end },
  { name = "{forks}", tables = true, fixture = "array" },
  { name = "{failed fork}", tables = true, fixture = "failed_array" },
  { name = "{current}", tables = true, fixture = "self_array", late = true, inside_only = true },
  -- Only for the field accesses (entry.fields): the names of the fields.
  { name = "'name'", fields = true, v = "name" },
  { name = "'id'", fields = true, v = "id" },
  { name = "'status'", fields = true, v = "status" },
  { name = "'result'", fields = true, v = "result" },
  { name = "'traceback'", fields = true, v = "traceback" },
  { name = "'join'", fields = true, v = "join" },
}

-- }==================================================================== --

-- {====================================================================
-- The functions under test
-- ===================================================================== --

-- Method-call forms (f:m(...)), so that the argument numbering of methods
-- (self not counted) is exercised too. Not tail calls: a tail call loses
-- the "method" call information.
local function method(name)
  return function(self, ...)
    local r = pack(self[name](self, ...))
    return unpack(r, 1, r.n)
  end
end

local Fork = task.Fork
local Deferred = getmetatable(task.deferred())

-- The Fork metatable (its __index, __newindex and __tostring are fuzzed
-- with any self; __gc is a spec of its own).
local function fork_mt()
  local f = task.fork(body_ret)
  return getmetatable(f)
end

local MAY_BLOCK = {
  suspend = true, sleep = true, wait = true, join = true, group = true,
  all = true, gather = true, await_callback = true,
}

local TABLES = { all = true, group = true, batch = true, effects = true, listen = true, gather = true }

local BUILDERS = {
  none = true, effect = true, effects = true, batch = true, tag = true,
  map = true, listen = true, loop = true, then_ = true,
}

-- Arity (arguments the function reads) of each function of the module.
local ARITY = {
  current = 0, suspend = 0, resume = 1, sleep = 1, wait = 1, send = 2,
  fork = 2, spawn = 2, main = 2, join = 1, group = 1, abort = 2, exit = 2,
  terminate = 1, run = 2, drain = 0, poll = 0, now = 0, set_clock = 1,
  advance = 1, stats = 0, on_error = 1, all = 1, none = 0, effect = 1,
  effects = 1, batch = 1, tag = 2, map = 2, listen = 1, loop = 2,
  then_ = 3, defer = 1, deferred = 0, await_callback = 1,
}

--- The list of entries { label, fn, arity, name (for bad-argument
-- messages, nil: not checked), may_block, builder }. Raises if the module
-- has a function this list does not know (so that it gets fuzzed).
function F.entries()
  local list, unknown = {}, {}
  local names = {}
  for name, v in pairs(task) do
    if type(v) == "function" then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local arity = ARITY[name]
    if arity == nil then
      unknown[#unknown + 1] = name
    else
      list[#list + 1] = {
        label = "task." .. name, fn = task[name], arity = math.max(arity, 1),
        name = name, may_block = MAY_BLOCK[name], builder = BUILDERS[name], tables = TABLES[name],
      }
    end
  end
  local fnames = {}
  for name, v in pairs(Fork) do
    if type(v) == "function" then fnames[#fnames + 1] = name end
  end
  table.sort(fnames)
  local FORK_ARITY = { join = 0, abort = 1, exit = 1, resume = 0, start = 0, await = 0, then_ = 2 }
  for _, name in ipairs(fnames) do
    local arity = FORK_ARITY[name]
    if arity == nil then
      unknown[#unknown + 1] = "Fork." .. name
    else
      list[#list + 1] = {
        label = "Fork." .. name, fn = Fork[name], arity = arity + 1, name = name,
        may_block = name == "join",
      }
      list[#list + 1] = {
        label = "f:" .. name .. "()", fn = method(name), arity = arity + 1, name = name, only_forks = 1,
        may_block = name == "join",
      }
    end
  end
  local mt = fork_mt()
  list[#list + 1] = { label = "Fork __index", fn = mt.__index, arity = 2, name = "Fork metamethod", fields = true }
  list[#list + 1] = { label = "Fork __newindex", fn = mt.__newindex, arity = 3, name = "Fork metamethod", fields = true }
  list[#list + 1] = { label = "Fork __tostring", fn = mt.__tostring, arity = 1, name = "Fork metamethod" }
  list[#list + 1] = { label = "tostring(v)", fn = tostring, arity = 1 }
  list[#list + 1] = { label = "v[k]", fn = function(v, k) return v[k] end, arity = 2, only_forks = 1, fields = true }
  list[#list + 1] = { label = "v[k] = x", fn = function(v, k, x) v[k] = x end, arity = 3, only_forks = 1,
    fields = true }
  for _, name in ipairs { "new", "resolve", "reject", "then_" } do
    local arity = ({ new = 0, resolve = 2, reject = 2, then_ = 3 })[name]
    list[#list + 1] = { label = "Deferred." .. name, fn = Deferred[name], arity = math.max(arity, 1),
      name = name ~= "new" and name or nil }
  end
  list[#list + 1] = { label = "d:resolve()", arity = 2, only_deferred = 1, name = "resolve",
    fn = function(d, ...) local r = pack(d:resolve(...)) return unpack(r, 1, r.n) end }
  list[#list + 1] = { label = "d:then_()", arity = 3, only_deferred = 1, name = "then_",
    fn = function(d, ...) local r = pack(d:then_(...)) return unpack(r, 1, r.n) end }
  -- The core's internal functions, used by the Lua part of the module.
  for _, e in ipairs {
    { "gather", 2, true }, { "adopt", 2 }, { "check_task", 1 }, { "callback", 3 }, { "luv_status", 1 },
  } do
    list[#list + 1] = { label = "core." .. e[1], fn = core[e[1]], arity = e[2], may_block = e[3],
      tables = TABLES[e[1]] }
  end
  return list, unknown
end

-- }==================================================================== --

-- {====================================================================
-- Checking outcomes
-- ===================================================================== --

--- Is err an acceptable error of a call of entry e? Returns true, or false
-- and why.
function F.acceptable(err, e)
  if rawequal(err, F.STOP) or rawequal(err, F.FAIL) then return true end
  if type(err) ~= "string" then
    return false, "a non-string error that is not the value of a failed fork: " .. tostring(err)
  end
  if err:find("actress:", 1, true) then return true end
  if err:find("bad argument", 1, true) then
    if e and e.name and not err:find("to '" .. e.name .. "'", 1, true) then
      return false, "a bad-argument error that does not name '" .. e.name .. "': " .. err
    end
    return true
  end
  return false, "an error that says neither 'bad argument' nor 'actress:': " .. err
end

-- }==================================================================== --

-- {====================================================================
-- Contexts: where fixtures come from and how a call is made
-- ===================================================================== --

local shared = {}
--- The fixtures every call shares (done, failed; all of them once closed).
F.shared = shared

--- Makes the shared finished forks (outside tasks, once).
function F.setup_shared()
  if shared.done then return end
  shared.done = task.fork(body_ret)
  task.run(function() task.join(shared.done) end)
  shared.failed = task.fork(function() error(F.FAIL, 0) end)
  task.run(function() pcall(task.join, shared.failed) end)
  assert(shared.done.status == "finished" and shared.failed.status == "finished")
end

--- Uses the given forks as the finished ones (the closed-runtime child
-- makes every fixture before closing).
function F.set_shared(t)
  for k, v in pairs(t) do shared[k] = v end
end

-- The outside context: fixtures made by plain code.
local outside = { name = "outside" }

function outside.fixture(kind, made)
  if kind == "done" or kind == "failed" then return shared[kind] end
  if shared.closed then return shared[kind] end
  local f
  if kind == "array" then
    return { shared.done, (outside.fixture("idle", made)), (outside.fixture("suspended", made)) }
  elseif kind == "failed_array" then
    return { outside.fixture("idle", made), shared.failed }
  elseif kind == "idle" then
    f = task.fork(body_ret)
  elseif kind == "queued" then
    f = task.fork(body_ret):start()
  elseif kind == "suspended" then
    task.main(function() f = task.current() task.suspend() end)
  elseif kind == "sleeping" then
    task.main(function() f = task.current() task.sleep(1e9) end)
  elseif kind == "grouping" or kind == "waiting" then
    local s2
    task.main(function() s2 = task.current() task.suspend() end)
    made[#made + 1] = s2
    if kind == "grouping" then
      task.main(function() f = task.current() core.gather({ s2 }, fnv) end)
    else
      task.main(function() f = task.current() task.wait(s2) end)
    end
  end
  made[#made + 1] = f
  return f
end

-- The inside context (the harness task): fixtures made by a task. Returns
-- the fork, and true if it must get a turn to reach where it waits.
local inside = { name = "inside", late = true }

function inside.fixture(kind, made)
  if kind == "done" or kind == "failed" then return shared[kind] end
  local f, turn
  if kind == "array" then
    return { shared.done, (inside.fixture("idle", made)), (inside.fixture("suspended", made)) }, true
  elseif kind == "failed_array" then
    return { (inside.fixture("idle", made)), shared.failed }, false
  elseif kind == "idle" then  -- a callback runs outside any task: fork is idle
    core.callback(shared.done, function() f = task.fork(body_ret) end)
  elseif kind == "suspended" then
    f, turn = task.fork(suspender), true
  elseif kind == "sleeping" then
    f, turn = task.fork(function() task.sleep(1e9) end), true
  elseif kind == "grouping" then
    local s2 = task.fork(suspender)
    made[#made + 1] = s2
    f, turn = task.fork(function() core.gather({ s2 }, fnv) end), true
  elseif kind == "waiting" then
    local s2 = task.fork(suspender)
    made[#made + 1] = s2
    f, turn = task.fork(function() task.wait(s2) end), true
  end
  made[#made + 1] = f
  return f, turn
end

-- Resolves the kinds of a combination into arguments; late fixtures are
-- left as placeholders for the calling task. Returns args, need_turn.
local LATE = {}
local function resolve(ctx, combo, n, made)
  local args, cache, turn = {}, {}, false
  for i = 1, n do
    local k = F.KINDS[combo[i]]
    if k.fixture and k.tables and shared.closed then
      args[i] = shared[k.fixture]
    elseif k.fixture then
      if k.late and ctx.late then
        args[i] = LATE
      else
        if cache[k.fixture] == nil then
          local f, t = ctx.fixture(k.fixture, made)
          cache[k.fixture] = f
          turn = turn or t
        end
        args[i] = cache[k.fixture]
      end
    elseif k.make then
      args[i] = k.make()
    else
      args[i] = k.v
    end
  end
  return args, turn
end

-- Inside the calling task: the late fixtures.
local function resolve_late(combo, n, args, made)
  local queued
  for i = 1, n do
    if args[i] == LATE then
      local k = F.KINDS[combo[i]].fixture
      if k == "current" then
        args[i] = task.current()
      elseif k == "self_array" then
        args[i] = { task.current() }
      else
        if queued == nil then
          queued = task.fork(body_ret)
          made[#made + 1] = queued
        end
        args[i] = queued
      end
    end
  end
end

-- }==================================================================== --

-- {====================================================================
-- Enumerating combinations
-- ===================================================================== --

-- Calls visit(combo, n) for every combination of n kinds, n = 0 .. arity,
-- restricted by the entry (kinds usable in this context; only Forks, or
-- only Deferreds, as the first argument of the forms that need one).
local function each_combo(e, ctx_name, visit, max_arity)
  local kinds = {}
  for i, k in ipairs(F.KINDS) do
    if not (k.inside_only and ctx_name ~= "inside") and (e.tables or not k.tables)
      and (e.fields or not k.fields) then
      kinds[#kinds + 1] = i
    end
  end
  local first = kinds
  if e.only_forks then
    first = {}
    for _, i in ipairs(kinds) do
      if F.KINDS[i].fixture and not F.KINDS[i].tables and not F.KINDS[i].fields then first[#first + 1] = i end
    end
  elseif e.only_deferred then
    first = {}
    for _, i in ipairs(kinds) do
      if F.KINDS[i].name == "deferred" then first[#first + 1] = i end
    end
  end
  local min = (e.only_forks or e.only_deferred) and 1 or 0
  -- From the third argument on, only the plain kinds (every Lua type and
  -- the Forks done, failed, idle, suspended and current): the "rich" ones
  -- and the field names are for the first two, which keeps the three-
  -- argument functions to ~15,000 combinations each.
  local later = {}
  for _, i in ipairs(kinds) do
    if not F.KINDS[i].rich and not F.KINDS[i].fields then later[#later + 1] = i end
  end
  local combo = {}
  local function rec(pos, n)
    if pos > n then return visit(combo, n) end
    for _, i in ipairs(pos == 1 and first or pos == 2 and kinds or later) do
      combo[pos] = i
      rec(pos + 1, n)
    end
  end
  for n = min, math.min(e.arity, max_arity or math.huge) do rec(1, n) end
end

-- }==================================================================== --

local function describe_call(e, combo, n, where)
  local parts = {}
  for i = 1, n do parts[i] = F.KINDS[combo[i]].name end
  return ("%s(%s) %s"):format(e.label, table.concat(parts, ", "), where)
end

-- Aborts every fixture that is still unfinished.
local function stop_all(made)
  for i = #made, 1, -1 do
    local f = made[i]
    if f.status ~= "finished" then pcall(task.abort, f, F.STOP) end
  end
end

-- Runs the task a builder returned, outside tasks.
local function follow_up_outside(e, r)
  if e.builder and r[1] and type(r[2]) == "function" then
    pcall(task.run, r[2])
  elseif e.name == "defer" and r[1] and r[2] ~= nil then
    pcall(function() local _ <close> = r[2] end)
  end
end

--- The fuzzing state: counts and the first problems found.
function F.new_state(on_error)
  return { calls = 0, blocked = 0, problems = {}, on_error = on_error }
end

local function problem(st, msg)
  if #st.problems < 20 then st.problems[#st.problems + 1] = msg end
end

-- Where a call is made from. Outside tasks: "plain" code, or a "callback"
-- (an f:then_ callback, which the scheduler runs outside any task while it
-- drives the loop). Inside a task: the "task" body itself, a "coroutine"
-- the body created, a "transform" (a task.map function, which runs inside
-- send), or a "closing" task (a <close> handler running during task.exit).
F.OUTSIDE_MODES = { "plain", "callback" }
F.INSIDE_MODES = { "task", "coroutine", "transform", "closing" }

local WHERE = {
  plain = "outside a task", callback = "in an f:then_ callback", task = "inside a task",
  coroutine = "in a coroutine inside a task", transform = "in a task.map function",
  closing = "in a <close> handler of an exiting task",
}

--- Fuzzes entry e outside tasks; after each call, stops the fixtures and
-- drains. `max_arity` caps the number of arguments.
function F.fuzz_outside(st, e, mode, max_arity)
  mode = mode or "plain"
  local where = WHERE[mode]
  each_combo(e, "outside", function(combo, n)
    local made = {}
    local args = resolve(outside, combo, n, made)
    local r
    st.calls = st.calls + 1
    if mode == "plain" then
      r = pack(pcall(e.fn, unpack(args, 1, n)))
    else
      local t = task.fork(body_ret)
      t:then_(function() r = pack(pcall(e.fn, unpack(args, 1, n))) end)
      local ok, err = pcall(task.drain)
      if not ok then problem(st, describe_call(e, combo, n, where) .. ": the drain that ran it raised " .. tostring(err)) end
      if r == nil then
        problem(st, describe_call(e, combo, n, where) .. ": the callback did not run")
        r = { true, n = 1 }
      end
    end
    if not r[1] then
      local ok, why = F.acceptable(r[2], e)
      if not ok then problem(st, describe_call(e, combo, n, where) .. ": " .. why) end
    end
    follow_up_outside(e, r)
    if not shared.closed then
      task.on_error(st.on_error)
      stop_all(made)
      local ok, err = pcall(task.drain)
      if not ok then problem(st, describe_call(e, combo, n, where) .. ": then drain raised " .. tostring(err)) end
    end
  end, max_arity)
end

local TURNS = 4
local MARK = {}

-- The body of the fork that makes the call, for each inside mode. `box`
-- receives the packed results of pcall (box.r) and box.returned.
local CALLERS = {}

function CALLERS.task(e, combo, n, args, made, box)
  return task.fork(function()
    resolve_late(combo, n, args, made)
    box.r = pack(pcall(e.fn, unpack(args, 1, n)))
    box.returned = true
    if box.r[1] and e.builder and type(box.r[2]) == "function" then
      pcall(box.r[2])
    elseif box.r[1] and e.name == "defer" and box.r[2] ~= nil then
      pcall(function() local _ <close> = box.r[2] end)
    end
  end)
end

function CALLERS.coroutine(e, combo, n, args, made, box)
  return task.fork(function()
    resolve_late(combo, n, args, made)
    local co = coroutine.create(function()
      return MARK, pack(pcall(e.fn, unpack(args, 1, n)))
    end)
    local ok, mark, r = coroutine.resume(co)
    box.returned = true
    if not ok then
      box.bad = "the coroutine failed: " .. tostring(mark)
    elseif mark ~= MARK then
      box.bad = "the call yielded into the coroutine that made it"
    else
      box.r = r
    end
  end)
end

function CALLERS.transform(e, combo, n, args, made, box)
  return task.fork(function()
    local mapped = task.map(function() task.send(1) end, function()
      resolve_late(combo, n, args, made)
      box.r = pack(pcall(e.fn, unpack(args, 1, n)))
      box.returned = true
    end)
    local ok, err = pcall(mapped)
    if not ok and not rawequal(err, F.STOP) then box.bad = "the map task failed: " .. tostring(err) end
  end)
end

-- The caller waits in suspend; the harness exits it and its <close>
-- handler makes the call (see run_closing).
function CALLERS.closing(e, combo, n, args, made, box)
  return task.fork(function()
    local _ <close> = setmetatable({}, { __close = function()
      resolve_late(combo, n, args, made)
      box.r = pack(pcall(e.fn, unpack(args, 1, n)))
      box.returned = true
    end })
    task.suspend()
  end)
end

--- Fuzzes entry e from inside a task: each call in a fork of its own (see
-- CALLERS), the harness task watching it and aborting it if it still waits
-- after a few turns. One task.run per entry, then a drain.
function F.fuzz_inside(st, e, mode, max_arity)
  mode = mode or "task"
  local where = WHERE[mode]
  task.run(function()
    each_combo(e, "inside", function(combo, n)
      local made = {}
      local args, turn = resolve(inside, combo, n, made)
      if turn then task.wait() end  -- the fixtures reach where they wait
      local box = {}
      st.calls = st.calls + 1
      local caller = CALLERS[mode](e, combo, n, args, made, box)
      if mode == "closing" then
        task.wait()  -- it reaches its suspend
        local ok, err = pcall(task.exit, caller)
        if not ok then box.bad = "exit of the caller raised " .. tostring(err) end
      end
      for _ = 1, TURNS do
        if caller.status == "finished" then break end
        task.wait()
      end
      if caller.status ~= "finished" then
        if not box.returned then
          st.blocked = st.blocked + 1
          if not (e.may_block and mode == "task") then
            problem(st, describe_call(e, combo, n, where) .. ": still waiting after " .. TURNS .. " turns")
          end
        end
        for _ = 1, 5 do
          if caller.status == "finished" then break end
          task.abort(caller, F.STOP)
          task.wait()
        end
        if caller.status ~= "finished" then
          problem(st, describe_call(e, combo, n, where) .. ": the caller cannot be stopped")
        end
      end
      if box.bad then problem(st, describe_call(e, combo, n, where) .. ": " .. box.bad) end
      local res = caller.result
      if res and not res.ok and not rawequal(res.error, F.STOP) then
        problem(st, describe_call(e, combo, n, where) .. ": the caller failed with " .. tostring(res.error))
      end
      if box.r and not box.r[1] then
        local ok, why = F.acceptable(box.r[2], e)
        if not ok then problem(st, describe_call(e, combo, n, where) .. ": " .. why) end
      end
      task.on_error(st.on_error)
      stop_all(made)
      task.wait()
      task.wait()
    end, max_arity)
  end)
  task.drain()
end

-- {====================================================================
-- After a batch: the scheduler still works
-- ===================================================================== --

--- Runs a small program on the manual clock and checks what it does:
-- fork, group, join, sleep, messages through map, a failure's identity.
-- Returns true, or false and what went wrong.
function F.sanity()
  local t0 = task.now()
  local log = {}
  local E = {}
  local ok, sum = pcall(task.run, task.map(function()
    local a = task.fork(function() task.sleep(5) task.send("a") return 1 end)
    local b = task.fork(function() task.sleep(2) task.send("b") return 2 end)
    local c = task.fork(function() task.sleep(1) error(E, 0) end)
    task.group({ a, b })
    local cok, cerr = pcall(task.join, c)
    assert(not cok and rawequal(cerr, E), "the error's identity was lost")
    task.wait()
    return task.join(a) + task.join(b)
  end, function(m) log[#log + 1] = m end))
  if not ok then return false, "the sanity task failed: " .. tostring(sum) end
  if sum ~= 3 then return false, "the sanity task returned " .. tostring(sum) end
  if table.concat(log, ",") ~= "b,a" then return false, "messages: " .. table.concat(log, ",") end
  if task.now() - t0 ~= 5 then return false, "time moved by " .. (task.now() - t0) end
  return true
end

--- Checks stats() against the baseline: nothing left running, queued,
-- suspended or timed. Returns true, or false and what differs.
function F.consistent(base)
  local s = task.stats()
  for _, k in ipairs { "tasks", "ready", "suspended", "timers" } do
    if type(s[k]) ~= "number" or s[k] ~= base[k] then
      return false, ("stats().%s is %s, expected %s"):format(k, tostring(s[k]), tostring(base[k]))
    end
  end
  if s.ready > s.tasks or s.suspended > s.tasks then
    return false, "stats() counts more ready or suspended tasks than live ones"
  end
  return true
end

-- }==================================================================== --

return F
