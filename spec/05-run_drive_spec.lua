-- §3 running tasks from outside: idle forks, run, main, drain, poll, now, set_clock,
-- advance, and the rule that only one caller drives the loop.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local manual = H.with_manual_clock
local pack = table.pack

describe("§3 task.fork(fn, ...) outside a task", function()
  after_each(H.reset)

  it("returns an idle Fork: nothing runs, not even when the loop is drained", function()
    local ran = false
    local f = H.track(task.fork(function()
      ran = true
    end))
    assert.equal("userdata", type(f))
    assert.equal("idle", f.status)
    task.drain()
    task.poll()
    assert.is_false(ran)
    assert.equal("idle", f.status)
    assert.is_nil(f.result)
  end)

  it("runs once awaited", function()
    local f = task.fork(function(x)
      return x + 1
    end, 1)
    assert.equal(2, f:await())
  end)

  it("runs once joined by a task", function()
    local f = task.fork(function(x)
      return x + 1
    end, 2)
    assert.equal(3, task.run(function()
      return task.join(f)
    end))
  end)

  it("runs once :start()ed", function()
    local ran = false
    local f = task.fork(function()
      ran = true
    end)
    f:start()
    task.drain()
    assert.is_true(ran)
    assert.equal("finished", f.status)
  end)
end)

describe("§3 task.run(fn, ...)", function()
  after_each(H.reset)

  it("passes the arguments and returns every result value", function()
    local r = pack(task.run(function(a, b, c)
      return c, nil, a + b
    end, 1, 2, "c"))
    assert.same({ n = 3, "c", nil, 3 }, r)
  end)

  it("accepts a callable value", function()
    local callable = setmetatable({}, {
      __call = function(_, x)
        return x
      end,
    })
    assert.equal("called", task.run(callable, "called"))
  end)

  it("raises the task's error, the very value", function()
    local E = H.E()
    local ok, err = pcall(task.run, function()
      task.wait()
      error(E)
    end)
    assert.is_false(ok)
    assert.equal(E, err)
  end)

  it("drives timers until the task finishes (system clock)", function()
    assert.equal("woke", task.run(function()
      task.sleep(5)
      return "woke"
    end))
  end)

  it("leaves other pending tasks pending: a sleeper forked by the task", manual(function()
    local done = false
    local f = task.run(function()
      return task.fork(function()
        task.sleep(100)
        done = true
      end)
    end)
    assert.is_false(done)
    assert.equal("active", f.status)
    assert.is_true(task.now() < 100)
    task.drain()
    assert.is_true(done)
  end))

  it("leaves other pending tasks pending: a fork queued by the task has not run", function()
    local ran = false
    local f = task.run(function()
      return task.fork(function()
        ran = true
      end)
    end)
    assert.is_false(ran)
    assert.equal("active", f.status)
    task.drain()
    assert.is_true(ran)
  end)

  it("under the manual clock, a 10 s sleep takes no real time", manual(function()
    local cpu0, wall0 = os.clock(), os.time()
    local at = task.run(function()
      task.sleep(10000)
      return task.now()
    end)
    assert.equal(10000, at)
    assert.is_true(os.time() - wall0 <= 2, "took " .. (os.time() - wall0) .. " s of wall time")
    assert.is_true(os.clock() - cpu0 < 2, "took " .. (os.clock() - cpu0) .. " s of CPU time")
  end))

  it("raises a clear error instead of blocking when the task can never finish (suspended)", function()
    local ctrl
    local ok, err = pcall(task.run, function()
      ctrl = H.track(task.current())
      task.suspend()
    end)
    assert.is_false(ok)
    assert.is_string(err)
    assert.equal("active", ctrl.status)
  end)

  it("raises a clear error instead of blocking when the task waits on a Deferred nobody settles", function()
    local ctrl
    local ok, err = pcall(task.run, function()
      ctrl = H.track(task.current())
      return task.wait(task.deferred())
    end)
    assert.is_false(ok)
    assert.is_string(err)
  end)

  it("counts pending then_ callbacks as work", function()
    local r = task.run(function()
      local g = task.fork(function()
        return 1
      end)
      task.join(g)
      local d = task.deferred()
      g:then_(function(v)
        d:resolve(v + 1)
      end)
      return task.wait(d) -- only the pending callback can settle d
    end)
    assert.equal(2, r)
  end)
end)

describe("§3 f:await() and task.run: the loop is not driven when the fork can never finish", function()
  after_each(H.reset)

  it("f:await() raises a clear error instead of blocking", function()
    local f = H.track(task.fork(function()
      task.suspend()
    end))
    local ok, err = pcall(f.await, f)
    assert.is_false(ok)
    assert.is_string(err)
    assert.equal("active", f.status)
  end)

  it("f:await() counts pending then_ callbacks as work", function()
    local g = task.fork(function()
      return "g"
    end)
    g:await()
    local d = task.deferred()
    g:then_(function(v)
      d:resolve(v .. "!")
    end)
    local f = task.fork(function()
      return task.wait(d)
    end)
    assert.equal("g!", f:await())
  end)
end)

describe("§3 run, await, drain, poll and advance drive the loop: never nested", function()
  after_each(H.reset)

  it("raise when called from inside a task", manual(function()
    local ran = false
    local r = task.run(function()
      local g = H.track(task.fork(function()
        task.sleep(1)
      end))
      return {
        run = pack(pcall(task.run, function()
          ran = true
        end)),
        drain = pack(pcall(task.drain)),
        poll = pack(pcall(task.poll)),
        advance = pack(pcall(task.advance, 1)),
        await = pack(pcall(g.await, g)),
      }
    end)
    for _, name in ipairs { "run", "drain", "poll", "advance", "await" } do
      assert.is_false(r[name][1], name .. " did not raise inside a task")
      assert.is_string(r[name][2])
    end
    assert.is_false(ran)
  end))

  it("raise when called while the loop is being driven (from a coroutine a task created)", manual(function()
    local ran = false
    local idle = H.track(task.fork(function()
      return 1
    end))
    local r = task.run(function()
      return coroutine.wrap(function()
        return {
          run = pack(pcall(task.run, function()
            ran = true
          end)),
          drain = pack(pcall(task.drain)),
          poll = pack(pcall(task.poll)),
          advance = pack(pcall(task.advance, 1)),
          await = pack(pcall(idle.await, idle)),
        }
      end)()
    end)
    for _, name in ipairs { "run", "drain", "poll", "advance", "await" } do
      assert.is_false(r[name][1], name .. " did not raise while the loop was driven")
      assert.is_string(r[name][2])
    end
    assert.is_false(ran)
    assert.equal(0, task.now())
  end))

  it("raise when called while the loop is being driven (from an on_error handler)", function()
    local r
    task.on_error(function()
      r = {
        run = pack(pcall(task.run, function() end)),
        drain = pack(pcall(task.drain)),
        poll = pack(pcall(task.poll)),
      }
    end)
    task.main(function()
      task.wait()
      error("fail")
    end)
    task.drain()
    assert.is_table(r)
    for _, name in ipairs { "run", "drain", "poll" } do
      assert.is_false(r[name][1], name .. " did not raise while the loop was driven")
    end
  end)

  it("raise when called while the loop is being driven (from a then_ callback)", manual(function()
    local ran = false
    local r
    local idle = H.track(task.fork(function()
      return 1
    end))
    local f = task.fork(function()
      return 1
    end)
    f:then_(function()
      r = {
        run = pack(pcall(task.run, function()
          ran = true
        end)),
        drain = pack(pcall(task.drain)),
        poll = pack(pcall(task.poll)),
        advance = pack(pcall(task.advance, 1)),
        await = pack(pcall(idle.await, idle)),
      }
    end)
    task.drain()
    assert.is_table(r)
    for _, name in ipairs { "run", "drain", "poll", "advance", "await" } do
      assert.is_false(r[name][1], name .. " did not raise while the loop was driven")
    end
    assert.is_false(ran)
  end))
end)

describe("§3 task.main(fn, ...)", function()
  after_each(H.reset)

  it("outside a task starts at once and runs until its first suspension before main returns", function()
    local log, say = H.recorder()
    task.main(function(a, b)
      say("start " .. a .. b)
      task.wait()
      say("after wait")
    end, "x", "y")
    assert.same({ "start xy" }, log)
    task.drain()
    assert.same({ "start xy", "after wait" }, log)
  end)

  it("outside a task runs a task that does not suspend to completion before main returns", function()
    local cur
    task.main(function()
      cur = task.current()
    end)
    assert.equal("finished", cur.status)
  end)

  it("inside a task is spawn: runs after the caller suspends, returns nothing", function()
    local log, say = H.recorder()
    local n
    task.run(function()
      n = select("#", task.main(function()
        say("child")
      end))
      say("parent after main")
      task.wait()
    end)
    assert.equal(0, n)
    assert.same({ "parent after main", "child" }, log)
  end)
  -- a failing top-level task goes to on_error: 07-errors_spec.lua
end)

describe("§3 task.drain()", function()
  after_each(H.reset)

  it("runs until no task is runnable and no timer is pending, moving the manual clock to each timer", manual(function()
    local log, say = H.recorder()
    local t0 = task.stats().timers
    local cpu0, wall0 = os.clock(), os.time()
    task.main(function()
      task.sleep(1000)
      say("1000@" .. H.ms(task.now()))
    end)
    task.main(function()
      task.sleep(10)
      say("10@" .. H.ms(task.now()))
    end)
    task.main(function()
      for i = 1, 3 do
        task.wait()
        say("turn " .. i)
      end
    end)
    task.drain()
    assert.same({ "turn 1", "turn 2", "turn 3", "10@10", "1000@1000" }, log)
    assert.equal(1000, task.now())
    assert.equal(t0, task.stats().timers)
    assert.is_true(os.time() - wall0 <= 2)
    assert.is_true(os.clock() - cpu0 < 2)
  end))

  it("returns while tasks stay suspended", function()
    local f
    task.main(function()
      f = H.track(task.current())
      task.suspend()
    end)
    task.drain()
    assert.equal("active", f.status)
  end)

  it("runs pending then_ callbacks", function()
    local f = task.fork(function()
      return "v"
    end)
    f:await()
    local got
    f:then_(function(v)
      got = v
    end)
    task.drain()
    assert.equal("v", got)
  end)

  it("waits for real timers on the system clock", function()
    local done
    local t0 = task.now()
    task.main(function()
      task.sleep(10)
      done = true
    end)
    task.drain()
    assert.is_true(done)
    assert.is_true(task.now() - t0 >= 9)
  end)
end)

describe("§3 task.poll()", function()
  after_each(H.reset)

  it("runs the ready tasks and returns false once no work remains", function()
    local log, say = H.recorder()
    task.main(function()
      say("a")
      task.wait()
      say("b")
      task.wait()
      say("c")
    end)
    assert.same({ "a" }, log)
    local n = 0
    while task.poll() do
      n = n + 1
      if n > 100 then
        break
      end
    end
    assert.is_true(n <= 100, "poll kept returning true")
    assert.same({ "a", "b", "c" }, log)
    assert.is_falsy(task.poll())
  end)

  it("returns true while a timer is pending, runs it once due, and never moves the manual clock", manual(function()
    local done = false
    task.main(function()
      task.sleep(100)
      done = true
    end)
    assert.is_true(task.poll())
    assert.is_false(done)
    assert.equal(0, task.now())
    task.advance(100)
    task.poll()
    assert.is_true(done)
    assert.is_falsy(task.poll())
  end))

  it("never blocks on the system clock", function()
    H.quiet()
    local f
    task.main(function()
      f = H.track(task.current())
      task.sleep(3000)
    end)
    local wall0 = os.time()
    for _ = 1, 3 do
      assert.is_true(task.poll())
    end
    assert.is_true(os.time() - wall0 < 3, "poll blocked")
    assert.equal("active", f.status)
    task.abort(f, "done")
  end)

  it("runs pending then_ callbacks", function()
    local f = task.fork(function()
      return "v"
    end)
    f:await()
    local got
    f:then_(function(v)
      got = v
    end)
    local n = 0
    while task.poll() and n < 100 do
      n = n + 1
    end
    assert.equal("v", got)
  end)
end)

describe("§3 task.now()", function()
  after_each(H.reset)

  it("on the system clock is a number of milliseconds that follows real time", function()
    local a = task.now()
    assert.is_number(a)
    task.run(function()
      task.sleep(10)
    end)
    local b = task.now()
    assert.is_true(b - a >= 9, "now() advanced by " .. (b - a))
  end)

  it("under the manual clock moves only by advance, run, await and drain", manual(function()
    assert.equal(0, task.now())
    task.run(function()
      task.wait()
      task.wait()
    end)
    assert.equal(0, task.now())
    local c0 = os.clock()
    while os.clock() - c0 < 0.02 do
    end
    task.poll()
    assert.equal(0, task.now())
    task.advance(5)
    assert.equal(5, task.now())
    task.run(function()
      task.sleep(10)
    end)
    assert.equal(15, task.now())
    task.fork(function()
      task.sleep(10)
    end):await()
    assert.equal(25, task.now())
    task.main(function()
      task.sleep(10)
    end)
    task.drain()
    assert.equal(35, task.now())
  end))
end)

describe("§3 task.set_clock(mode)", function()
  after_each(H.reset)

  it("starts the manual clock at 0 each time it is selected", function()
    task.set_clock("manual")
    assert.equal(0, task.now())
    task.advance(250)
    assert.equal(250, task.now())
    task.set_clock("system")
    task.set_clock("manual")
    assert.equal(0, task.now())
    task.set_clock("system")
  end)

  it("raises when switching clocks while a timer is pending (manual to system)", function()
    task.set_clock("manual")
    task.main(function()
      task.sleep(10)
    end)
    local ok = pcall(task.set_clock, "system")
    assert.is_false(ok)
    task.drain()
    assert.equal(10, task.now())
    task.set_clock("system")
  end)

  it("raises when switching clocks while a timer is pending (system to manual)", function()
    local done = false
    task.main(function()
      task.sleep(5)
      done = true
    end)
    local ok = pcall(task.set_clock, "manual")
    assert.is_false(ok)
    task.drain()
    assert.is_true(done)
    task.set_clock("manual")
    assert.equal(0, task.now())
    task.set_clock("system")
  end)
end)

describe("§3 task.advance(ms)", function()
  after_each(H.reset)

  it("moves time forward and fires the due timers in time order, running what they wake", manual(function()
    local log, say = H.recorder()
    for _, ms in ipairs { 30, 10, 20 } do
      task.main(function()
        task.sleep(ms)
        say(ms .. "@" .. H.ms(task.now()))
      end)
    end
    task.advance(25)
    assert.same({ "10@10", "20@20" }, log)
    assert.equal(25, task.now())
    task.advance(5)
    assert.same({ "10@10", "20@20", "30@30" }, log)
    assert.equal(30, task.now())
  end))

  it("fires timers started by the tasks it wakes, when due within the span, at their own time", manual(function()
    local log, say = H.recorder()
    task.main(function()
      task.sleep(10)
      say("A@" .. H.ms(task.now()))
      task.sleep(5)
      say("A@" .. H.ms(task.now()))
    end)
    task.main(function()
      task.sleep(12)
      say("B@" .. H.ms(task.now()))
    end)
    task.advance(100)
    assert.same({ "A@10", "B@12", "A@15" }, log)
    assert.equal(100, task.now())
  end))

  it("fires timers due now with advance(0)", manual(function()
    local done = false
    task.main(function()
      task.sleep(0)
      done = true
    end)
    task.advance(0)
    assert.is_true(done)
  end))

  it("raises under the system clock", function()
    local ok = pcall(task.advance, 1)
    assert.is_false(ok)
  end)
end)
