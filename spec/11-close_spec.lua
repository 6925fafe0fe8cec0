-- spec/11-close_spec.lua: the runtime owns what it made. Closing it
-- (core.close(), which is actress_close) releases every task, coroutine
-- and handler it held: the Lua heap comes back and the registry holds no
-- more entries than before. Each test runs in a child interpreter, since
-- closing ends the runtime for the whole state.
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

-- A child program: `tasks` suspended tasks of each kind (sleeping,
-- suspended, joining, in groups), then close, then a full collection.
local PROGRAM = [[
%s
local core = require "actress.core"
local task = require "actress"
local N = %d
local function registry_entries()
  local n = 0
  for _ in pairs(debug.getregistry()) do n = n + 1 end
  return n
end
local function heap()
  collectgarbage("collect"); collectgarbage("collect")
  return collectgarbage("count") * 1024
end
task.set_clock("manual")
-- The runtime is made, and on luv's loop the bridge's luv handles have
-- been used once (luv keeps their callbacks in the registry).
task.main(function() task.fork(function() end) task.sleep(1) end)
task.drain()
local reg0, heap0 = registry_entries(), heap()
task.main(function()
  for i = 1, N do
    local kind = i %% 4
    if kind == 0 then
      task.fork(task.sleep, 1e9)
    elseif kind == 1 then
      task.fork(task.suspend)
    elseif kind == 2 then
      task.fork(function() task.join(task.fork(task.suspend)) end)
    else
      task.fork(function()
        task.group { task.fork(task.sleep, math.huge), task.fork(task.suspend) }
      end)
    end
  end
  task.suspend()
end)
task.poll()
local stats = task.stats()
local heap_full = heap()
local kept = task.fork(function() end)
core.close()
local heap1, reg1 = heap(), registry_entries()
print(("tasks=%%d timers=%%d grew=%%d"):format(stats.tasks, stats.timers,
  heap_full - heap0))
print(("heap_ratio=%%.4f registry_delta=%%d"):format(heap1 / heap0, reg1 - reg0))
print(pcall(task.sleep, 1))
print(kept.status, pcall(task.join, kept))
]]

-- Runs PROGRAM with n tasks, on luv's loop or on actress's own.
local function run_program(n, own_loop)
  local hide = own_loop and 'package.preload.luv = function() error("hidden") end' or ""
  local out, err, code = H.run_lua(PROGRAM:format(hide, n))
  assert.equal(0, code, err)
  return out
end

local function check_released(out)
  local tasks = tonumber(out:match("tasks=(%d+)"))
  assert.is_true(tasks >= 20000 + 2 * 5000, out) -- joins and groups add members
  assert.is_true(tonumber(out:match("grew=(%d+)")) > 10 * 1024 * 1024, out)
  local ratio = tonumber(out:match("heap_ratio=([%d.]+)"))
  assert.is_true(ratio <= 1.05, "heap after close is " .. ratio .. " times the heap before")
  assert.equal("0", out:match("registry_delta=(%-?%d+)"))
  assert.matches("false\tactress: the runtime is closed\n", out, 1, true)
end

describe("closing the runtime", function()
  it("releases 20,000 suspended tasks of every kind: heap within 5%, no registry entry left", function()
    check_released(run_program(20000, false))
  end)

  it("does the same on actress's own loop (luv hidden)", function()
    check_released(run_program(20000, true))
  end)

  it("leaves a fork the program kept readable; operations on it raise", function()
    local out = run_program(100, false)
    assert.matches("idle\tfalse\tactress: the runtime is closed\n$", out)
  end)
end)
