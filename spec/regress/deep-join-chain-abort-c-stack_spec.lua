-- Bug (found by the scale spec, 42-scale): abort passed itself down a join chain by C recursion, so aborting a deep chain overflowed the C stack (SIGSEGV at 6,500 levels on 512 KiB).
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

-- act__abort used to pass an abort on to the members of a join by calling
-- itself, once per level of the chain, about 80 bytes of C stack each
-- (Release build): the process died with SIGSEGV at about 105,000 levels
-- on Linux's 8 MiB main stack, 13,000 on 1 MiB (Windows' main thread) and
-- 6,500 on 512 KiB (a macOS secondary thread). The contract has no depth
-- limit for abort (values, errors and messages have none either), so this
-- runs the 10,000-deep abort in a child whose C stack is 512 KiB.
it("abort of a 10,000-deep join chain does not overflow the C stack of a 512 KiB thread", function()
  local script = os.tmpname()
  local fh = assert(io.open(script, "w"))
  fh:write([[
    local task = require "actress"
    task.set_clock("manual")
    local N, closed = 10000, 0
    local function level(i)
      local _ <close> = task.defer(function() closed = closed + 1 end)
      if i == N then task.suspend() return end
      return task.join(task.fork(level, i + 1))
    end
    local root = task.fork(level, 1):start()
    task.drain()
    task.abort(root, "stop")
    assert(closed == N, closed)
    print("OK")
  ]])
  fh:close()
  local out, err, code = H.run_lua(([[
    local p = io.popen("ulimit -s 512 && exec %s %s 2>&1")
    local out = p:read("a")
    local _, how, code = p:close()
    io.write(out, how, " ", code)
  ]]):format(H.LUA, script))
  os.remove(script)
  assert(out:find("^OK\n"), "the child died (" .. out .. ")" .. err)
  assert.equal(0, code)
end)
