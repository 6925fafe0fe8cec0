-- spec/fuzz_closed_child.lua: run by spec/41-fuzz_spec.lua in a child
-- lua5.4 (closing a runtime is for good, so not in busted's own state).
--
-- Makes Forks in every state, closes the runtime with core.close(), then
-- calls every function and method with every combination of arguments
-- (the closed Forks included). Each call must return or raise a clear
-- error; the operations of the core must say "the runtime is closed".
-- Prints "OK <calls>" and exits 0, or prints the problems and exits 1.
-- arg[1]: the folder of fuzz_helpers.lua.
package.path = arg[1] .. "/?.lua;" .. package.path

local task = require "actress"
local core = require "actress.core"
local F = require "fuzz_helpers"

task.set_clock("manual")
task.on_error(function() end)
F.setup_shared()
local entries = F.entries()  -- before closing: it makes a Fork

-- Forks in every state, as the fuzzer's kinds name them.
local fx = {}
fx.idle = task.fork(function() return "R" end)
fx.queued = task.fork(function() return "R" end):start()
task.main(function() fx.suspended = task.current() task.suspend() end)
task.main(function() fx.sleeping = task.current() task.sleep(1e9) end)
local s2
task.main(function() s2 = task.current() task.suspend() end)
task.main(function() fx.grouping = task.current() core.gather({ s2 }, F.fnv) end)
local s3
task.main(function() s3 = task.current() task.suspend() end)
task.main(function() fx.waiting = task.current() task.wait(s3) end)
local idle2 = task.fork(function() return "R" end)
task.main(function() fx.suspended2 = task.current() task.suspend() end)
fx.array = { F.shared.done, idle2, fx.suspended2 }
fx.failed_array = { task.fork(function() end), F.shared.failed }

local problems = {}
local function check(cond, what)
  if not cond then problems[#problems + 1] = what end
end

local before = task.stats()
check(before.tasks >= 5 and before.timers == 1 and before.ready == 1, "the fixtures are not in place")

-- core.close() refuses while the runtime runs: from a task, a map function
-- (inside send) and an f:then_ callback (while the loop is driven).
local function refuses(where, ok, err)
  check(not ok and type(err) == "string" and err:find("actress: cannot close the runtime while it runs", 1, true),
    "core.close() " .. where .. ": " .. tostring(ok) .. " " .. tostring(err))
end
task.run(function()
  refuses("in a task", pcall(core.close))
  task.map(function() task.send(1) end, function() refuses("in a map function", pcall(core.close)) end)()
end)
local cb = task.fork(function() end)
cb:then_(function() refuses("in a then_ callback", pcall(core.close)) end)
task.drain()
check(task.run(function() task.sleep(1) return "alive" end) == "alive", "the runtime does not run after the refusals")

-- The default error handler, fuzzed below with the closed forks too (it
-- writes to stderr, which the spec collects).
task.on_error(nil)
local default_handler = task.on_error(function() end)
entries[#entries + 1] = { label = "the default on_error handler", fn = default_handler, arity = 2 }

core.close()
core.close()  -- idempotent

local function closed_error(fn, ...)
  local ok, err = pcall(fn, ...)
  return not ok and type(err) == "string" and err:find("actress: the runtime is closed", 1, true) ~= nil
end

-- Every function of the core says so, and so do the Fork methods.
for _, name in ipairs { "now", "stats", "poll", "drain", "current", "suspend" } do
  check(closed_error(task[name]), name .. "() does not say the runtime is closed")
end
check(closed_error(task.fork, F.fnv), "fork does not say the runtime is closed")
check(closed_error(task.run, F.fnv), "run does not say the runtime is closed")
check(closed_error(task.main, F.fnv), "main does not say the runtime is closed")
check(closed_error(task.on_error, F.fnv), "on_error does not say the runtime is closed")
for kind, f in pairs(fx) do
  if type(f) == "userdata" then
    check(closed_error(task.abort, f, "x"), "abort of the " .. kind .. " fork")
    check(closed_error(task.exit, f), "exit of the " .. kind .. " fork")
    check(closed_error(task.resume, f), "resume of the " .. kind .. " fork")
    check(closed_error(f.start, f), "start of the " .. kind .. " fork")
    check(closed_error(f.await, f), "await of the " .. kind .. " fork")
    check(type(f.id) == "number" and type(f.status) == "string" and tostring(f):find("^Fork"),
      "the fields of the " .. kind .. " fork cannot be read")
  end
end

-- The full fuzz, with the closed forks as the fixtures.
fx.closed = true
F.set_shared(fx)
local st = F.new_state(function() end)
for _, e in ipairs(entries) do
  F.fuzz_outside(st, e, "plain")
end
for _, p in ipairs(st.problems) do problems[#problems + 1] = p end

if #problems > 0 then
  print(table.concat(problems, "\n"))
  os.exit(1)
end
print("OK " .. st.calls)
-- the script ends normally: lua.c calls lua_close on the closed runtime
