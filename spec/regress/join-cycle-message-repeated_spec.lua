-- Bug (found by the stress test, seed 51): a message sent under a join cycle went round it once per live task, so a task.map on the cycle saw it again and again.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check(H.reset)  -- after each test: reset, then no task live or ready, no timer pending

local manual = H.with_manual_clock

-- Found by the stress test (seed 51): the message went round the cycle as
-- many times as there were live tasks, and a map on the cycle saw it each
-- time. README, Decisions: it stops before it comes back to a task it passed.
it("a message sent under a join cycle reaches each task on the cycle once, a task.map on it included, and send returns", manual(function()
  local seen = {}
  local a, b
  task.run(function()
    local x = task.fork(function()
      task.sleep(1)
      task.send("m")
    end)
    b = task.fork(function()
      task.map(function() return task.join(a) end, function(m)
        seen[#seen + 1] = "b:" .. m
        return m
      end)()
    end)
    a = task.fork(function()
      task.map(function() task.group({ x, b }) end, function(m)
        seen[#seen + 1] = "a:" .. m
        return m
      end)()
    end)
    task.sleep(2)
    a:abort("stop")
    b:abort("stop")
  end)
  assert.same({ "a:m", "b:m" }, seen)
  assert.equal(0, task.stats().tasks)
end))
