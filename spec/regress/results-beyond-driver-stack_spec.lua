-- Bug (found with the full-stack drivers of the scale spec, 42-scale): a task whose results did not fit on the Lua stack of the driver resuming it raised 'too many results' inside the scheduler, leaving the task unsettled and the driver stuck.
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

-- A task's results pass through the Lua stack of whatever resumed it; when
-- that is a driver whose stack is full, they used to raise "too many
-- results" inside the driver, leaving the task unsettled and the driver
-- stuck. The task fails with a clear error instead.
it("a task whose results do not fit on the driver's Lua stack fails, and the driver goes on", function()
  local out, err, code = H.run_lua([[
    local task = require "actress"
    local H = require "spec.helpers"
    local values = {}
    for i = 1, 5000 do values[i] = i end
    local reported
    task.on_error(function(e) reported = e end)
    local f
    task.main(function()  -- a top-level task: its failure goes to on_error
      f = task.current()
      task.wait()  -- on: the rest runs inside drain
      return table.unpack(values)
    end)
    local ok, e = H.pcall_on_full_stack(task.drain)
    print("drain", ok, e)
    assert(ok, "drain raised: " .. tostring(e))
    assert(f.status == "finished" and f.result.ok == false, "the task was not settled")
    assert(f.result.error:find("5000 results do not fit", 1, true), f.result.error)
    assert(reported == f.result.error, "on_error was not told")
    assert(task.run(function() return 42 end) == 42, "the driver is stuck")
    assert(task.stats().tasks == 0)
    print("OK")
  ]])
  assert(code == 0 and out:find("\nOK\n"), out .. err)
end)
