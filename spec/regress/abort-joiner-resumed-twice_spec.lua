-- Bug (found by the stress test, 40-stress): a joiner aborted while its member's cleanup aborted it again was resumed twice for one wait, and a timer left behind woke it a third time.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check(H.reset)  -- after each test: reset, then no task live or ready, no timer pending

-- Regression (found by the stress test): aborting a task that joins a
-- member aborts the member first; if the member's cleanup aborted the
-- joiner again, the joiner was resumed twice for one wait and left a timer
-- behind that woke it later a third time.
it("abort of a joiner whose member's cleanup aborts the joiner again resumes the joiner once, with the first abort's error, and leaves no timer", function()
  task.set_clock("manual")
  local got = {}
  local f
  task.run(function()
    local m = task.fork(function()
      local _ <close> = task.defer(function()
        local ok = pcall(task.abort, f, "inner")
        got[#got + 1] = "inner abort: " .. tostring(ok)
      end)
      task.suspend()
    end)
    f = task.fork(function()
      local _, err = pcall(task.join, m)  -- before got's index is taken
      got[#got + 1] = "join: " .. err
      task.sleep(10)
      return "done"
    end)
    task.wait()  -- m suspends, f joins m
    task.abort(f, "outer")
    assert.equal(1, task.stats().timers)  -- f's sleep, and only it
  end)
  task.drain()
  assert.same({ "inner abort: true", "join: outer" }, got)
  assert.equal("done", f.result.value)
  assert.equal(0, task.stats().timers)
  task.set_clock("system")
end)
