-- §2 task.abort, task.exit, task.terminate; abort/exit of the running task or up the
-- resume chain; passing an abort on from join/group/all; errors unwinding inside the
-- task's own coroutine.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local manual = H.with_manual_clock
local pack = table.pack

-- Suspension points a task can be aborted at. Each is a function run inside the victim.
local points = {
  { "suspend()", function()
    task.suspend()
  end },
  { "sleep(1000)", function()
    task.sleep(1000)
  end },
  { "sleep(math.huge)", function()
    task.sleep(math.huge)
  end },
  { "wait() (queued)", function()
    while true do
      task.wait()
    end
  end },
  { "wait(deferred)", function()
    task.wait(task.deferred())
  end },
  { "wait(fork)", function()
    -- wait does not pass an abort on: the waited fork stays suspended (reset aborts it)
    task.wait(H.track(task.fork(function()
      task.suspend()
    end)))
  end },
  { "join", function()
    task.join(task.fork(function()
      task.suspend()
    end))
  end },
  { "group", function()
    task.group({ task.fork(function()
      task.suspend()
    end) })
  end },
  { "all", function()
    task.all({ function()
      task.suspend()
    end })
  end },
}

describe("§2 task.abort(f, err)", function()
  after_each(H.reset)

  for _, point in ipairs(points) do
    local name, at_point = point[1], point[2]

    it("raises err in a task waiting in " .. name .. " at once, before abort returns (from a task)",
      manual(function()
        local E = H.E()
        local log, say = H.recorder()
        local caught, victim, result_after
        task.run(function()
          victim = task.fork(function()
            local ok, err = pcall(at_point)
            caught = not ok and err
            say("caught")
            return "recovered"
          end)
          H.turns(3)
          task.abort(victim, E)
          say("abort returned")
          result_after = victim.result
        end)
        assert.same({ "caught", "abort returned" }, log)
        assert.equal(E, caught)
        assert.same({ ok = true, value = "recovered" }, result_after)
      end))

    it("raises err in a task waiting in " .. name .. " at once, before abort returns (from outside)",
      manual(function()
        local E = H.E()
        local log, say = H.recorder()
        local caught, victim
        task.main(function()
          victim = task.current()
          local ok, err = pcall(at_point)
          caught = not ok and err
          say("caught")
          return "recovered"
        end)
        task.abort(victim, E)
        say("abort returned")
        assert.same({ "caught", "abort returned" }, log)
        assert.equal(E, caught)
        assert.equal("finished", victim.status)
        assert.same({ ok = true, value = "recovered" }, victim.result)
      end))
  end

  it("raises err in a task that was resumed but has not run yet", function()
    local E = H.E()
    local caught, victim
    task.main(function()
      victim = task.current()
      local ok, err = pcall(task.suspend)
      caught = not ok and err
    end)
    task.resume(victim)
    task.abort(victim, E)
    assert.equal(E, caught)
    assert.equal("finished", victim.status)
  end)

  it("fails the task with the very error when it does not catch it", function()
    H.quiet()
    local E = H.E()
    local f, reached
    task.main(function()
      f = task.current()
      task.suspend()
      reached = true
    end)
    task.abort(f, E)
    assert.is_nil(reached)
    assert.equal("finished", f.status)
    assert.is_false(f.result.ok)
    assert.equal(E, f.result.error)
  end)

  it("cancels the timer of an aborted sleeper", manual(function()
    H.quiet()
    local t0 = task.stats().timers
    local f
    task.main(function()
      f = task.current()
      task.sleep(100)
    end)
    assert.equal(t0 + 1, task.stats().timers)
    task.abort(f, "stop")
    assert.equal(t0, task.stats().timers)
  end))

  it("lets a task that catches it carry on: it may send, sleep and suspend again; its result is what it returns later",
    manual(function()
      local E = H.E()
      local r = task.run(function()
        local f = task.fork(function()
          local _, err = pcall(task.suspend)
          task.send(rawequal(err, E) and "caught E" or "caught something else")
          task.sleep(10)
          task.send("slept")
          task.suspend()
          task.send("resumed again")
          return "carried on"
        end)
        local j = task.fork(function()
          return H.collect_messages(f)
        end)
        H.turns(3) -- f suspends, j joins f
        task.abort(f, E)
        local status1 = f.status
        task.sleep(20) -- f wakes at 10, sends, suspends again
        local status2 = f.status
        task.resume(f)
        local msgs, ok, v = task.join(j)
        return { status1 = status1, status2 = status2, msgs = msgs, ok = ok, v = v, result = f.result }
      end)
      assert.equal("active", r.status1)
      assert.equal("active", r.status2)
      assert.same({ "caught E", "slept", "resumed again" }, r.msgs)
      assert.is_true(r.ok)
      assert.equal("carried on", r.v)
      assert.same({ ok = true, value = "carried on" }, r.result)
    end))

  it("runs the task's to-be-closed variables as the error unwinds; they may still send and suspend",
    manual(function()
      local E = H.E()
      local r = task.run(function()
        local got
        local f = task.fork(function()
          local _ <close> = task.defer(function(err)
            got = err
            task.send("cleanup start")
            task.sleep(10)
            task.send("cleanup end")
          end)
          task.suspend()
        end)
        local j = task.fork(function()
          return H.collect_messages(f)
        end)
        H.turns(3) -- f suspends, j joins f
        task.abort(f, E)
        local status, got_now = f.status, got
        local msgs, ok, err = task.join(j)
        return { status = status, got = got_now, msgs = msgs, ok = ok, err = err, now = task.now() }
      end)
      assert.equal("active", r.status) -- the cleanup is sleeping
      assert.equal(E, r.got)
      assert.same({ "cleanup start", "cleanup end" }, r.msgs)
      assert.is_false(r.ok)
      assert.equal(E, r.err)
      assert.equal(10, r.now)
    end))

  it("fails a fork that was scheduled but never started, without running its body", function()
    local E = H.E()
    local ran = false
    local r = task.run(function()
      local f = task.fork(function()
        ran = true
      end)
      task.abort(f, E)
      local status = f.status
      H.turns(3)
      local ok, err = pcall(task.join, f)
      return { status = status, result = f.result, ok = ok, err = err }
    end)
    assert.is_false(ran)
    assert.equal("finished", r.status)
    assert.is_false(r.result.ok)
    assert.equal(E, r.result.error)
    assert.is_false(r.ok)
    assert.equal(E, r.err)
  end)

  it("fails an idle fork (created outside a task) without running its body", function()
    local E = H.E()
    local ran = false
    local f = task.fork(function()
      ran = true
    end)
    task.abort(f, E)
    assert.equal("finished", f.status)
    task.drain()
    assert.is_false(ran)
    assert.is_false(f.result.ok)
    assert.equal(E, f.result.error)
    local ok, err = pcall(f.await, f)
    assert.is_false(ok)
    assert.equal(E, err)
    assert.is_false(ran)
  end)

  it("leaves a finished fork alone", function()
    local good = task.fork(function()
      return 1
    end)
    local E1 = H.E("first")
    local bad = task.fork(function()
      error(E1)
    end)
    good:await()
    pcall(bad.await, bad)
    task.abort(good, H.E("late"))
    task.abort(bad, H.E("late"))
    assert.same({ ok = true, value = 1 }, good.result)
    assert.equal(E1, bad.result.error)
  end)

  it("reaches a task stopped in a raw coroutine.yield() as soon as it runs Lua code again", function()
    H.quiet()
    local E = H.E()
    local f
    local reached = false
    task.main(function()
      f = task.current()
      coroutine.yield()
      reached = true
    end)
    assert.equal("active", f.status)
    task.abort(f, E)
    task.drain()
    assert.is_false(reached)
    assert.equal("finished", f.status)
    assert.equal(E, f.result.error)
  end)
end)

describe("§2 task.exit(f, ...)", function()
  after_each(H.reset)

  it("finishes the fork successfully with the given values, at once", function()
    local r = task.run(function()
      local s = task.fork(function()
        task.suspend()
        return "not this"
      end)
      task.wait()
      task.exit(s, 1, nil, 3)
      local status, result = s.status, s.result
      return { status = status, result = result, values = pack(task.join(s)) }
    end)
    assert.equal("finished", r.status)
    assert.same({ ok = true, value = 1 }, r.result)
    assert.equal(3, r.values.n)
    assert.equal(1, r.values[1])
    assert.is_nil(r.values[2])
    assert.equal(3, r.values[3])
  end)

  it("closes the body at once: its to-be-closed variables run, its pcall handlers do not", function()
    local log, say = H.recorder()
    local close_err = "unset"
    local handler_called = false
    local s
    task.main(function()
      s = task.current()
      local ok = pcall(function()
        local _ <close> = task.defer(function(err)
          close_err = err
          say("outer closed")
        end)
        local ok2 = xpcall(function()
          local _ <close> = task.defer(function()
            say("inner closed")
          end)
          task.suspend()
        end, function(e)
          handler_called = true
          return e
        end)
        say("xpcall returned " .. tostring(ok2))
      end)
      say("pcall returned " .. tostring(ok))
    end)
    task.exit(s, "v")
    say("exit returned")
    assert.same({ "inner closed", "outer closed", "exit returned" }, log)
    assert.is_nil(close_err)
    assert.is_false(handler_called)
    assert.equal("finished", s.status)
    assert.same({ ok = true, value = "v" }, s.result)
    task.drain()
    assert.same({ "inner closed", "outer closed", "exit returned" }, log)
  end)

  it("while closing, task.current() is the fork and the fork may send", function()
    local r = task.run(function()
      local cur
      local s = task.fork(function()
        local _ <close> = task.defer(function()
          cur = task.current()
          task.send("closing")
        end)
        task.suspend()
      end)
      local j = task.fork(function()
        return H.collect_messages(s)
      end)
      H.turns(3) -- s suspends, j joins s
      task.exit(s, "v")
      local msgs, ok, v = task.join(j)
      return { same = rawequal(cur, s), msgs = msgs, ok = ok, v = v }
    end)
    assert.is_true(r.same)
    assert.same({ "closing" }, r.msgs)
    assert.is_true(r.ok)
    assert.equal("v", r.v)
  end)

  it("while closing, operations that would suspend raise", manual(function()
    local r = {}
    local s
    task.main(function()
      s = task.current()
      local _ <close> = task.defer(function()
        r.sleep = pcall(task.sleep, 1)
        r.suspend = pcall(task.suspend)
        r.wait = pcall(task.wait)
      end)
      task.suspend()
    end)
    task.exit(s, "v")
    assert.same({ sleep = false, suspend = false, wait = false }, r)
    assert.same({ ok = true, value = "v" }, s.result)
  end))

  it("makes the fork fail with an error raised while closing; the caller of exit is not affected", function()
    local E2 = H.E("while closing")
    local s
    task.main(function()
      s = task.current()
      local _ <close> = task.defer(function()
        error(E2)
      end)
      task.suspend()
    end)
    H.quiet()
    local ok = pcall(task.exit, s, "v")
    assert.is_true(ok)
    assert.equal("finished", s.status)
    assert.is_false(s.result.ok)
    assert.equal(E2, s.result.error)
    local jok, jerr = task.run(function()
      return pcall(task.join, s)
    end)
    assert.is_false(jok)
    assert.equal(E2, jerr)
  end)

  it("is not affected when exiting from a task either", function()
    local E2 = H.E("while closing")
    local r = task.run(function()
      local s = task.fork(function()
        local _ <close> = task.defer(function()
          error(E2)
        end)
        task.suspend()
      end)
      task.wait()
      local ok = pcall(task.exit, s)
      return { ok = ok, err = s.result.error, still = "running" }
    end)
    assert.is_true(r.ok)
    assert.equal(E2, r.err)
    assert.equal("running", r.still)
  end)

  it("finishes a fork that was scheduled but never started without running its body", function()
    local ran = false
    local r = task.run(function()
      local f = task.fork(function()
        ran = true
      end)
      task.exit(f, "x", "y")
      local status = f.status
      H.turns(3)
      return { status = status, values = pack(task.join(f)) }
    end)
    assert.is_false(ran)
    assert.equal("finished", r.status)
    assert.same({ n = 2, "x", "y" }, r.values)
  end)

  it("finishes an idle fork without running its body", function()
    local ran = false
    local f = task.fork(function()
      ran = true
    end)
    task.exit(f, "x")
    assert.equal("finished", f.status)
    task.drain()
    assert.is_false(ran)
    assert.same({ ok = true, value = "x" }, f.result)
    assert.equal("x", f:await())
  end)

  it("leaves a finished fork alone", function()
    local f = task.fork(function()
      return 1
    end)
    f:await()
    task.exit(f, 2)
    assert.same({ ok = true, value = 1 }, f.result)
  end)

  it("cancels the timer of an exited sleeper", manual(function()
    local t0 = task.stats().timers
    local f, woke
    task.main(function()
      f = task.current()
      task.sleep(100)
      woke = true
    end)
    assert.equal(t0 + 1, task.stats().timers)
    task.exit(f)
    assert.equal(t0, task.stats().timers)
    task.advance(200)
    assert.is_nil(woke)
  end))
end)

describe("§2 task.terminate(f)", function()
  after_each(H.reset)

  it("is task.exit(f) with no values: the body is closed, the result has no value", function()
    local closed = "no"
    local r = task.run(function()
      local s = task.fork(function()
        local _ <close> = task.defer(function(err)
          closed = err == nil and "with nil" or "with an error"
        end)
        task.suspend()
        return "not this"
      end)
      task.wait()
      task.terminate(s)
      local status, result = s.status, s.result
      return { status = status, result = result, n = select("#", task.join(s)) }
    end)
    assert.equal("with nil", closed)
    assert.equal("finished", r.status)
    assert.same({ ok = true }, r.result)
    assert.equal(0, r.n)
  end)

  it("finishes an idle fork without running its body", function()
    local ran = false
    local f = task.fork(function()
      ran = true
    end)
    task.terminate(f)
    task.drain()
    assert.is_false(ran)
    assert.same({ ok = true }, f.result)
  end)
end)

describe("§2 abort or exit of the running task, or of a task up the resume chain, raises", function()
  after_each(H.reset)

  it("refuses abort, exit and terminate of the running task itself", function()
    local E = H.E()
    local r = task.run(function()
      local me = task.current()
      local res = {
        pack(pcall(task.abort, me, E)),
        pack(pcall(task.exit, me, "x")),
        pack(pcall(task.terminate, me)),
        pack(pcall(function()
          me:abort(E)
        end)),
        pack(pcall(function()
          me:exit()
        end)),
      }
      return { res = res, status = me.status, alive = "still running" }
    end)
    for i, res in ipairs(r.res) do
      assert.is_false(res[1], "call " .. i .. " did not raise")
      assert.is_string(res[2])
    end
    assert.equal("active", r.status)
    assert.equal("still running", r.alive)
  end)

  it("refuses abort and exit of the task that is resuming the caller", function()
    local E = H.E()
    local r = task.run(function()
      local me = task.current()
      local inner = {}
      local victim = task.fork(function()
        local _, err = pcall(task.suspend)
        inner.got = err
        inner.abort = pack(pcall(task.abort, me, "x"))
        inner.exit = pack(pcall(task.exit, me, "x"))
        inner.terminate = pack(pcall(task.terminate, me))
        return "victim done"
      end)
      task.wait()
      task.abort(victim, E)
      return { inner = inner, victim = victim.result, alive = "aborter still running" }
    end)
    assert.equal(E, r.inner.got)
    assert.is_false(r.inner.abort[1])
    assert.is_false(r.inner.exit[1])
    assert.is_false(r.inner.terminate[1])
    assert.same({ ok = true, value = "victim done" }, r.victim)
    assert.equal("aborter still running", r.alive)
  end)

  it("refuses them on any task further up the resume chain", function()
    local r = task.run(function()
      local a = task.current()
      local seen = {}
      local b, c
      c = task.fork(function()
        pcall(task.suspend)
        seen.c_abort_a = pcall(task.abort, a, "x")
        seen.c_exit_a = pcall(task.exit, a)
        seen.c_abort_b = pcall(task.abort, b, "x")
        seen.c_exit_b = pcall(task.exit, b)
        return "c done"
      end)
      b = task.fork(function()
        pcall(task.suspend)
        task.abort(c, "from b")
        return "b done"
      end)
      task.wait()
      task.abort(b, "from a")
      return { seen = seen, b = b.result, c = c.result }
    end)
    assert.same({ c_abort_a = false, c_exit_a = false, c_abort_b = false, c_exit_b = false }, r.seen)
    assert.same({ ok = true, value = "b done" }, r.b)
    assert.same({ ok = true, value = "c done" }, r.c)
  end)
end)

describe("§2 a task waiting in join, group or all that is aborted passes the abort on", function()
  after_each(H.reset)

  local function start_waiter(kind, member)
    return task.fork(function()
      if kind == "join" then
        return task.join(task.fork(member("a")))
      elseif kind == "group" then
        return task.group({ task.fork(member("a")), task.fork(member("b")) })
      else
        return task.all({ member("a"), member("b") })
      end
    end)
  end

  for _, kind in ipairs { "join", "group", "all" } do
    it("aborting a task waiting in " .. kind .. " aborts the members still running with the same error",
      manual(function()
        local E = H.E()
        local got = {}
        local waiter
        local function member(name)
          return function()
            local _ <close> = task.defer(function(err)
              got[name] = err
            end)
            task.sleep(100)
            return name
          end
        end
        task.run(function()
          waiter = start_waiter(kind, member)
          H.turns(3)
          task.abort(waiter, E)
        end)
        assert.equal(E, waiter.result.error)
        assert.equal(E, got.a)
        if kind ~= "join" then
          assert.equal(E, got.b)
        end
      end))

    it("exiting a task waiting in " .. kind .. " leaves the members running, detached", manual(function()
      local done = {}
      local waiter
      local function member(name)
        return function()
          task.sleep(100)
          done[#done + 1] = name
          return name
        end
      end
      task.run(function()
        waiter = start_waiter(kind, member)
        H.turns(3)
        task.exit(waiter, "w")
      end)
      assert.same({ ok = true, value = "w" }, waiter.result)
      assert.same({}, done)
      task.drain()
      table.sort(done)
      assert.same(kind == "join" and { "a" } or { "a", "b" }, done)
      assert.equal(100, task.now())
    end))
  end
end)

describe("§2 errors unwind inside the task's own coroutine", function()
  after_each(H.reset)

  it("runs to-be-closed variables as the error passes; they may suspend and send; cleanup completes before the joiner sees the error",
    manual(function()
      local E = H.E()
      local r = task.run(function()
        local cleaned, cur = false, nil
        local f
        local msgs, ok, err = H.collect(function()
          f = task.fork(function()
            local _ <close> = task.defer(function(err)
              cur = task.current()
              task.sleep(10)
              task.send(rawequal(err, E) and "cleanup saw E" or "cleanup saw something else")
              cleaned = true
            end)
            local function inner()
              error(E)
            end
            inner()
          end)
          return task.join(f)
        end)
        return { msgs = msgs, ok = ok, err = err, cleaned = cleaned, same = rawequal(cur, f), now = task.now() }
      end)
      assert.same({ "cleanup saw E" }, r.msgs)
      assert.is_false(r.ok)
      assert.equal(E, r.err)
      assert.is_true(r.cleaned)
      assert.is_true(r.same)
      assert.equal(10, r.now)
    end))
end)
