-- §7 errors and diagnostics: on_error and failing spawned / top-level tasks (with the
-- §2 spawn row), f.traceback, raw coroutine.yield, task.stats. Bad arguments: 10.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local manual = H.with_manual_clock

describe("§7 task.on_error(fn)", function()
  after_each(H.reset)

  it("returns the previous handler; the default is a function; on_error(nil) restores it", function()
    local h1 = function() end
    local h2 = function() end
    local default = task.on_error(h1)
    assert.is_function(default)
    assert.equal(h1, task.on_error(h2))
    assert.equal(h2, task.on_error(nil))
    assert.equal(default, task.on_error(h1))
    assert.equal(h1, task.on_error(nil))
  end)

  it("receives (err, fork) for a failing spawned task; every other task keeps running", manual(function()
    local E = H.E()
    local reports = {}
    task.on_error(function(err, fork)
      reports[#reports + 1] = { err = err, fork = fork }
    end)
    local child, sibling_done
    local v = task.run(function()
      task.spawn(function()
        child = task.current()
        task.sleep(5)
        error(E)
      end)
      local sibling = task.fork(function()
        task.sleep(10)
        sibling_done = true
      end)
      task.join(sibling)
      return "main ok"
    end)
    assert.equal("main ok", v)
    assert.is_true(sibling_done)
    assert.equal(1, #reports)
    assert.equal(E, reports[1].err)
    assert.is_true(rawequal(child, reports[1].fork))
    assert.equal(E, child.result.error)
  end))

  it("receives (err, fork) for a failing top-level task (task.main); every other task keeps running", manual(function()
    local E = H.E()
    local reports = {}
    task.on_error(function(err, fork)
      reports[#reports + 1] = { err = err, fork = fork }
    end)
    local top, other_done
    task.main(function()
      top = task.current()
      task.sleep(5)
      error(E)
    end)
    task.main(function()
      task.sleep(10)
      other_done = true
    end)
    task.drain()
    assert.is_true(other_done)
    assert.equal(1, #reports)
    assert.equal(E, reports[1].err)
    assert.is_true(rawequal(top, reports[1].fork))
  end))

  it("gets the failure of a top-level task that fails before its first suspension; main does not raise", function()
    local E = H.E()
    local reports = {}
    task.on_error(function(err)
      reports[#reports + 1] = err
    end)
    local ok = pcall(task.main, function()
      error(E)
    end)
    assert.is_true(ok)
    task.drain()
    assert.equal(1, #reports)
    assert.equal(E, reports[1])
  end)

  it("is not called for an error delivered to a caller (task.run, join)", function()
    local reports = 0
    task.on_error(function()
      reports = reports + 1
    end)
    pcall(task.run, function()
      error("to run's caller")
    end)
    task.run(function()
      local f = task.fork(function()
        error("to the joiner")
      end)
      pcall(task.join, f)
    end)
    task.drain()
    assert.equal(0, reports)
  end)

  it("by default writes one line with the fork's id, name and error, plus a traceback, to stderr", function()
    local out, err = H.run_lua([[
      local task = require "actress"
      task.spawn(function()
        local f = task.current()
        f.name = "sub-named-worker"
        io.stdout:write("ID=", f.id, "\n")
        io.stdout:flush()
        task.wait()
        error("sub-failure-xyz")
      end)
      task.drain()
      io.stdout:write("END\n")
    ]])
    local id = out:match("ID=(%d+)")
    assert.is_not_nil(id, "child output: " .. out .. err)
    assert.matches("END", out)
    local line
    for l in err:gmatch("[^\n]+") do
      if l:find("sub-failure-xyz", 1, true) then
        line = l
        break
      end
    end
    assert.is_not_nil(line, "stderr: " .. err)
    assert.truthy(line:find("sub-named-worker", 1, true), line)
    assert.truthy(line:find("%f[%d]" .. id .. "%f[%D]"), line)
    assert.truthy(err:find("traceback", 1, true), err)
  end)

  it("reports an error inside the handler the default way and never stops the scheduler", function()
    local out, err = H.run_lua([[
      local task = require "actress"
      task.on_error(function() error("handler-broke-abc") end)
      task.spawn(function() task.wait(); error("task-failed") end)
      task.spawn(function()
        task.wait(); task.wait(); task.wait()
        io.stdout:write("SIBLING\n")
      end)
      task.drain()
      io.stdout:write("END\n")
    ]])
    assert.matches("SIBLING", out, nil, true)
    assert.matches("END", out, nil, true)
    assert.truthy(err:find("handler-broke-abc", 1, true), err)
  end)
end)

describe("§7 f.traceback", function()
  after_each(H.reset)

  it("keeps the traceback of where a failed fork's error was raised", function()
    local function deep_failure()
      error(H.E("tb"))
    end
    local f = task.fork(function()
      local x = deep_failure()
      return x
    end)
    pcall(f.await, f)
    assert.is_string(f.traceback)
    assert.matches("deep_failure", f.traceback)
    assert.matches("07%-errors_spec%.lua", f.traceback)
  end)

  it("is kept for the task of task.run too", function()
    local f
    local function raise_here()
      error("tb-string")
    end
    pcall(task.run, function()
      f = task.current()
      local r = raise_here()
      return r
    end)
    assert.is_string(f.traceback)
    assert.matches("raise_here", f.traceback)
  end)
end)

describe("§7 a raw coroutine.yield from a task body", function()
  after_each(H.reset)

  it("coroutine.yield(v) sends v as a message (the first value only), in order with task.send", function()
    local msgs, ok, v = task.run(function()
      return H.collect(function()
        coroutine.yield("a", "ignored")
        coroutine.yield({ k = 1 })
        task.send("c")
        return "r"
      end)
    end)
    assert.is_true(ok)
    assert.equal("r", v)
    assert.equal(3, #msgs)
    assert.equal("a", msgs[1])
    assert.same({ k = 1 }, msgs[2])
    assert.equal("c", msgs[3])
  end)

  it("coroutine.yield() is task.wait(): queued tasks run first, and it returns before a 0 ms timer", manual(function()
    local log, say = H.recorder()
    task.run(function()
      local timer = task.fork(function()
        task.sleep(0)
        say("0 ms timer")
      end)
      coroutine.yield()
      task.fork(function()
        say("queued task")
      end)
      say("before yield")
      coroutine.yield()
      say("after yield")
      task.join(timer)
    end)
    assert.same({ "before yield", "queued task", "after yield", "0 ms timer" }, log)
  end))

  it("a fork runs once its caller yields", function()
    local log, say = H.recorder()
    task.run(function()
      task.fork(function()
        say("fork")
      end)
      say("parent")
      coroutine.yield()
      say("parent again")
    end)
    assert.same({ "parent", "fork", "parent again" }, log)
  end)

  it("a yield inside a coroutine the task created stays plain Lua (goes to its resumer, is no message)", function()
    local msgs, ok, got = task.run(function()
      return H.collect(function()
        local co = coroutine.wrap(function()
          coroutine.yield("inner")
          return "inner done"
        end)
        local a = co()
        local b = co()
        return a .. "," .. b
      end)
    end)
    assert.is_true(ok)
    assert.equal("inner,inner done", got)
    assert.same({}, msgs)
  end)
end)

describe("§7 task.stats()", function()
  after_each(H.reset)

  it("returns numbers for tasks, ready, suspended, timers and switches", function()
    local s = task.stats()
    assert.is_table(s)
    for _, k in ipairs { "tasks", "ready", "suspended", "timers", "switches" } do
      assert.is_number(s[k], k)
    end
  end)

  it("tasks counts started, unfinished tasks (idle forks are not counted); suspended counts suspended ones", function()
    local s0 = task.stats()
    local f = H.track(task.fork(function()
      task.suspend()
    end))
    assert.equal(s0.tasks, task.stats().tasks)
    f:start()
    task.drain()
    local s1 = task.stats()
    assert.equal(s0.tasks + 1, s1.tasks)
    assert.equal(s0.suspended + 1, s1.suspended)
    f:resume()
    task.drain()
    local s2 = task.stats()
    assert.equal(s0.tasks, s2.tasks)
    assert.equal(s0.suspended, s2.suspended)
  end)

  it("ready counts queued tasks", function()
    local s0 = task.stats()
    task.main(function()
      task.wait()
    end)
    assert.equal(s0.ready + 1, task.stats().ready)
    task.drain()
    assert.equal(s0.ready, task.stats().ready)
  end)

  it("timers counts pending timers", manual(function()
    local s0 = task.stats()
    task.main(function()
      task.sleep(50)
    end)
    task.main(function()
      task.sleep(60)
    end)
    assert.equal(s0.timers + 2, task.stats().timers)
    task.advance(50)
    assert.equal(s0.timers + 1, task.stats().timers)
    task.advance(10)
    assert.equal(s0.timers, task.stats().timers)
  end))

  it("switches counts task resumes", function()
    local s0 = task.stats()
    task.run(function()
      for _ = 1, 3 do
        task.wait()
      end
    end)
    assert.is_true(task.stats().switches >= s0.switches + 4)
  end)
end)
