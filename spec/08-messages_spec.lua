-- §5 message routing: task.send, delivery through join / group / all (and not through
-- wait), and task.map. (The effect combinators none/effect/effects/batch/tag/listen/
-- loop/then_ are specified elsewhere.)
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local manual = H.with_manual_clock
local pack = table.pack

describe("§2/§5 task.send(m) through task.join", function()
  after_each(H.reset)

  it("delivers a fork's messages through its joiner, in the order sent, and join returns its result", function()
    local msgs, ok, v = task.run(function()
      return H.collect(function()
        local f = task.fork(function()
          for i = 1, 5 do
            task.send(i)
            if i % 2 == 0 then
              task.wait()
            end
          end
          return "result"
        end)
        return task.join(f)
      end)
    end)
    assert.same({ 1, 2, 3, 4, 5 }, msgs)
    assert.is_true(ok)
    assert.equal("result", v)
  end)

  it("passes messages on up a chain of joins as if each joiner had sent them", function()
    local msgs = task.run(function()
      return (H.collect(function()
        local child = task.fork(function()
          task.send("c1")
          local grandchild = task.fork(function()
            task.send("g1")
            task.wait()
            task.send("g2")
          end)
          task.join(grandchild)
          task.send("c2")
        end)
        task.join(child)
      end))
    end)
    assert.same({ "c1", "g1", "g2", "c2" }, msgs)
  end)

  it("delivers synchronously: the listener sees the message before send returns", function()
    local log, say = H.recorder()
    task.run(function()
      local mapped = task.map(function()
        local f = task.fork(function()
          for i = 1, 2 do
            task.send(i)
            say("send " .. i .. " returned")
          end
        end)
        return task.join(f)
      end, function(m)
        say("listener saw " .. m)
      end)
      mapped()
    end)
    assert.same({ "listener saw 1", "send 1 returned", "listener saw 2", "send 2 returned" }, log)
  end)

  it("takes any non-nil value as a message: false, 0, tables", function()
    local t = {}
    local msgs = task.run(function()
      return (H.collect(function()
        task.send(false)
        task.send(0)
        task.send(t)
        task.send("")
      end))
    end)
    assert.equal(4, #msgs)
    assert.is_false(msgs[1])
    assert.equal(0, msgs[2])
    assert.is_true(rawequal(t, msgs[3]))
    assert.equal("", msgs[4])
  end)

  it("drops a message where no task is joined", function()
    local msgs, v = task.run(function()
      local f = task.fork(function()
        task.send("early, nobody joined")
        task.suspend()
        task.send("late, joined")
        return "done"
      end)
      task.wait() -- f sends, then suspends
      local j = task.fork(function()
        return H.collect_messages(f)
      end)
      H.turns(3) -- j joins f
      task.resume(f)
      local msgs, _, v = task.join(j)
      return msgs, v
    end)
    assert.same({ "late, joined" }, msgs)
    assert.equal("done", v)
  end)

  it("drops the messages of a task nobody joins, without error", function()
    local v = task.run(function()
      task.send("to nobody")
      local f = task.fork(function()
        task.send("to nobody either")
        return "fine"
      end)
      task.wait()
      return f.result.value
    end)
    assert.equal("fine", v)
  end)

  it("sends messages of a fork joined by several tasks to the one that joined last", function()
    local r = task.run(function()
      local f = task.fork(function()
        task.suspend()
        task.send("m1")
        task.suspend()
        task.send("m2")
        return "r"
      end)
      task.wait() -- f suspends
      local j1 = task.fork(function()
        return H.collect_messages(f)
      end)
      H.turns(3) -- j1 joins
      task.resume(f)
      task.wait() -- f sends m1 (to j1) and suspends again
      local j2 = task.fork(function()
        return H.collect_messages(f)
      end)
      H.turns(3) -- j2 joins
      task.resume(f)
      return { pack(task.join(j1)), pack(task.join(j2)) }
    end)
    local r1, r2 = r[1], r[2]
    assert.same({ "m1" }, r1[1])
    assert.same({ "m2" }, r2[1])
    assert.is_true(r1[2])
    assert.equal("r", r1[3])
    assert.is_true(r2[2])
    assert.equal("r", r2[3])
  end)

  it("does not pipe the messages of a fork that is only waited on (task.wait)", function()
    local msgs, ok, v = task.run(function()
      return H.collect(function()
        local f = task.fork(function()
          task.send("not piped")
          task.wait()
          task.send("not piped either")
          return "waited"
        end)
        return task.wait(f)
      end)
    end)
    assert.same({}, msgs)
    assert.is_true(ok)
    assert.equal("waited", v)
  end)

  it("delivers messages sent before a failure, then the error", function()
    local E = H.E()
    local msgs, ok, err = task.run(function()
      return H.collect(function()
        local f = task.fork(function()
          task.send("before")
          task.wait()
          error(E)
        end)
        return task.join(f)
      end)
    end)
    assert.same({ "before" }, msgs)
    assert.is_false(ok)
    assert.equal(E, err)
  end)
end)

describe("§2/§5 messages through task.group", function()
  after_each(H.reset)

  it("delivers the messages of all members through the caller, each member's in order", manual(function()
    local msgs, ok, n = task.run(function()
      return H.collect(function()
        local a = task.fork(function()
          task.send("a1")
          task.sleep(10)
          task.send("a2")
        end)
        local b = task.fork(function()
          task.sleep(5)
          task.send("b1")
          task.sleep(10)
          task.send("b2")
        end)
        return select("#", task.group({ a, b }))
      end)
    end)
    assert.same({ "a1", "b1", "a2", "b2" }, msgs)
    assert.is_true(ok)
    assert.equal(0, n)
  end))
end)

describe("§2/§5 messages under a join cycle", function()
  after_each(H.reset)

  -- A cycle of two: spec/regress/join-cycle-message-repeated_spec.lua.
  it("reaches each task once round a cycle of 12 maps, longer than the chains checked task by task", manual(function()
    local N, seen, t = 12, {}, {}
    task.run(function()
      local x = task.fork(function()
        task.sleep(1)
        task.send("m")
      end)
      for i = 1, N do
        t[i] = task.fork(function()
          task.map(function()
            if i == N then task.group({ x, t[1] }) else task.join(t[i + 1]) end
          end, function(m)
            seen[#seen + 1] = i
            return m
          end)()
        end)
      end
      task.sleep(2)
      for i = 1, N do t[i]:abort("stop") end
    end)
    local expected = {}
    for i = N, 1, -1 do expected[#expected + 1] = i end
    assert.same(expected, seen)
    assert.equal(0, task.stats().tasks)
  end))
end)

describe("§2/§5 messages through task.all", function()
  after_each(H.reset)

  it("delivers the messages of all tasks through the caller", manual(function()
    local msgs, ok, r = task.run(function()
      return H.collect(function()
        return task.all({
          function()
            task.send("x1")
            task.sleep(10)
            task.send("x2")
            return "x"
          end,
          function()
            task.sleep(5)
            task.send("y1")
            return "y"
          end,
        })
      end)
    end)
    assert.same({ "x1", "y1", "x2" }, msgs)
    assert.is_true(ok)
    assert.same({ "x", "y" }, r)
  end))
end)

describe("§5 task.map(e, fn)", function()
  after_each(H.reset)

  local function counter()
    for i = 1, 4 do
      task.send(i)
      task.wait()
    end
    return "counted"
  end

  it("passes on fn(m) for each message m", function()
    local msgs, ok, v = task.run(function()
      return H.collect(task.map(counter, function(m)
        return m * 10
      end))
    end)
    assert.same({ 10, 20, 30, 40 }, msgs)
    assert.is_true(ok)
    assert.equal("counted", v)
  end)

  it("drops a message when fn returns nil", function()
    local msgs = task.run(function()
      return (H.collect(task.map(counter, function(m)
        if m % 2 == 0 then
          return m
        end
      end)))
    end)
    assert.same({ 2, 4 }, msgs)
  end)

  it("passes e's result values through unchanged", function()
    local t = {}
    local r = pack(task.run(function()
      return task.map(function()
        task.send("m")
        return t, nil, 3
      end, function(m)
        return m
      end)()
    end))
    assert.equal(3, r.n)
    assert.is_true(rawequal(t, r[1]))
    assert.is_nil(r[2])
    assert.equal(3, r[3])
  end)

  it("passes e's error through unchanged, the very value", function()
    local E = H.E()
    local ok, err = task.run(function()
      return pcall(task.map(function()
        task.send("m")
        task.wait()
        error(E)
      end, function(m)
        return m
      end))
    end)
    assert.is_false(ok)
    assert.equal(E, err)
  end)

  it("builds lazily: building it runs neither e nor fn, also outside a task", function()
    local calls = 0
    local mapped = task.map(function()
      calls = calls + 1
      task.send(1)
    end, function(m)
      calls = calls + 1
      return m
    end)
    assert.equal(0, calls)
    task.drain()
    assert.equal(0, calls)
    task.run(mapped)
    assert.equal(2, calls)
  end)

  it("composes: map(map(e, f), g) passes on g(f(m))", function()
    local msgs = task.run(function()
      local inner = task.map(counter, function(m)
        return m + 1
      end)
      return (H.collect(task.map(inner, function(m)
        return "<" .. m .. ">"
      end)))
    end)
    assert.same({ "<2>", "<3>", "<4>", "<5>" }, msgs)
  end)

  it("can be forked and joined like any task; the joiner gets the mapped messages", function()
    local msgs, ok, v = task.run(function()
      return H.collect(function()
        local f = task.fork(task.map(counter, function(m)
          return -m
        end))
        return task.join(f)
      end)
    end)
    assert.same({ -1, -2, -3, -4 }, msgs)
    assert.is_true(ok)
    assert.equal("counted", v)
  end)

  it("maps the messages that a fork joined inside e passes on", function()
    local msgs = task.run(function()
      return (H.collect(task.map(function()
        local f = task.fork(function()
          task.send("from fork")
        end)
        task.send("from e")
        task.join(f)
      end, string.upper)))
    end)
    assert.same({ "FROM E", "FROM FORK" }, msgs)
  end)
end)
