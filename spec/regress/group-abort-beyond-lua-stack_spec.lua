-- Bug (found by the scale spec, 42-scale): abort pushed a group's members on the caller's Lua stack, so a group larger than the room left there failed part way ('too many members') with members never aborted, and inside a driver left the driver stuck.
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

-- Both children begin so: N members that suspend and count their cleanups.
local MEMBERS = [[
  local task = require "actress"
  local H = require "spec.helpers"
  task.set_clock("manual")
  local N, closed, members = 2000, 0, {}
  local function member()
    local _ <close> = task.defer(function() closed = closed + 1 end)
    task.suspend()
  end
]]

-- An abort passes on to the members still running. The core used to push
-- them on the caller's Lua stack, which holds at most LUAI_MAXSTACK
-- (1,000,000) values, so a group of a million members (or, since the
-- abort walks a join tree breadth first, a tree of a million tasks) raised
-- "too many tasks", and inside a driver that left the driver stuck. They
-- are collected in a table now. Here the caller's stack is filled first
-- (H.pcall_on_full_stack), so that 2,000 members stand for a million (in a
-- child, whose stack starts empty).
it("abort of a group whose members do not fit on the caller's Lua stack reaches them all", function()
  local out, err, code = H.run_lua(MEMBERS .. [[
    local g = task.fork(function()
      for i = 1, N do members[i] = task.fork(member) end
      task.group(members)
    end):start()
    task.drain()
    local ok, e = H.pcall_on_full_stack(task.abort, g, "stop")
    print("first abort", ok, e)
    task.drain()
    local s = task.stats()
    print(("closed %d of %d, live %d, suspended %d, group %s"):format(closed, N, s.tasks, s.suspended, g.status))
    assert(ok, "abort raised: " .. tostring(e))
    assert(closed == N and s.tasks == 0 and g.status == "finished", "members left out of the abort")
    print("OK")
  ]])
  assert(code == 0 and out:find("\nOK\n"), out .. err)
end)

it("a failing member of a group too large for the driver's Lua stack aborts the others, and the driver goes on", function()
  local out, err, code = H.run_lua(MEMBERS .. [[
    local g = task.fork(function()
      for i = 1, N do members[i] = task.fork(member) end
      members[N + 1] = task.fork(function()
        task.sleep(1)
        error("boom", 0)
      end)
      task.group(members)
    end):start()
    -- the group fails inside drain
    local ok, e = H.pcall_on_full_stack(task.drain)
    print("drain", ok, e)
    assert(ok, "drain raised: " .. tostring(e))
    assert(closed == N, ("%d of %d members closed"):format(closed, N))
    assert(g.result and g.result.ok == false and g.result.error == "boom", "the group did not fail with boom")
    assert(task.run(function() return 42 end) == 42, "the driver is stuck")
    assert(task.stats().tasks == 0)
    print("OK")
  ]])
  assert(code == 0 and out:find("\nOK\n"), out .. err)
end)
