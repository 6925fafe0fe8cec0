-- actress.loop: the bridge that lets luv's uv.run() run actress's tasks
-- when actress and luv share one loop (core.luv_status() == "shared").
--
-- Two luv handles, made and driven with luv's public API: `idle`, on
-- while tasks are ready (so the loop does not block), and `wake`, armed
-- for the first timer's deadline. Their callbacks call core.step(), which
-- fires due timers and runs ready tasks. The core says what the handles
-- should be by calling bridge.sync(idle_on, delay_ms) at the end of API
-- calls made outside tasks and drivers (never while it queues a task),
-- and asks bridge.driving() before a driver starts, since actress's
-- drivers must not run inside uv.run(). Nothing of luv is replaced.
--
-- The runtime keeps the bridge for its life: loading this module again
-- (busted does, for each spec file) reuses the same handles.

local core = require "actress.core"

local existing = core.loop_bridge()
if existing or core.luv_status() ~= "shared" then return existing end

local uv = require "luv"
local step = core.step

local idle, wake = uv.new_idle(), uv.new_timer()

-- step() is false when uv.run() was called from inside a task: that
-- nested run stops at once, and the task fails with a clear error.
local function on_idle() if not step() then uv.stop() end end
local function on_wake() if not step(true) then uv.stop() end end

local bridge = {}

--- Sets the handles: idle on or off, wake in delay_ms (< 0: off).
function bridge.sync(idle_on, delay_ms)
  if idle_on then idle:start(on_idle) else idle:stop() end
  if delay_ms >= 0 then wake:start(delay_ms, 0, on_wake) else wake:stop() end
end

--- Is luv's uv.run() driving the loop?
function bridge.driving()
  return uv.loop_mode() ~= nil
end

core.set_loop_bridge(bridge)
return bridge
