-- API §5 (effects and messages) and §6 (defer, deferred): one `it` per clause,
-- plus the effect scenarios of the reference, in our own words. Every spec
-- runs on the manual clock (from 0), so the times it checks are exact.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local pack = table.pack

-- The payloads of a list of messages tagged `name`; checks their shape.
local function untag(log, name)
  local out = {}
  for i, m in ipairs(log) do
    assert.same({ type = name, [name] = m[name] }, m, "message " .. i)
    out[i] = m[name]
  end
  return out
end

-- The entries of a list that are numbers, in order.
local function numbers(list)
  local out = {}
  for _, v in ipairs(list) do
    if type(v) == "number" then out[#out + 1] = v end
  end
  return out
end

-- An effect that sends 1 .. 5, with yields and sleeps between some of them.
local function burst()
  task.send(1)
  task.send(2)
  task.wait()
  task.send(3)
  task.sleep(0)
  task.send(4)
  task.sleep(5)
  task.send(5)
end

-- An effect that keeps f's cleanup visible: it sleeps long, then sends
-- "late"; its <close> handler records the error it was closed with.
local function slow(record)
  return function()
    local _ <close> = task.defer(function(err) record.closed, record.err = true, err end)
    task.sleep(100)
    task.send("late")
  end
end

describe("§5 messages", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("go to the joining task and on up the join chain, as if each joiner had sent them", function()
    local log = H.run_capture(function()
      local child = task.fork(function()
        local grandchild = task.fork(function()
          task.sleep(1)
          task.send("grandchild")
        end)
        task.send("child")
        task.join(grandchild)
        task.send("child again")
      end)
      task.send("top")
      task.join(child)
    end)
    assert.same({ "top", "child", "grandchild", "child again" }, log)
  end)

  it("are dropped where no task is joined", function()
    local log, r, f = task.run(function()
      local f
      local log, r = H.capture(function()
        f = task.fork(function()
          task.send("lost")
          return "sent"
        end)
        task.spawn(function() task.send("lost too") end)
        return task.wait(f) -- wait does not pipe messages: nobody joins f
      end)
      return log, r, f
    end)
    assert.same({}, log)
    assert.same({ true, "sent", n = 2 }, r)
    assert.same({ ok = true, value = "sent" }, f.result)
  end)

  it("reach the listener before send returns, through nested combinators", function()
    local log, seen = {}, {}
    local e = function()
      for i = 1, 3 do
        task.send(i)
        seen[i] = #log
      end
    end
    task.run(task.map(task.listen { a = task.batch { task.tag(e, "t"), task.none() } },
      function(m) table.insert(log, m) end))
    assert.same({ 1, 2, 3 }, seen)
    assert.equal(3, #log)
  end)

  it("of one effect arrive in send order through every combinator", function()
    local want = { 1, 2, 3, 4, 5 }
    assert.same(want, (H.run_capture(burst)))
    assert.same(want, (H.run_capture(task.map(burst, function(m) return m end))))
    assert.same(want, untag((H.run_capture(task.tag(burst, "b"))), "b"))
    assert.same(want, (H.run_capture(task.batch { burst })))
    assert.same(want, numbers((H.run_capture(task.batch { H.ticker("x", 3, 1), burst }))))
    assert.same(want, untag((H.run_capture(task.listen { b = burst })), "b"))
    local effects_log = H.run_capture(task.effects { function() return 1 end })
    assert.same({ 1 }, effects_log)
    local looped = {}
    H.run_capture(task.loop(burst, function(m) table.insert(looped, m) end))
    assert.same(want, looped)
  end)

  it("are sent only when an effect runs: building one with any combinator runs nothing", function()
    local runs = 0
    local function e()
      runs = runs + 1
      task.send(runs)
      return runs
    end
    local built = {
      task.effect(e), task.effects { e }, task.batch { e }, task.tag(e, "t"),
      task.map(e, function(m) return m end), task.listen { e = e },
      task.loop(e, function() end), task.then_(e, function(v) return v end, error),
    }
    assert.equal(0, runs)
    for i, b in ipairs(built) do
      H.run_capture(b)
      assert.equal(i, runs, "combinator " .. i .. " ran e once")
    end
  end)

  it("of concurrent effects interleave by time, not by source", function()
    local log = H.run_timed(task.batch { H.ticker("a", 3, 5), H.ticker("b", 3, 8) })
    assert.same({
      { 5, "a1" }, { 8, "b1" }, { 10, "a2" }, { 15, "a3" }, { 16, "b2" }, { 24, "b3" },
    }, log)
  end)
end)

describe("§5 task.none()", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("returns the same value on every call", function()
    local a, b = task.none(), task.none()
    assert.is_function(a)
    assert.is_true(rawequal(a, b))
  end)

  it("is the empty effect: sends nothing, returns nothing, never suspends", function()
    local log, r = H.run_capture(task.none())
    assert.same({}, log)
    assert.same({ true, n = 1 }, r)
    local n, switches = task.run(function()
      local before = task.stats().switches
      local n = select("#", task.none()())
      return n, task.stats().switches - before
    end)
    assert.equal(0, n)
    assert.equal(0, switches)
  end)
end)

describe("§5 task.effect(t)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("sends the first result of t, and building it runs nothing", function()
    local calls = 0
    local e = task.effect(function()
      calls = calls + 1
      return "first", "second"
    end)
    assert.equal(0, calls)
    assert.same({ "first" }, (H.run_capture(e)))
    assert.equal(1, calls)
    assert.same({ "first" }, (H.run_capture(e)))   -- an effect can be run again
    assert.equal(2, calls)
  end)

  it("of a task that sleeps sends its result when the task finishes (reference scenario)", function()
    local log, r = H.run_timed(task.effect(function()
      task.sleep(30)
      return { answer = 42 }
    end))
    assert.same({ { 30, { answer = 42 } } }, log)
    assert.is_true(r[1])
  end)

  it("sends nothing when t returns nil or nothing, but sends false", function()
    assert.same({}, (H.run_capture(task.effect(function() return nil end))))
    assert.same({}, (H.run_capture(task.effect(function() end))))
    assert.same({ false }, (H.run_capture(task.effect(function() return false end))))
  end)

  it("fails with the very error t raises", function()
    local E = H.E()
    local log, r = H.run_capture(task.effect(function() error(E) end))
    assert.same({}, log)
    assert.is_false(r[1])
    assert.is_true(rawequal(E, r[2]))
  end)

  it("refuses a t that is not a function", function()
    H.bad_argument(1, "effect", "function expected, got number", task.effect, 1)
    H.bad_argument(1, "effect", "function expected, got nil", task.effect)
    H.bad_argument(1, "effect", "function expected, got table", task.effect, {})
  end)
end)

describe("§5 task.effects(tasks)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("of {} is none()", function()
    assert.is_true(rawequal(task.none(), task.effects {}))
  end)

  it("runs the tasks concurrently and sends each non-nil result when it comes", function()
    local started = 0
    local function after(ms, v)
      return function()
        started = started + 1
        task.sleep(ms)
        return v
      end
    end
    local e = task.effects { after(30, "a"), after(10, "b"), after(20, nil), after(20, "c") }
    assert.equal(0, started)
    local log = H.run_timed(e)
    assert.same({ { 10, "b" }, { 20, "c" }, { 30, "a" } }, log)
    assert.equal(4, started)
  end)

  it("refuses what is not an array of tasks", function()
    H.bad_argument(1, "effects", "table expected, got number", task.effects, 1)
    H.bad_argument(1, "effects", "table expected, got nil", task.effects)
    H.bad_argument(1, "effects", "array of effects expected, got string at index 2",
      task.effects, { task.none(), "x" })
  end)
end)

describe("§5 task.batch(effects)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("of three delayed sends delivers them in time order, all in the time of the longest (reference scenario)", function()
    local log, r, ended = task.run(function()
      local log, r = H.capture_timed(task.batch { H.after(30, "slow"), H.after(10, "fast"), H.after(20, "middle") })
      return log, r, task.now()
    end)
    assert.same({ { 10, "fast" }, { 20, "middle" }, { 30, "slow" } }, log)
    assert.is_true(r[1])
    assert.equal(30, ended)
  end)

  it("passes on every message of every member; building it runs nothing", function()
    local ran = false
    local e = task.batch {
      function() ran = true task.send("x1") task.send("x2") end,
      task.none(),
      function() task.send("y1") end,
    }
    assert.is_false(ran)
    local log = H.run_capture(e)
    table.sort(log)
    assert.same({ "x1", "x2", "y1" }, log)
  end)

  it("of {} sends nothing and finishes at once", function()
    local log, r, at = task.run(function()
      local log, r = H.capture(task.batch {})
      return log, r, task.now()
    end)
    assert.same({}, log)
    assert.is_true(r[1])
    assert.equal(0, at)
  end)

  it("fails with a failing member's error and aborts the other members", function()
    local E, rec = H.E(), {}
    local log, r, at, timers = task.run(function()
      local log, r = H.capture(task.batch {
        slow(rec),
        function()
          task.sleep(5)
          task.send("last words")
          error(E)
        end,
      })
      return log, r, task.now(), task.stats().timers
    end)
    assert.same({ "last words" }, log)
    assert.is_false(r[1])
    assert.is_true(rawequal(E, r[2]))
    assert.is_true(rec.closed)
    assert.is_true(rawequal(E, rec.err))
    assert.equal(5, at)
    assert.equal(0, timers)
  end)

  it("refuses a non-table and an effect that is not a function", function()
    H.bad_argument(1, "batch", "table expected, got number", task.batch, 1)
    H.bad_argument(1, "batch", "table expected, got nil", task.batch)
    H.bad_argument(1, "batch", "array of effects expected, got number at index 1", task.batch, { 1 })
    H.bad_argument(1, "batch", "array of effects expected, got boolean at index 2",
      task.batch, { task.none(), true })
  end)
end)

describe("§5 task.tag(e, name)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("passes on each message m as { type = name, [name] = m }, nothing more", function()
    local log = H.run_capture(task.tag(function()
      task.send("m1")
      task.send({ n = 2 })
    end, "foo"))
    assert.same({ { type = "foo", foo = "m1" }, { type = "foo", foo = { n = 2 } } }, log)
  end)

  it("of none() is none()", function()
    assert.is_true(rawequal(task.none(), task.tag(task.none(), "x")))
    assert.is_true(rawequal(task.none(), task.tag(task.tag(task.none(), "x"), "y")))
  end)

  it("twice nests the tags", function()
    local log = H.run_capture(task.tag(task.tag(function() task.send("m") end, "foo"), "bar"))
    assert.same({ { type = "bar", bar = { type = "foo", foo = "m" } } }, log)
  end)

  it("runs nothing when built", function()
    local ran = false
    local e = task.tag(function() ran = true end, "x")
    assert.is_false(ran)
    H.run_capture(e)
    assert.is_true(ran)
  end)

  it("refuses a name that is not a string and an e that is not a function", function()
    local e = function() end
    H.bad_argument(2, "tag", "string expected, got number", task.tag, e, 2)
    H.bad_argument(2, "tag", "string expected, got nil", task.tag, e)
    H.bad_argument(2, "tag", "string expected, got number", task.tag, task.none(), 1)
    H.bad_argument(1, "tag", "function expected, got number", task.tag, 1, "x")
    H.bad_argument(1, "tag", "function expected, got nil", task.tag, nil, "x")
  end)

  it("can be aborted while sleeping, and then sends nothing more (reference scenario)", function()
    local E = H.E()
    local log, r, timers = task.run(function()
      local tagged = H.track(task.fork(task.tag(H.ticker("x", 10, 10), "t")))
      local log = {}
      local reader = task.fork(task.map(function() return task.join(tagged) end,
        function(m) table.insert(log, { task.now(), m }) end))
      task.sleep(25)
      task.abort(tagged, E)
      local r = pack(pcall(task.join, reader))
      local timers = task.stats().timers
      task.sleep(100)
      return log, r, timers
    end)
    assert.same({ { 10, { type = "t", t = "x1" } }, { 20, { type = "t", t = "x2" } } }, log)
    assert.is_false(r[1])
    assert.is_true(rawequal(E, r[2]))
    assert.equal(0, timers) -- the effect's own sleep was aborted too
  end)

  it("can be exited while sleeping, and then sends nothing more (reference scenario)", function()
    local log, r = task.run(function()
      local tagged = H.track(task.fork(task.tag(H.ticker("x", 10, 10), "t")))
      local log = {}
      local reader = task.fork(task.map(function() return task.join(tagged) end,
        function(m) table.insert(log, { task.now(), m }) end))
      task.sleep(25)
      task.exit(tagged, "bye")
      local r = pack(pcall(task.join, reader))
      task.sleep(100)
      return log, r
    end)
    assert.same({ { 10, { type = "t", t = "x1" } }, { 20, { type = "t", t = "x2" } } }, log)
    assert.same({ true, "bye", n = 2 }, r)
  end)
end)

describe("§5 task.map(e, fn)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("passes on fn(m) for each message; a nil result drops the message", function()
    local log = H.run_capture(task.map(function()
      for i = 1, 5 do task.send(i) end
    end, function(m)
      if m % 2 == 1 then return m * 10 end
    end))
    assert.same({ 10, 30, 50 }, log)
  end)

  it("passes e's result values through unchanged", function()
    local tbl = {}
    local r = pack(task.run(task.map(function() return 1, nil, tbl end, function(m) return m end)))
    assert.equal(3, r.n)
    assert.equal(1, r[1])
    assert.is_nil(r[2])
    assert.is_true(rawequal(tbl, r[3]))
  end)

  it("passes e's error through unchanged, the very value", function()
    local E = H.E()
    local ok, err = pcall(task.run, task.map(function()
      task.sleep(1)
      error(E)
    end, function(m) return m end))
    assert.is_false(ok)
    assert.is_true(rawequal(E, err))
  end)

  it("refuses an e or fn that is not a function", function()
    local e = function() end
    H.bad_argument(1, "map", "function expected, got number", task.map, 1, e)
    H.bad_argument(2, "map", "function expected, got string", task.map, e, "x")
    H.bad_argument(2, "map", "function expected, got nil", task.map, e)
  end)
end)

describe("§5 task.listen(sources)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("tags each source's messages with its key; sources at different intervals interleave by time (reference scenario)", function()
    local log = H.run_timed(task.listen {
      beep = H.ticker("beep", 3, 10),
      bop = H.ticker("bop", 3, 7),
      quiet = task.none(),
    })
    assert.same({
      { 7, { type = "bop", bop = "bop1" } },
      { 10, { type = "beep", beep = "beep1" } },
      { 14, { type = "bop", bop = "bop2" } },
      { 20, { type = "beep", beep = "beep2" } },
      { 21, { type = "bop", bop = "bop3" } },
      { 30, { type = "beep", beep = "beep3" } },
    }, log)
  end)

  it("of {} sends nothing and finishes at once", function()
    local log, r, at = task.run(function()
      local log, r = H.capture(task.listen {})
      return log, r, task.now()
    end)
    assert.same({}, log)
    assert.is_true(r[1])
    assert.equal(0, at)
  end)

  it("skips none() entries: they send nothing and nothing runs for them", function()
    local log = H.run_capture(task.listen { a = task.none(), b = function() task.send("hi") end })
    assert.same({ { type = "b", b = "hi" } }, log)
    local switches = task.run(function()
      local before = task.stats().switches
      task.listen { a = task.none(), b = task.none() }()
      return task.stats().switches - before
    end)
    assert.equal(0, switches)
  end)

  it("fails with a failing source's error and aborts the other sources", function()
    local E, rec = H.E(), {}
    local log, r, at, timers = task.run(function()
      local log, r = H.capture(task.listen {
        slow = slow(rec),
        bad = function()
          task.sleep(5)
          task.send("last words")
          error(E)
        end,
      })
      return log, r, task.now(), task.stats().timers
    end)
    assert.same({ { type = "bad", bad = "last words" } }, log)
    assert.is_false(r[1])
    assert.is_true(rawequal(E, r[2]))
    assert.is_true(rec.closed)
    assert.is_true(rawequal(E, rec.err))
    assert.equal(5, at)
    assert.equal(0, timers)
  end)

  it("refuses sources that are not a table of effects", function()
    H.bad_argument(1, "listen", "table expected, got number", task.listen, 1)
    H.bad_argument(1, "listen", "table expected, got nil", task.listen)
    H.bad_argument(1, "listen", "table expected, got string", task.listen, "a")
    H.bad_argument(1, "listen", "table of effects expected, got number at key 'a'",
      task.listen, { a = 1 })
    local ok, err = pcall(task.listen, { function() end })  -- keys must be names
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'listen' (table of effects expected", err, 1, true)
  end)
end)

describe("§5 task.loop(init, next)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("runs next(m) for each message of any member, sends none itself, and ends when no member remains", function()
    local calls = {}
    local log, r, at = task.run(function()
      local log, r = H.capture(task.loop(function()
        task.send("a")
        task.send("b")
      end, function(m)
        table.insert(calls, m)
        if m == "a" then
          return function()
            task.sleep(30)
            task.send("c")
          end
        end
      end))
      return log, r, task.now()
    end)
    assert.same({ "a", "b", "c" }, calls)
    assert.same({}, log)
    assert.is_true(r[1])
    assert.equal(30, at)
  end)

  it("lets next(m) act directly: its own messages feed the loop", function()
    local calls = {}
    local log, r, at = task.run(function()
      local log, r = H.capture(task.loop(task.effect(function() return 3 end), function(n)
        table.insert(calls, n)
        if n > 1 then
          task.sleep(10)
          task.send(n - 1)
        end
      end))
      return log, r, task.now()
    end)
    assert.same({ 3, 2, 1 }, calls)
    assert.same({}, log)
    assert.is_true(r[1])
    assert.equal(20, at)
  end)

  it("whose step sends n-1 ... 1 after sleeping n ms grows and then ends (reference scenario)", function()
    local calls = {}
    local most = 0
    local log, r, at = task.run(function()
      local log, r = H.capture(task.loop(task.effect(function() return 4 end), function(n)
        table.insert(calls, n)
        most = math.max(most, task.stats().tasks)
        return function()
          task.sleep(n)
          for i = n - 1, 1, -1 do task.send(i) end
        end
      end))
      return log, r, task.now()
    end)
    -- 4 starts 3, 2, 1; each k starts k-1 .. 1: 1 + 1 + 2 + 4 steps of 4, 3, 2, 1
    table.sort(calls)
    assert.same({ 1, 1, 1, 1, 2, 2, 3, 4 }, calls)
    assert.same({}, log)
    assert.is_true(r[1])
    assert.equal(4 + 3 + 2 + 1, at)
    assert.is_true(most > 4, "the loop had several members at once")
    assert.equal(0, task.stats().timers)
  end)

  it("whose next waits on a plain value gets that value back (reference scenario)", function()
    local seen = {}
    local r = pack(task.run(function()
      local log, r = H.capture(task.loop(task.effect(function() return 3 end), function(m)
        local v = task.wait(m)
        table.insert(seen, v)
        if v > 1 then task.send(v - 1) end
      end))
      return log, r
    end))
    assert.same({ 3, 2, 1 }, seen)
    assert.same({}, r[1])
    assert.is_true(r[2][1])
  end)

  it("of none() ends at once without calling next", function()
    local called = false
    local r, at = task.run(function()
      local _, r = H.capture(task.loop(task.none(), function() called = true end))
      return r, task.now()
    end)
    assert.is_true(r[1])
    assert.is_false(called)
    assert.equal(0, at)
  end)

  it("fails with a failing member's error and aborts the other members", function()
    local E, rec = H.E(), {}
    local late = false
    local r, at, timers = task.run(function()
      local _, r = H.capture(task.loop(function()
        task.send("slow")
        task.send("bad")
      end, function(m)
        if m == "slow" then return slow(rec) end
        if m == "bad" then
          return function()
            task.sleep(5)
            error(E)
          end
        end
        if m == "late" then late = true end
      end))
      return r, task.now(), task.stats().timers
    end)
    assert.is_false(r[1])
    assert.is_true(rawequal(E, r[2]))
    assert.is_true(rec.closed)
    assert.is_true(rawequal(E, rec.err))
    assert.is_false(late)
    assert.equal(5, at)
    assert.equal(0, timers)
  end)

  it("fails when next itself raises", function()
    local E = H.E()
    local ok, err = pcall(task.run, task.loop(task.effect(function() return 1 end), function() error(E) end))
    assert.is_false(ok)
    assert.is_true(rawequal(E, err))
  end)

  it("runs nothing when built", function()
    local ran = false
    local l = task.loop(function() ran = true end, function() end)
    assert.is_false(ran)
    task.run(l)
    assert.is_true(ran)
  end)

  it("refuses an init or next that is not a function", function()
    local e = function() end
    H.bad_argument(1, "loop", "function expected, got number", task.loop, 1, e)
    H.bad_argument(2, "loop", "function expected, got table", task.loop, e, {})
    H.bad_argument(2, "loop", "function expected, got nil", task.loop, e)
  end)
end)

describe("§5 task.then_(t, on_ok, on_err)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("returns on_ok(values...) when t succeeds", function()
    local r = pack(task.run(task.then_(function()
      task.sleep(5)
      return 1, nil, 3
    end, function(a, b, c)
      return ("%s %s %s"):format(a, b, c), "ok"
    end, function() return "not called" end)))
    assert.same({ "1 nil 3", "ok", n = 2 }, r)
  end)

  it("returns on_err(err) when t fails, with the very error", function()
    local E = H.E()
    local got
    local r = pack(task.run(task.then_(function()
      task.sleep(5)
      error(E)
    end, function() return "not called" end, function(err)
      got = err
      return "recovered"
    end)))
    assert.same({ "recovered", n = 1 }, r)
    assert.is_true(rawequal(E, got))
  end)

  it("runs nothing when built", function()
    local ran = false
    local t = task.then_(function() ran = true end, function() end, function() end)
    assert.is_false(ran)
    task.run(t)
    assert.is_true(ran)
  end)

  it("refuses a t, on_ok or on_err that is not a function", function()
    local f = function() end
    H.bad_argument(1, "then_", "function expected, got number", task.then_, 1, f, f)
    H.bad_argument(2, "then_", "function expected, got string", task.then_, f, "x", f)
    H.bad_argument(3, "then_", "function expected, got boolean", task.then_, f, f, true)
  end)
end)

describe("§6 task.defer(fn)", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  -- Runs body in a fork whose scope holds a defer; returns the fork and the
  -- list of errors fn was called with (a `false` entry stands for nil).
  local function guarded(body)
    local calls = {}
    local f = task.fork(function(...)
      local _ <close> = task.defer(function(err)
        if err == nil then err = false end
        calls[#calls + 1] = err
      end)
      return body(...)
    end)
    return f, calls
  end

  it("calls fn(nil) when the scope returns", function()
    local r, calls = task.run(function()
      local f, calls = guarded(function() return "v" end)
      return pack(task.join(f)), calls
    end)
    assert.same({ "v", n = 1 }, r)
    assert.same({ false }, calls)
  end)

  it("calls fn(err) with the very error when the scope raises", function()
    local E = H.E()
    local r, calls = task.run(function()
      local f, calls = guarded(function() error(E) end)
      return pack(pcall(task.join, f)), calls
    end)
    assert.is_false(r[1])
    assert.is_true(rawequal(E, r[2]))
    assert.equal(1, #calls)
    assert.is_true(rawequal(E, calls[1]))
  end)

  it("calls fn(err) with the abort error; fn may still sleep and send before the joiner sees the error", function()
    local E = H.E()
    local log, r, calls, at = task.run(function()
      local calls = {}
      local f = task.fork(function()
        local _ <close> = task.defer(function(err)
          calls[#calls + 1] = err
          task.sleep(5)
          task.send("cleaned up")
        end)
        task.sleep(math.huge)
      end)
      local log, r = H.capture(function()
        task.fork(function()
          task.sleep(10)
          task.abort(f, E)
        end)
        return task.join(f)
      end)
      return log, r, calls, task.now()
    end)
    assert.same({ "cleaned up" }, log)
    assert.is_false(r[1])
    assert.is_true(rawequal(E, r[2]))
    assert.equal(1, #calls)
    assert.is_true(rawequal(E, calls[1]))
    assert.equal(15, at)
  end)

  it("calls fn(nil) on exit, before exit returns", function()
    local r, calls, before_return = task.run(function()
      local f, calls = guarded(function() task.sleep(math.huge) end)
      task.wait() -- let f start and suspend
      task.exit(f, "done")
      local before_return = #calls
      return pack(task.join(f)), calls, before_return
    end)
    assert.same({ "done", n = 1 }, r)
    assert.same({ false }, calls)
    assert.equal(1, before_return)
  end)

  it("refuses an fn that is not a function", function()
    H.bad_argument(1, "defer", "function expected, got number", task.defer, 1)
    H.bad_argument(1, "defer", "function expected, got nil", task.defer)
  end)
end)

describe("§6 task.deferred()", function()
  before_each(H.use_manual_clock)
  after_each(H.reset)

  it("wakes every task waiting in task.wait(d) with all the values of d:resolve(...)", function()
    local d = task.deferred()
    local got = {}
    local r = task.run(function()
      for i = 1, 2 do
        task.fork(function() got[i] = pack(task.wait(d)) end)
      end
      task.sleep(10)
      assert.same({}, got) -- still waiting
      d:resolve("a", nil, "c")
      task.sleep(0)
      return d.status
    end)
    assert.equal("resolved", r)
    assert.same({ "a", nil, "c", n = 3 }, got[1])
    assert.same({ "a", nil, "c", n = 3 }, got[2])
  end)

  it("raises the very error of d:reject(err) in task.wait(d)", function()
    local E = H.E()
    local d = task.deferred()
    local r = task.run(function()
      task.fork(function()
        task.sleep(5)
        d:reject(E)
      end)
      return pack(pcall(task.wait, d))
    end)
    assert.is_false(r[1])
    assert.is_true(rawequal(E, r[2]))
    assert.equal("rejected", d.status)
  end)

  it("settles once: the first of resolve and reject wins", function()
    local E = H.E()
    local d1, d2 = task.deferred(), task.deferred()
    d1:resolve(1)
    d1:reject(E)
    d1:resolve(2)
    d2:reject(E)
    d2:resolve(3)
    local r1, r2 = task.run(function()
      return pack(task.wait(d1)), pack(pcall(task.wait, d2))
    end)
    assert.same({ 1, n = 1 }, r1)
    assert.is_false(r2[1])
    assert.is_true(rawequal(E, r2[2]))
    assert.equal("resolved", d1.status)
    assert.equal("rejected", d2.status)
  end)

  it("can be settled from outside any task and from a scheduler callback", function()
    local outside, callback = task.deferred(), task.deferred()
    local got = {}
    task.main(function() got.outside = task.wait(outside) end)
    task.main(function() got.callback = task.wait(callback) end)
    outside:resolve("from plain code")
    task.fork(function() return "from then_" end):then_(function(v) callback:resolve(v) end)
    task.drain()
    assert.same({ outside = "from plain code", callback = "from then_" }, got)
  end)

  it("already settled still lets the tasks already queued run first", function()
    local d = task.deferred()
    d:resolve("v")
    local order = {}
    task.run(function()
      task.fork(function() table.insert(order, "other") end)
      table.insert(order, task.wait(d))
    end)
    assert.same({ "other", "v" }, order)
  end)
end)
