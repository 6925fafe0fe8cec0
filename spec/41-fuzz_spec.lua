-- API fuzzing (§7): every function of `require "actress"`, every Fork method
-- and metamethod, the Deferred methods and the core's internal functions
-- (gather, adopt, check_task, callback, luv_status) are called with every
-- combination of argument values (one of each Lua type, 0, -1, 1.5, NaN,
-- +-inf, and Forks that are finished, failed, idle, queued, suspended,
-- waiting in a group, sleeping, or the caller itself), for 0 .. their arity
-- arguments, from six places: plain code, an f:then_ callback, a task body,
-- a coroutine inside a task, a task.map function, and a <close> handler of an
-- exiting task. Each call returns or raises a Lua error whose message, if a
-- string, says "bad argument" (naming the function) or "actress:". After
-- each batch a small program must still run right on the manual clock and
-- stats() must show nothing left over. A child process does the same with
-- Forks of a closed runtime. The engine is spec/fuzz_helpers.lua.
local task = require "actress"
local F = require "spec.fuzz_helpers"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local pack = table.pack

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec"

-- Runs `lua5.4 spec/<script> args...` in a child under `timeout`; returns
-- its output (stdout and stderr) and how it ended ("exit" or "signal", and
-- the code).
local function run_child(seconds, script, ...)
  local out, _, code, how = H.run_lua_file(here .. "/" .. script, { args = { ... }, timeout = seconds, merge = true })
  return out, how, code
end

-- The places beyond "plain" and "task" make every call with at most two
-- arguments (the third argument of the three-argument functions changes
-- nothing there), which keeps the whole file to a few seconds.
local EXTRA_ARITY = 2

local function report(st)
  return ("%d problem(s), the first ones:\n  %s"):format(#st.problems, table.concat(st.problems, "\n  "))
end

describe("API fuzzing", function()
  local base
  local reports = 0
  local function handler() reports = reports + 1 end
  local total = 0
  local gc_mode

  setup(function()
    -- Incremental GC: in busted's big heap, the generational mode that the
    -- lua5.4 interpreter selects makes this file twice as slow.
    gc_mode = collectgarbage("incremental")
    task.set_clock("manual")
    task.on_error(handler)
    F.setup_shared()
    task.drain()
    base = task.stats()
  end)

  teardown(function()
    task.on_error(nil)
    pcall(task.drain)
    task.set_clock("system")
    collectgarbage(gc_mode)
    if os.getenv("ACTRESS_FUZZ_VERBOSE") then
      io.stderr:write(("41-fuzz: %d calls in this process\n"):format(total))
    end
  end)

  local entries, unknown = F.entries()

  it("knows every function of the module and every Fork method", function()
    assert.same({}, unknown)
  end)

  local function after_batch(st)
    total = total + st.calls
    assert(#st.problems == 0, report(st))
    assert(st.calls > 0, "no call was made")
    local ok, why = F.sanity()
    assert(ok, "after the batch: " .. tostring(why))
    ok, why = F.consistent(base)
    assert(ok, "after the batch: " .. tostring(why))
  end

  for _, e in ipairs(entries) do
    it(e.label .. " outside tasks (plain code, an f:then_ callback): works or raises a clear error", function()
      local st = F.new_state(handler)
      F.fuzz_outside(st, e, "plain")
      F.fuzz_outside(st, e, "callback", EXTRA_ARITY)
      after_batch(st)
    end)

    it(e.label .. " inside tasks (a body, a coroutine, a map function, a <close> handler): "
      .. "works, waits or raises a clear error", function()
      local st = F.new_state(handler)
      F.fuzz_inside(st, e, "task")
      for _, mode in ipairs { "coroutine", "transform", "closing" } do
        F.fuzz_inside(st, e, mode, EXTRA_ARITY)
      end
      after_batch(st)
    end)
  end

  it("Forks of a closed runtime (core.close() in a child process): every call works or raises a clear error",
    function()
      local out, err, code = H.run_lua(("arg = { [0] = %q, %q }\ndofile(%q)\n")
        :format(here .. "/fuzz_closed_child.lua", here, here .. "/fuzz_closed_child.lua"))
      assert.equal(0, code, "the child failed:\n" .. out .. err)
      local n = out:match("^OK (%d+)")
      assert(n, "the child did not say OK:\n" .. out .. err)
      total = total + tonumber(n)
    end)

  describe("the harness itself", function()
    it("notices an unclear error, a wrong function name, a call that waits and a yield into the caller's coroutine",
      function()
        local cases = {
          { { label = "boom", fn = function() error("boom") end, arity = 0 }, "plain" },
          { { label = "name", fn = function() error("bad argument #1 to 'x'") end, arity = 0, name = "y" }, "task" },
          { { label = "stuck", fn = task.suspend, arity = 0 }, "task" },
          { { label = "yield", fn = coroutine.yield, arity = 0 }, "coroutine" },
        }
        for _, c in ipairs(cases) do
          local st = F.new_state(handler)
          if c[2] == "plain" then F.fuzz_outside(st, c[1], c[2]) else F.fuzz_inside(st, c[1], c[2]) end
          assert.equal(1, #st.problems, c[1].label)
        end
        assert(F.consistent(base))
      end)
  end)
end)

describe("random sequences of operations", function()
  -- spec/fuzz_sequence_child.lua: one child per seed, so that a crash or a
  -- hang (timeout's exit status 124) fails this spec, not the whole run.
  -- What they found: spec/regress/join-cycle-send-hangs_spec.lua.
  it("40 seeds x 3,000 random operations from tasks, callbacks, map functions and <close> handlers: "
    .. "no crash, no hang, nothing left ready or timed, and the scheduler still works", function()
    local failed = {}
    for seed = 1, 40 do
      local out, how, code = run_child(5, "fuzz_sequence_child.lua", here, seed, 3000)
      if code ~= 0 or not out:find("^OK ") then
        local why = how == "signal" and ("killed by signal " .. code)
          or code == 124 and "hung (killed by timeout after 5 s)" or ("exit status " .. tostring(code))
        failed[#failed + 1] = ("seed %d: %s: %s"):format(seed, why, out:sub(1, 300))
      end
    end
    assert(#failed == 0, #failed .. " seed(s) failed (reproduce with lua5.4 spec/fuzz_sequence_child.lua spec SEED 3000):\n"
      .. table.concat(failed, "\n"))
  end)
end)

-- Corners that the combinations above do not reach (bench/coverage showed
-- them never run).
describe("corners", function()
  setup(function()
    task.set_clock("manual")
  end)
  teardown(function()
    task.on_error(nil)
    task.drain()
    task.set_clock("system")
  end)

  it("fork, spawn, main and run keep at most 250 arguments for a task, and say so beyond", function()
    local args = {}
    for i = 1, 251 do args[i] = i end
    local function sum(...)
      local s = 0
      for i = 1, select("#", ...) do s = s + select(i, ...) end
      return s
    end
    assert.equal(250 * 251 // 2, task.run(sum, table.unpack(args, 1, 250)))
    for _, name in ipairs { "fork", "spawn", "main", "run" } do
      local ok, err = pcall(task[name], sum, table.unpack(args, 1, 251))
      assert.is_false(ok, name)
      assert.matches("actress: too many arguments for a task (at most 250)", err, 1, true)
    end
    task.run(function()
      local ok, err = pcall(task.fork, sum, table.unpack(args, 1, 251))
      assert(not ok and err:find("too many arguments", 1, true))
    end)
    assert.equal(0, task.stats().ready)
  end)

  it("wait(v) whose then_ raises: the error comes out of wait, and the task goes on", function()
    local E = {}
    local r = pack(task.run(function()
      local ok, err = pcall(task.wait, { then_ = function() error(E) end })
      local later = task.wait(task.fork(function() task.sleep(1) return "later" end))
      return ok, rawequal(err, E), later
    end))
    assert.same({ n = 3, false, true, "later" }, r)
    local s = task.stats()
    assert.equal(0, s.ready)
  end)

  it("an error handler that fails with an error that cannot be printed is reported, and the scheduler goes on",
    function()
      local out, err, code = H.run_lua([[
        local task = require "actress"
        task.on_error(function()
          error(setmetatable({}, { __tostring = function() error("no text") end }))
        end)
        task.main(function() error("boom") end)
        task.on_error(nil)
        print(task.run(function() return "alive" end))
      ]])
      assert.equal(0, code)
      assert.equal("alive\n", out)
      assert.matches("actress: the error handler failed", err, 1, true)
    end)
end)

describe("random timers", function()
  setup(function()
    task.set_clock("manual")
  end)
  teardown(function()
    task.drain()
    task.set_clock("system")
  end)

  -- Aborting sleepers takes their timers out of the middle of the heap,
  -- where the last timer moved into the hole may have to go up or down.
  it("aborting random sleepers keeps the others waking in deadline order, ties in start order", function()
    local wrong = {}
    for seed = 1, 300 do
      math.randomseed(seed)
      local n = math.random(2, 60)
      local woke, forks, due, aborted = {}, {}, {}, {}
      task.run(function()
        for i = 1, n do
          local ms = math.random(0, 30)
          due[i] = task.now() + ms
          forks[i] = task.fork(function()
            task.sleep(ms)
            woke[#woke + 1] = i
          end)
        end
        task.wait()  -- every sleeper has its timer
        for _ = 1, math.random(0, n) do
          local k = math.random(1, n)
          if forks[k].status ~= "finished" then
            task.abort(forks[k], "x")
            aborted[k] = true
          end
          if math.random() < 0.2 then task.sleep(math.random(0, 3)) end
        end
        for _, f in ipairs(forks) do pcall(task.join, f) end
      end)
      local expected = {}
      for i = 1, n do
        if not aborted[i] then expected[#expected + 1] = i end
      end
      table.sort(expected, function(a, b)
        if due[a] ~= due[b] then return due[a] < due[b] end
        return a < b
      end)
      if table.concat(expected, ",") ~= table.concat(woke, ",") then
        wrong[#wrong + 1] = ("seed %d: expected %s, woke %s"):format(seed, table.concat(expected, ","),
          table.concat(woke, ","))
      end
    end
    assert(#wrong == 0, table.concat(wrong, "\n"))
    assert.equal(0, task.stats().timers)
  end)
end)
