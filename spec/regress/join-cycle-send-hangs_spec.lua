-- Bug (found by the fuzz spec's random sequences, 41-fuzz seeds 28, 38 and 79): a message sent under a join cycle (a joins b, b joins a) hung send for ever, act__route going round the cycle.
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

-- Found by the sequences of 41-fuzz (seeds 28, 38 and 79): act__route follows
-- each task's last piping joiner up, and a join cycle makes that a loop
-- that never ends, inside send. The contract refuses joining oneself; a
-- cycle is joining oneself through others, and in any case send returns.
it("a message sent under a join cycle (a joins b, b joins a) does not hang send", function()
  local out, _, code = H.run_lua([[
    local task = require "actress"
    task.set_clock("manual")
    local a, b, x
    local returned = false
    task.run(function()
      x = task.fork(function()
        task.sleep(1)
        pcall(task.send, "m")
        returned = true
      end)
      b = task.fork(function() return task.join(a) end)
      a = task.fork(function() task.group({ x, b }) end)
      task.sleep(2)
      pcall(task.abort, a, "stop")
      pcall(task.abort, b, "stop")
    end)
    assert(returned, "send did not return")
    assert(a.status == "finished" and b.status == "finished", "the cycle is still waiting")
    local s = task.stats()
    assert(s.tasks == 0 and s.ready == 0 and s.timers == 0, "stats: " .. s.tasks .. " live")
    print("OK")
  ]], { timeout = 5, merge = true })
  assert(code ~= 124, "send never returned (killed by timeout after 5 s)")
  assert(out:find("^OK"), "the child failed: " .. out)
end)
