-- §4 the Fork handle: methods (join, abort, exit, resume, start, await, then_) and
-- fields (id, name, status, result), and tostring.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local manual = H.with_manual_clock
local pack = table.pack

describe("§4 f:join(), f:abort(err), f:exit(...), f:resume() as methods", function()
  after_each(H.reset)

  it("f:join() returns the fork's values", function()
    local r = pack(task.run(function()
      local f = task.fork(function()
        task.wait()
        return "a", "b"
      end)
      return f:join()
    end))
    assert.same({ n = 2, "a", "b" }, r)
  end)

  it("f:abort(err) raises err in the fork", function()
    local E = H.E()
    local caught
    local f = task.fork(function()
      local _, err = pcall(task.suspend)
      caught = err
      return "after abort"
    end)
    f:start()
    task.drain()
    f:abort(E)
    assert.equal(E, caught)
    assert.same({ ok = true, value = "after abort" }, f.result)
  end)

  it("f:exit(...) finishes the fork with the values", function()
    local r = pack(task.run(function()
      local f = task.fork(function()
        task.suspend()
      end)
      task.wait()
      f:exit(1, 2)
      return f:join()
    end))
    assert.same({ n = 2, 1, 2 }, r)
  end)

  it("f:resume() wakes a suspended fork", function()
    local f = task.fork(function()
      task.suspend()
      return "woken"
    end)
    f:start()
    task.drain()
    assert.equal("active", f.status)
    f:resume()
    task.drain()
    assert.same({ ok = true, value = "woken" }, f.result)
  end)
end)

describe("§4 f:start()", function()
  after_each(H.reset)

  it("starts an idle fork from outside a task and returns f", function()
    local ran = 0
    local f = task.fork(function()
      ran = ran + 1
    end)
    assert.equal("idle", f.status)
    local r = f:start()
    assert.is_true(rawequal(f, r))
    assert.are_not.equal("idle", f.status)
    task.drain()
    assert.equal(1, ran)
    assert.equal("finished", f.status)
  end)

  it("starts an idle fork from inside a task", function()
    local ran = false
    local f = task.fork(function()
      ran = true
      return "started"
    end)
    local same, status = task.run(function()
      local r = f:start()
      for _ = 1, 10 do
        if f.status == "finished" then
          break
        end
        task.wait()
      end
      return rawequal(r, f), f.status
    end)
    assert.is_true(same)
    assert.equal("finished", status)
    assert.is_true(ran)
  end)

  it("runs the body once when started twice", function()
    local ran = 0
    local f = task.fork(function()
      ran = ran + 1
      task.wait()
    end)
    f:start()
    assert.is_true(rawequal(f, f:start()))
    task.drain()
    assert.equal(1, ran)
  end)

  it("changes nothing on a fork that is already active or finished", function()
    local ran = 0
    local f = task.run(function()
      local f = task.fork(function()
        ran = ran + 1
      end)
      f:start()
      task.wait()
      f:start()
      task.wait()
      return f
    end)
    f:start()
    task.drain()
    assert.equal(1, ran)
    assert.equal("finished", f.status)
  end)
end)

describe("§4 f:await()", function()
  after_each(H.reset)

  it("starts an idle fork, drives the loop until it finishes and returns all its values", manual(function()
    local f = task.fork(function(a)
      task.sleep(10)
      return a, nil, "z"
    end, "a")
    local r = pack(f:await())
    assert.same({ n = 3, "a", nil, "z" }, r)
    assert.equal(10, task.now())
    assert.equal("finished", f.status)
  end))

  it("raises the fork's error, the very value", function()
    local E = H.E()
    local f = task.fork(function()
      task.wait()
      error(E)
    end)
    local ok, err = pcall(f.await, f)
    assert.is_false(ok)
    assert.equal(E, err)
  end)

  it("returns the values of a fork that has already finished", function()
    local f = task.fork(function()
      return 1, 2
    end)
    f:await()
    assert.same({ n = 2, 1, 2 }, pack(f:await()))
  end)

  it("waits for a fork that was started elsewhere", manual(function()
    local f
    task.main(function()
      f = task.fork(function()
        task.sleep(20)
        return "late"
      end)
    end)
    assert.equal("late", f:await())
    assert.equal(20, task.now())
  end))
end)

describe("§4 f:then_(on_ok, on_err)", function()
  after_each(H.reset)

  it("starts an idle fork and calls on_ok with all its values once it finishes", function()
    local calls = {}
    local f = task.fork(function()
      task.wait()
      return 1, nil, 3
    end)
    f:then_(function(...)
      calls[#calls + 1] = pack(...)
    end, function()
      calls[#calls + 1] = "on_err"
    end)
    assert.are_not.equal("idle", f.status)
    task.drain()
    assert.same({ { n = 3, 1, nil, 3 } }, calls)
  end)

  it("calls on_err with the very error once the fork fails", function()
    local E = H.E()
    local got = {}
    local f = task.fork(function()
      task.wait()
      error(E)
    end)
    f:then_(function()
      got[#got + 1] = "on_ok"
    end, function(err)
      got[#got + 1] = err
    end)
    task.drain()
    assert.equal(1, #got)
    assert.equal(E, got[1])
  end)

  it("never calls back synchronously inside then_, even for a finished fork", function()
    local f = task.fork(function()
      return "v"
    end)
    f:await()
    local got
    f:then_(function(v)
      got = v
    end)
    assert.is_nil(got)
    task.drain()
    assert.equal("v", got)
  end)

  it("called inside a task, calls back later from the scheduler, not from the calling task", function()
    local log, say = H.recorder()
    local on_caller
    task.run(function()
      local me = task.current()
      local g = task.fork(function()
        return "g"
      end)
      task.join(g)
      g:then_(function(v)
        say("callback " .. v)
        local ok, cur = pcall(task.current)
        on_caller = ok and rawequal(cur, me)
      end)
      say("then_ returned")
      for _ = 1, 3 do
        task.wait()
      end
    end)
    task.drain()
    assert.same({ "then_ returned", "callback g" }, log)
    assert.is_false(on_caller)
  end)

  it("calls back outside any task, as a promise callback: task operations refuse there", function()
    local f = task.fork(function()
      return "v"
    end)
    local current_err, suspend_err, idle_status
    f:then_(function()
      current_err = select(2, pcall(task.current))
      suspend_err = select(2, pcall(task.suspend))
      idle_status = task.fork(function() end).status  -- outside a task: idle
    end)
    task.drain()
    assert.matches("current must be called from inside a task", current_err)
    assert.matches("suspend must be called from inside a task", suspend_err)
    assert.equal("idle", idle_status)
  end)

  it("reports a callback's error with the fork whose callback it is", function()
    local E = H.E()
    local got = {}
    task.on_error(function(err, fork)
      got[#got + 1] = { err, fork }
    end)
    local f = task.fork(function()
      return 1
    end)
    f:then_(function()
      error(E)
    end)
    task.drain()
    assert.equal(1, #got)
    assert.equal(E, got[1][1])
    assert.equal(f, got[1][2])
  end)

  it("sends an error raised by a callback to the error handler; other tasks keep running", function()
    local E = H.E()
    local reported = {}
    task.on_error(function(err)
      reported[#reported + 1] = err
    end)
    local f = task.fork(function()
      return 1
    end)
    f:then_(function()
      error(E)
    end)
    local done = false
    task.main(function()
      task.wait()
      task.wait()
      done = true
    end)
    task.drain()
    assert.equal(1, #reported)
    assert.equal(E, reported[1])
    assert.is_true(done)
  end)
  -- makes a Fork awaitable by task.wait: 02-ops_spec.lua "§2 task.wait(v)"
end)

describe("§4 f.id", function()
  after_each(H.reset)

  it("is a positive integer, unique per runtime", function()
    local seen = {}
    local forks = {}
    for i = 1, 100 do
      forks[i] = task.fork(function() end) -- idle
    end
    task.run(function()
      for i = 101, 200 do
        forks[i] = task.fork(function() end)
      end
      forks[201] = task.current()
    end)
    for i, f in ipairs(forks) do
      local id = f.id
      assert.equal("integer", math.type(id), "fork " .. i)
      assert.is_true(id > 0)
      assert.is_nil(seen[id], "duplicate id " .. tostring(id))
      seen[id] = true
      H.track(f)
    end
  end)

  it("does not change over a fork's life", function()
    local f = task.fork(function()
      task.wait()
    end)
    local id = f.id
    f:start()
    assert.equal(id, f.id)
    task.drain()
    assert.equal(id, f.id)
  end)
end)

describe("§4 f.name", function()
  after_each(H.reset)

  it("is \"\" by default and writable; the task sees its name", function()
    local seen
    local f = task.fork(function()
      seen = task.current().name
    end)
    assert.equal("", f.name)
    f.name = "worker-7"
    assert.equal("worker-7", f.name)
    f:await()
    assert.equal("worker-7", seen)
    assert.equal("worker-7", f.name)
  end)

  it("can be set by the task itself", function()
    local f = task.fork(function()
      task.current().name = "self-named"
    end)
    f:await()
    assert.equal("self-named", f.name)
  end)
end)

describe("§4 f.status", function()
  after_each(H.reset)

  it("goes idle -> active -> finished", function()
    local inside
    local f = task.fork(function()
      inside = task.current().status
      task.suspend()
    end)
    assert.equal("idle", f.status)
    f:start()
    assert.equal("active", f.status)
    task.drain()
    assert.equal("active", inside)
    assert.equal("active", f.status) -- suspended
    f:resume()
    task.drain()
    assert.equal("finished", f.status)
  end)

  it("is active for a fork scheduled by a task that has not run yet, and finished after a failure", function()
    H.quiet()
    local s1, s2 = task.run(function()
      local f = task.fork(function()
        error("x")
      end)
      local s1 = f.status
      task.wait()
      return s1, f.status
    end)
    assert.equal("active", s1)
    assert.equal("finished", s2)
  end)
end)

describe("§4 f.result", function()
  after_each(H.reset)

  it("is nil until the fork finishes", function()
    local f = task.fork(function()
      task.suspend()
      return 1
    end)
    assert.is_nil(f.result)
    f:start()
    task.drain()
    assert.is_nil(f.result)
    f:resume()
    task.drain()
    assert.is_not_nil(f.result)
  end)

  it("is { ok = true, value = <first value> } on success, with no other keys", function()
    local f = task.fork(function()
      return "first", "second"
    end)
    f:await()
    assert.same({ ok = true, value = "first" }, f.result)
    assert.same({ "ok", "value" }, H.keys(f.result))
  end)

  it("is { ok = true } when the fork returned nothing", function()
    local f = task.fork(function() end)
    f:await()
    assert.same({ ok = true }, f.result)
    assert.is_true(f.result.ok)
    assert.is_nil(f.result.value)
  end)

  it("is { ok = false, error = e } with the very error on failure, with no other keys", function()
    local E = H.E()
    local f = task.fork(function()
      error(E)
    end)
    pcall(f.await, f)
    assert.is_false(f.result.ok)
    assert.equal(E, f.result.error)
    assert.same({ "error", "ok" }, H.keys(f.result))
  end)
end)

describe("§4 tostring(f)", function()
  after_each(H.reset)

  it("starts with Fork and shows id, name and status", function()
    local f = task.fork(function()
      return 1
    end)
    f.name = "tostring-probe"
    local s = tostring(f)
    assert.matches("^Fork", s)
    assert.truthy(s:find("%f[%d]" .. f.id .. "%f[%D]"), s)
    assert.truthy(s:find("tostring-probe", 1, true), s)
    assert.truthy(s:find("idle", 1, true), s)
    f:await()
    s = tostring(f)
    assert.matches("^Fork", s)
    assert.truthy(s:find("finished", 1, true), s)
  end)
end)
