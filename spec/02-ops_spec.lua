-- §2 operations inside a task: current, suspend, resume, sleep, wait, fork and spawn,
-- the ordering rules between them, and "fork, spawn, resume, abort, exit and terminate
-- work from anywhere". join/group/all: 03; abort/exit/terminate: 04.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local manual = H.with_manual_clock
local pack = table.pack

describe("§2 task.current()", function()
  after_each(H.reset)

  it("returns the running task's Fork, the very handle fork returned", function()
    local seen
    local f = task.run(function()
      local f = task.fork(function()
        seen = task.current()
      end)
      task.join(f)
      return f
    end)
    assert.equal("userdata", type(seen))
    assert.is_true(rawequal(f, seen))
  end)

  it("is the same Fork at any call depth, also in the task of task.run", function()
    local top, deep, status
    local function dig(n)
      if n == 0 then
        return task.current()
      end
      local r = dig(n - 1)
      return r
    end
    task.run(function()
      top = task.current()
      deep = dig(20)
      status = top.status
    end)
    assert.equal("userdata", type(top))
    assert.is_true(rawequal(top, deep))
    assert.equal("active", status)
  end)

  it("gives a spawned task a Fork of its own", function()
    local parent, child
    task.run(function()
      parent = task.current()
      task.spawn(function()
        child = task.current()
      end)
      task.wait()
    end)
    assert.equal("userdata", type(child))
    assert.is_false(rawequal(parent, child))
    assert.matches("^Fork", tostring(child))
  end)
end)

describe("§2 task.suspend()", function()
  after_each(H.reset)

  it("suspends until task.resume(controller) and returns nothing", function()
    local log, say = H.recorder()
    local nresults
    task.run(function()
      local f = task.fork(function()
        say("suspending")
        nresults = select("#", task.suspend())
        say("resumed")
      end)
      H.turns(5)
      say("others ran, the fork is " .. f.status)
      task.resume(f)
      task.join(f)
    end)
    assert.same({ "suspending", "others ran, the fork is active", "resumed" }, log)
    assert.equal(0, nresults)
  end)

  it("stays suspended while the loop drains", function()
    local ctrl, done
    task.main(function()
      ctrl = H.track(task.current())
      task.suspend()
      done = true
    end)
    task.drain()
    assert.is_nil(done)
    assert.equal("active", ctrl.status)
    task.resume(ctrl)
    task.drain()
    assert.is_true(done)
    assert.equal("finished", ctrl.status)
  end)
end)

describe("§2 task.resume(c)", function()
  after_each(H.reset)

  it("queues a suspended task; the caller continues first", function()
    local log, say = H.recorder()
    task.run(function()
      local f = task.fork(function()
        task.suspend()
        say("woken")
      end)
      task.wait()
      task.resume(f)
      say("resume returned")
      task.wait()
      say("caller ran again")
      task.join(f)
    end)
    assert.same({ "resume returned", "woken", "caller ran again" }, log)
  end)

  it("is callable from outside any task", function()
    local ctrl, done
    task.main(function()
      ctrl = H.track(task.current())
      task.suspend()
      done = true
    end)
    task.resume(ctrl)
    assert.is_nil(done) -- queued, not run inline
    task.drain()
    assert.is_true(done)
  end)

  it("is callable from a callback run by the scheduler (then_)", function()
    local ctrl, done
    task.main(function()
      ctrl = H.track(task.current())
      task.suspend()
      done = true
    end)
    local g = task.fork(function()
      return 1
    end)
    g:then_(function()
      task.resume(ctrl)
    end)
    task.drain()
    assert.is_true(done)
  end)

  it("wakes a task that is resumed twice before it runs only once (a queued task is left alone)", function()
    local log, say = H.recorder()
    local f
    task.run(function()
      f = H.track(task.fork(function()
        task.suspend()
        say("first")
        task.suspend()
        say("second")
      end))
      task.wait()
      task.resume(f)
      task.resume(f)
      H.turns(5)
    end)
    assert.same({ "first" }, log)
    assert.equal("active", f.status)
  end)

  it("leaves the running task alone: resuming oneself does not pre-empt a later suspend", function()
    local log, say = H.recorder()
    local f
    task.run(function()
      f = H.track(task.fork(function()
        task.resume(task.current())
        task.suspend()
        say("woke")
      end))
      H.turns(5)
    end)
    assert.same({}, log)
    assert.equal("active", f.status)
  end)

  it("leaves an idle fork idle", function()
    local ran = false
    local f = H.track(task.fork(function()
      ran = true
    end))
    task.resume(f)
    assert.equal("idle", f.status)
    task.drain()
    assert.equal("idle", f.status)
    assert.is_false(ran)
  end)

  it("leaves a finished fork alone", function()
    local f = task.fork(function()
      return "v"
    end)
    assert.equal("v", f:await())
    task.resume(f)
    task.run(function()
      task.resume(f)
    end)
    task.drain()
    assert.equal("finished", f.status)
    assert.same({ ok = true, value = "v" }, f.result)
  end)

  it("leaves a task waiting in sleep alone", manual(function()
    local woke_at, f
    task.main(function()
      f = task.current()
      task.sleep(100)
      woke_at = task.now()
    end)
    task.resume(f)
    task.poll()
    assert.is_nil(woke_at)
    task.advance(99)
    assert.is_nil(woke_at)
    task.advance(1)
    assert.equal(100, woke_at)
  end))

  it("leaves a task waiting in wait(deferred) alone", function()
    local d = task.deferred()
    local got, f
    task.main(function()
      f = H.track(task.current())
      got = pack(task.wait(d))
    end)
    task.resume(f)
    task.drain()
    assert.is_nil(got)
    assert.equal("active", f.status)
    d:resolve("late")
    task.drain()
    assert.equal("late", got[1])
  end)

  for _, kind in ipairs { "join", "group", "all" } do
    it("leaves a task waiting in " .. kind .. " alone", function()
      local member_ctrl, waiter
      local waiter_done = false
      local function member()
        member_ctrl = task.current()
        task.suspend()
        return "m"
      end
      task.main(function()
        waiter = task.current()
        if kind == "join" then
          task.join(task.fork(member))
        elseif kind == "group" then
          task.group({ task.fork(member) })
        else
          task.all({ member })
        end
        waiter_done = true
      end)
      task.drain()
      H.track(waiter)
      H.track(member_ctrl)
      assert.equal("active", member_ctrl.status)
      task.resume(waiter)
      task.drain()
      assert.is_false(waiter_done)
      assert.equal("active", waiter.status)
      task.resume(member_ctrl)
      task.drain()
      assert.is_true(waiter_done)
    end)
  end
end)

describe("§2 task.sleep(ms)", function()
  after_each(H.reset)

  it("suspends for at least ms milliseconds", manual(function()
    local woke_at
    task.main(function()
      task.sleep(100)
      woke_at = task.now()
    end)
    task.advance(99)
    assert.is_nil(woke_at)
    task.advance(1)
    assert.equal(100, woke_at)
  end))

  it("defaults to 0 ms", manual(function()
    local a, b = task.run(function()
      task.sleep()
      local a = task.now()
      task.sleep(nil)
      return a, task.now()
    end)
    assert.equal(0, a)
    assert.equal(0, b)
  end))

  it("suspends even for 0 ms: tasks already queued run first", manual(function()
    local log, say = H.recorder()
    task.run(function()
      task.fork(function()
        say("queued fork")
      end)
      task.sleep(0)
      say("slept")
    end)
    assert.same({ "queued fork", "slept" }, log)
  end))

  it("wakes sleepers in deadline order, each at its own deadline", manual(function()
    local log, say = H.recorder()
    task.run(function()
      local fs = {}
      for _, ms in ipairs { 30, 10, 20 } do
        fs[#fs + 1] = task.fork(function()
          task.sleep(ms)
          say(ms .. "@" .. H.ms(task.now()))
        end)
      end
      task.group(fs)
    end)
    assert.same({ "10@10", "20@20", "30@30" }, log)
  end))

  it("fires timers due at the same time in the order they were started", manual(function()
    local log, say = H.recorder()
    task.run(function()
      local fs = {}
      for i = 1, 5 do
        fs[i] = task.fork(function()
          task.sleep(10)
          say(i)
        end)
      end
      task.group(fs)
    end)
    assert.same({ 1, 2, 3, 4, 5 }, log)
  end))

  it("orders equal deadlines by when the timer was started, not by fork order", manual(function()
    local log, say = H.recorder()
    task.run(function()
      -- all due at 10; started at 7, 5 and 4 respectively; forked in reverse order
      local e = task.fork(function()
        task.sleep(7)
        task.sleep(3)
        say("started at 7")
      end)
      local d = task.fork(function()
        task.sleep(5)
        task.sleep(5)
        say("started at 5")
      end)
      local c = task.fork(function()
        task.sleep(4)
        task.sleep(6)
        say("started at 4")
      end)
      local late = task.fork(function()
        task.wait()
        task.wait()
        task.sleep(10)
        say("started at 0, second")
      end)
      local early = task.fork(function()
        task.sleep(10)
        say("started at 0, first")
      end)
      task.group({ e, d, c, late, early })
    end)
    assert.same({ "started at 0, first", "started at 0, second", "started at 4", "started at 5", "started at 7" }, log)
  end))

  it("with math.huge sleeps until the task is aborted", manual(function()
    H.quiet()
    local E = H.E("stop")
    local f, woke
    task.main(function()
      f = H.track(task.current())
      task.sleep(math.huge)
      woke = true
    end)
    task.drain()
    task.advance(1e9)
    task.drain()
    assert.is_nil(woke)
    assert.equal("active", f.status)
    task.abort(f, E)
    assert.is_nil(woke)
    assert.equal("finished", f.status)
    assert.equal(E, f.result.error)
  end))

  it("with math.huge sleeps until the task is exited", manual(function()
    local f, woke
    task.main(function()
      f = H.track(task.current())
      task.sleep(math.huge)
      woke = true
    end)
    task.drain()
    assert.equal("active", f.status)
    task.exit(f, "bye")
    assert.is_nil(woke)
    assert.same({ ok = true, value = "bye" }, f.result)
  end))

  it("on the system clock, sleep(20) takes at least 19 ms of task.now()", function()
    local elapsed = task.run(function()
      local t0 = task.now()
      task.sleep(20)
      return task.now() - t0
    end)
    assert.is_true(elapsed >= 19, "slept only " .. tostring(elapsed) .. " ms")
  end)

  it("on the system clock, wakes sleepers in deadline order", function()
    local log, say = H.recorder()
    task.run(function()
      local fs = {}
      for _, ms in ipairs { 60, 20, 40 } do
        fs[#fs + 1] = task.fork(function()
          task.sleep(ms)
          say(ms)
        end)
      end
      task.group(fs)
    end)
    assert.same({ 20, 40, 60 }, log)
  end)
end)

describe("§2 task.wait(v)", function()
  after_each(H.reset)

  it("returns a plain value", function()
    local t = {}
    local a, b, c = task.run(function()
      return task.wait(t), task.wait(42), task.wait("s")
    end)
    assert.is_true(rawequal(t, a))
    assert.equal(42, b)
    assert.equal("s", c)
  end)

  local function plain_wait_order()
    local log, say = H.recorder()
    task.run(function()
      local timer = task.fork(function()
        task.sleep(0)
        say("0 ms timer")
      end)
      task.wait() -- the timer task runs and starts its timer
      task.fork(function()
        say("queued task")
      end)
      say("before wait")
      local v = task.wait("v")
      say("after wait " .. v)
      task.join(timer)
    end)
    assert.same({ "before wait", "queued task", "after wait v", "0 ms timer" }, log)
  end

  it("lets every task already queued run first, then returns before a 0 ms timer (manual clock)",
    manual(plain_wait_order))

  it("lets every task already queued run first, then returns before a 0 ms timer (system clock)",
    plain_wait_order)

  it("task.wait() is the cooperative yield: two tasks take turns", function()
    local log, say = H.recorder()
    task.run(function()
      local function worker(name)
        return function()
          for i = 1, 3 do
            say(name .. i)
            task.wait()
          end
        end
      end
      local a = task.fork(worker("A"))
      local b = task.fork(worker("B"))
      task.join(a)
      task.join(b)
    end)
    assert.same({ "A1", "B1", "A2", "B2", "A3", "B3" }, log)
  end)

  it("waits for a Fork and returns all its values", manual(function()
    local r = pack(task.run(function()
      local f = task.fork(function()
        task.sleep(10)
        return 1, nil, 3
      end)
      return task.wait(f)
    end))
    assert.equal(3, r.n)
    assert.equal(1, r[1])
    assert.is_nil(r[2])
    assert.equal(3, r[3])
  end))

  it("raises a waited Fork's error, the very value", function()
    local E = H.E()
    local ok, err = task.run(function()
      local f = task.fork(function()
        task.wait()
        error(E)
      end)
      return pcall(task.wait, f)
    end)
    assert.is_false(ok)
    assert.equal(E, err)
  end)

  it("starts an idle Fork it waits on", function()
    local f = task.fork(function(x)
      return x * 2
    end, 21)
    assert.equal("idle", f.status)
    assert.equal(42, task.run(function()
      return task.wait(f)
    end))
  end)

  it("lets queued tasks run first even when the Fork has already finished", function()
    local log, say = H.recorder()
    task.run(function()
      local f = task.fork(function()
        return "done"
      end)
      task.join(f)
      task.fork(function()
        say("queued task")
      end)
      say("waited " .. task.wait(f))
    end)
    assert.same({ "queued task", "waited done" }, log)
  end)

  it("waits for any value with a callable then_ field, called as v:then_(on_ok, on_err)", function()
    local thenable = {}
    local calls, got_self, got_ok, got_err = 0, nil, nil, nil
    function thenable.then_(self, on_ok, on_err)
      calls = calls + 1
      got_self, got_ok, got_err = self, on_ok, on_err
    end
    local r = task.run(function()
      local f = task.fork(function()
        return task.wait(thenable)
      end)
      H.turns(3)
      local status = f.status
      got_ok("v", nil, 3)
      return { status = status, values = pack(task.join(f)) }
    end)
    assert.equal(1, calls)
    assert.is_true(rawequal(thenable, got_self))
    assert.is_not_nil(got_err)
    assert.equal("active", r.status)
    assert.equal(3, r.values.n)
    assert.equal("v", r.values[1])
    assert.is_nil(r.values[2])
    assert.equal(3, r.values[3])
  end)

  it("raises the error a then_-awaitable rejects with, the very value", function()
    local E = H.E()
    local reject
    local thenable = {
      then_ = function(_, _, on_err)
        reject = on_err
      end,
    }
    local ok, err = task.run(function()
      local f = task.fork(function()
        return task.wait(thenable)
      end)
      H.turns(3)
      reject(E)
      return pcall(task.join, f)
    end)
    assert.is_false(ok)
    assert.equal(E, err)
  end)

  it("lets queued tasks run first even when the then_-awaitable settles inside then_", function()
    local log, say = H.recorder()
    local thenable = {
      then_ = function(_, on_ok)
        on_ok("sync")
      end,
    }
    task.run(function()
      task.fork(function()
        say("queued task")
      end)
      say("waited " .. task.wait(thenable))
    end)
    assert.same({ "queued task", "waited sync" }, log)
  end)

  it("accepts a callable table as the then_ field", function()
    local thenable = {
      then_ = setmetatable({}, {
        __call = function(_, _, on_ok)
          on_ok(7)
        end,
      }),
    }
    assert.equal(7, task.run(function()
      return task.wait(thenable)
    end))
  end)

  it("treats a value whose then_ field is not callable as a plain value", function()
    local v = { then_ = 5 }
    local r = task.run(function()
      return task.wait(v)
    end)
    assert.is_true(rawequal(v, r))
  end)
end)

describe("§2 task.fork(fn, ...)", function()
  after_each(H.reset)

  it("returns the Fork at once; the fork runs only once the caller suspends", function()
    local log, say = H.recorder()
    task.run(function()
      local f = task.fork(function()
        say("fork body")
      end)
      say("fork returned a " .. type(f))
      say("caller still running")
      task.wait()
      say("caller resumed")
    end)
    assert.same({ "fork returned a userdata", "caller still running", "fork body", "caller resumed" }, log)
  end)

  it("runs fn with the given arguments, nils included", function()
    local r = task.run(function()
      return task.join(task.fork(function(...)
        return pack(...)
      end, 1, nil, 3))
    end)
    assert.equal(3, r.n)
    assert.equal(1, r[1])
    assert.is_nil(r[2])
    assert.equal(3, r[3])
  end)

  it("accepts a callable value as the task", function()
    local callable = setmetatable({}, {
      __call = function(_, x)
        return x * 2
      end,
    })
    assert.equal(42, task.run(function()
      return task.join(task.fork(callable, 21))
    end))
  end)

  it("is detached: the fork outlives its caller", manual(function()
    local done, f
    task.run(function()
      f = task.fork(function()
        task.sleep(10)
        done = true
      end)
    end)
    assert.is_nil(done)
    assert.equal("active", f.status)
    task.drain()
    assert.is_true(done)
    assert.equal("finished", f.status)
  end))

  it("does not let a failing fork affect its caller unless joined", function()
    H.quiet()
    local E = H.E()
    local v, f = task.run(function()
      local f = task.fork(function()
        error(E)
      end)
      H.turns(3)
      return "caller fine", f
    end)
    assert.equal("caller fine", v)
    assert.equal("finished", f.status)
    assert.equal(E, f.result.error)
  end)

  it("called from a coroutine that the task body created returns an idle Fork", function()
    local ran = false
    local status, later = task.run(function()
      local f = coroutine.wrap(function()
        return task.fork(function()
          ran = true
        end)
      end)()
      H.track(f)
      local status = f.status
      H.turns(3)
      return status, f.status
    end)
    assert.equal("idle", status)
    assert.equal("idle", later)
    assert.is_false(ran)
  end)
end)

describe("§2 task.spawn(fn, ...)", function()
  after_each(H.reset)

  it("returns nothing and runs fn(...) once the caller suspends", function()
    local log, say = H.recorder()
    local n
    task.run(function()
      n = select("#", task.spawn(function(a, b)
        say("spawned " .. a .. " " .. b)
      end, "x", "y"))
      say("after spawn")
      task.wait()
    end)
    assert.equal(0, n)
    assert.same({ "after spawn", "spawned x y" }, log)
  end)

  it("outlives its parent", manual(function()
    local done
    task.run(function()
      task.spawn(function()
        task.sleep(10)
        done = true
      end)
    end)
    assert.is_nil(done)
    task.drain()
    assert.is_true(done)
  end))

  it("outside a task is main: runs at once until its first suspension", function()
    local log, say = H.recorder()
    task.spawn(function(a)
      say("start " .. a)
      task.wait()
      say("after wait")
    end, "arg")
    assert.same({ "start arg" }, log)
    task.drain()
    assert.same({ "start arg", "after wait" }, log)
  end)
  -- a failing spawned task goes to on_error: 07-errors_spec.lua
end)

describe("§2 fork, spawn, resume, abort, exit and terminate work from anywhere", function()
  after_each(H.reset)

  it("from a coroutine that the task body created", function()
    local E = H.E()
    local r = task.run(function()
      local s = {}
      for i = 1, 4 do
        s[i] = task.fork(function()
          local ok, err = pcall(task.suspend)
          if not ok then
            error(err, 0)
          end
          return "resumed"
        end)
      end
      task.wait()
      local co_result = coroutine.wrap(function()
        task.resume(s[1])
        task.abort(s[2], E)
        task.exit(s[3], "exited")
        task.terminate(s[4])
        return "coroutine done"
      end)()
      task.join(s[1])
      return { co = co_result, s[1].result, s[2].result, s[3].result, s[4].result }
    end)
    assert.equal("coroutine done", r.co)
    assert.same({ ok = true, value = "resumed" }, r[1])
    assert.is_false(r[2].ok)
    assert.equal(E, r[2].error)
    assert.same({ ok = true, value = "exited" }, r[3])
    assert.same({ ok = true }, r[4])
  end)

  it("from a then_ callback", function()
    H.quiet()
    local E = H.E()
    local victims = {}
    for i = 1, 3 do
      task.main(function()
        victims[i] = H.track(task.current())
        task.suspend()
        return "resumed"
      end)
    end
    local forked, spawned
    local g = task.fork(function()
      return 1
    end)
    g:then_(function()
      task.resume(victims[1])
      task.abort(victims[2], E)
      task.exit(victims[3], "exited")
      -- whether a then_ callback runs inside a task is not specified, so only check
      -- that fork and spawn work there
      forked = H.track(task.fork(function()
        return "forked"
      end))
      spawned = pcall(task.spawn, function() end)
    end)
    task.drain()
    assert.same({ ok = true, value = "resumed" }, victims[1].result)
    assert.equal(E, victims[2].result.error)
    assert.same({ ok = true, value = "exited" }, victims[3].result)
    assert.equal("userdata", type(forked))
    assert.equal("forked", forked:await())
    assert.is_true(spawned)
  end)
end)
