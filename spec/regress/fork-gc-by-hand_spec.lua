-- Bug (found by the fuzz spec, 41-fuzz): the Fork metatable's __gc, called by hand on a live fork, detached the task without settling it.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

setup(function()
  task.set_clock("manual")
end)
teardown(function()
  task.on_error(nil)
  pcall(task.drain)
  task.set_clock("system")
end)

-- getmetatable(f) hands out the Fork metatable, so any code can call its
-- __gc on a live fork, as it can call io's on an open file (where it
-- closes the file and leaves a consistent "closed file" behind).
it("calling the Fork metatable's __gc by hand on a live fork leaves the scheduler consistent", function()
  task.on_error(function() end)
  task.drain()
  local base = task.stats()
  local s
  task.main(function()
    s = task.current()
    task.suspend()
  end)
  local mt = getmetatable(s)
  if type(mt) == "table" and type(mt.__gc) == "function" then
    pcall(mt.__gc, s)
  end
  pcall(task.abort, s, "stop")
  task.drain()
  assert.equal("finished", s.status)
  local ok, err = pcall(task.run, function() return task.join(s) end)
  assert(ok or err ~= nil, "join raised nil: errors are non-nil values (§1)")
  local now = task.stats()
  assert.equal(base.tasks, now.tasks, "stats().tasks still counts the fork")
  assert.equal(base.suspended, now.suspended)
end)
