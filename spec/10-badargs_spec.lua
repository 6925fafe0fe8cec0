-- §7 "every public function checks its arguments" (bad argument #N to 'NAME'), and
-- §2 "task-only operations called elsewhere raise a clear error and never yield into
-- the wrong coroutine".
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local manual = H.with_manual_clock
local bad = H.assert_bad_arg

local function noop() end

describe("§7 bad arguments to functions callable from anywhere", function()
  after_each(H.reset)

  it("fork", function()
    bad(1, "fork", task.fork, nil)
    bad(1, "fork", task.fork, 42)
    bad(1, "fork", task.fork, "not a function")
  end)

  it("fork with a bad argument schedules nothing", function()
    local s0 = task.stats()
    pcall(task.fork, 42)
    task.run(function()
      pcall(task.fork, 42)
    end)
    assert.equal(s0.tasks, task.stats().tasks)
  end)

  it("spawn and main", function()
    bad(1, "spawn", task.spawn, 42)
    bad(1, "main", task.main, nil)
    bad(1, "main", task.main, {})
  end)

  it("resume", function()
    bad(1, "resume", task.resume, nil)
    bad(1, "resume", task.resume, "fork")
    bad(1, "resume", task.resume, {})
  end)

  it("abort: not a fork, or a nil error", function()
    local f = H.track(task.fork(noop))
    bad(1, "abort", task.abort, 42, "e")
    bad(1, "abort", task.abort, nil, "e")
    bad(2, "abort", task.abort, f)
    bad(2, "abort", task.abort, f, nil)
    assert.equal("idle", f.status) -- nothing happened to it
  end)

  it("abort as a method does not count self: f:abort()", function()
    local f = H.track(task.fork(noop))
    bad(1, "abort", function()
      f:abort()
    end)
    bad(1, "abort", function()
      f:abort(nil)
    end)
    assert.equal("idle", f.status)
  end)

  it("exit and terminate", function()
    bad(1, "exit", task.exit, 42)
    bad(1, "exit", task.exit, nil, "v")
    bad(1, "terminate", task.terminate, "x")
    bad(1, "terminate", task.terminate, nil)
  end)

  it("run", function()
    bad(1, "run", task.run, nil)
    bad(1, "run", task.run, 42)
  end)

  it("set_clock", function()
    bad(1, "set_clock", task.set_clock, "sundial")
    bad(1, "set_clock", task.set_clock, nil)
    bad(1, "set_clock", task.set_clock, 42)
  end)

  it("advance", manual(function()
    bad(1, "advance", task.advance, "x")
    bad(1, "advance", task.advance, nil)
    assert.equal(0, task.now())
  end))

  it("defer", function()
    bad(1, "defer", task.defer, nil)
    bad(1, "defer", task.defer, 42)
  end)

  it("on_error", function()
    bad(1, "on_error", task.on_error, 42)
    bad(1, "on_error", task.on_error, "handler")
  end)

  it("map", function()
    bad(1, "map", task.map, 42, noop)
    bad(2, "map", task.map, noop, 42)
    bad(2, "map", task.map, noop, nil)
  end)

  it("the Fork methods start, await, then_, join, exit, resume", function()
    local f = H.track(task.fork(noop))
    local start, await, then_ = f.start, f.await, f.then_
    bad(1, "start", start, 42)
    bad(1, "await", await, "x")
    bad(1, "then_", function()
      f:then_(42)
    end)
    bad(2, "then_", function()
      f:then_(noop, 42)
    end)
    assert.equal("idle", f.status)
    local exit, resume = f.exit, f.resume
    bad(1, "exit", exit, 42)
    bad(1, "resume", resume, 42)
    task.run(function()
      local join = f.join
      bad(1, "join", join, 42)
    end)
  end)

  it("the Deferred methods resolve and reject, on something that is not a Deferred", function()
    local d = task.deferred()
    local resolve, reject = d.resolve, d.reject
    bad(1, "resolve", resolve, 42)
    bad(1, "reject", reject, {}, "e")
  end)

  it("names the public function also when it is called through another name", function()
    local function check(n, name, call)
      bad(n, name, call)
    end
    local nap, go = task.sleep, task.fork
    check(1, "fork", function()
      go(42)
    end)
    task.run(function()
      check(1, "sleep", function()
        nap("x")
      end)
    end)
  end)
end)

describe("§7 bad arguments to operations inside a task", function()
  after_each(H.reset)

  it("sleep: not a number, negative, NaN", function()
    task.run(function()
      local err = bad(1, "sleep", task.sleep, "x")
      assert.truthy(err:find("bad argument #1 to 'sleep' (number expected, got string)", 1, true), err)
      bad(1, "sleep", task.sleep, {})
      bad(1, "sleep", task.sleep, -1)
      bad(1, "sleep", task.sleep, 0 / 0)
      bad(1, "sleep", function()
        task.sleep(-0.5)
      end)
    end)
  end)

  it("send(nil) and send() are refused", function()
    local msgs, ok, err = task.run(function()
      return H.collect(function()
        bad(1, "send", task.send, nil)
        bad(1, "send", task.send)
        bad(1, "send", function()
          task.send(nil)
        end)
      end)
    end)
    assert.is_true(ok, tostring(err))
    assert.same({}, msgs)
  end)

  it("join, group, all", function()
    task.run(function()
      bad(1, "join", task.join, 42)
      bad(1, "join", task.join, nil)
      bad(1, "group", task.group, 42)
      bad(1, "group", task.group, nil)
      bad(1, "all", task.all, 42)
      bad(1, "all", task.all, nil)
    end)
  end)

  it("the task keeps running after a bad-argument error", function()
    local v = task.run(function()
      pcall(task.sleep, "x")
      pcall(task.send, nil)
      task.sleep(1)
      return "alive"
    end)
    assert.equal("alive", v)
  end)
end)

-- Valid arguments for each task-only operation, so that only the "where" is wrong.
local function task_only_calls(fork_to_join)
  return {
    { "current", function()
      return task.current()
    end },
    { "suspend", function()
      return task.suspend()
    end },
    { "sleep", function()
      return task.sleep(1)
    end },
    { "wait", function()
      return task.wait(1)
    end },
    { "send", function()
      return task.send("m")
    end },
    { "join", function()
      return task.join(fork_to_join)
    end },
    { "group", function()
      return task.group({ fork_to_join })
    end },
    { "all", function()
      return task.all({ noop })
    end },
  }
end

describe("§2 current, suspend, sleep, wait, send, join, group and all outside a task", function()
  after_each(H.reset)

  it("raise 'actress: <name> must be called from inside a task' from top-level code", function()
    local f = H.track(task.fork(function()
      return 1
    end))
    for _, c in ipairs(task_only_calls(f)) do
      H.assert_task_only(c[1], c[2])
    end
    H.assert_task_only("group", task.group, {})
    H.assert_task_only("all", task.all, {})
    H.assert_task_only("wait", task.wait)
    assert.equal("idle", f.status) -- join outside a task did not start it
  end)

  it("raise from a coroutine that the task body created, and never yield into it", function()
    local r = task.run(function()
      local target = task.fork(function()
        return 1
      end)
      local results = {}
      for _, c in ipairs(task_only_calls(target)) do
        local co = coroutine.create(c[2])
        local ok, err = coroutine.resume(co)
        results[#results + 1] = { name = c[1], ok = ok, err = err, status = coroutine.status(co) }
      end
      -- the same through coroutine.wrap, at depth
      local wrapped = { pcall(coroutine.wrap(function()
        local function deeper()
          task.sleep(1)
        end
        deeper()
      end)) }
      task.sleep(1) -- the task itself still works
      return { results = results, wrapped = wrapped, alive = "alive" }
    end)
    assert.equal(8, #r.results)
    for _, res in ipairs(r.results) do
      assert.is_false(res.ok, res.name .. " yielded or returned inside the nested coroutine")
      assert.equal("dead", res.status, res.name)
      assert.truthy(tostring(res.err):find("actress: " .. res.name .. " must be called from inside a task", 1, true),
        tostring(res.err))
    end
    assert.is_false(r.wrapped[1])
    assert.truthy(tostring(r.wrapped[2]):find("actress: sleep must be called from inside a task", 1, true),
      tostring(r.wrapped[2]))
    assert.equal("alive", r.alive)
  end)
end)
