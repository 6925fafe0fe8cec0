-- examples/counter.lua: an Elm-style program on task.loop.
--
-- The program is a state, an update(state, msg) that returns the next state
-- and an effect, and a loop that runs the effects and feeds every message
-- they send back into update. A timer effect sends "tick" every INTERVAL ms;
-- when the count reaches LIMIT, update returns task.none() instead of the
-- next tick, and the loop ends because no effect is left running.
--
-- Run from the repository root after building (see README.md):
--   LUA_PATH_5_4='lua/?.lua;lua/?/init.lua;;' LUA_CPATH_5_4='build/?.so;;' lua5.4 examples/counter.lua
local task = require "actress"

local INTERVAL = 100 -- ms between ticks (real time: this runs on the system clock)
local LIMIT = 6      -- the count at which the program stops

-- An effect: sleeps ms, then sends msg.
local function after(ms, msg)
  return task.effect(function()
    task.sleep(ms)
    return msg
  end)
end

-- The initial state and the effect that starts the program.
local function init()
  return { count = 0, step = 1 }, after(INTERVAL, "tick")
end

-- update(state, msg) returns the next state and the effect to run next.
-- It never changes a state, it makes a new one.
local function update(state, msg)
  if msg == "tick" then
    local count = state.count + state.step
    if count >= LIMIT then
      return { count = count, step = state.step, stopped = true }, task.none()
    end
    -- at 2, speed up the count; both effects run, concurrently
    if count == 2 then
      return { count = count, step = state.step }, task.batch {
        task.effect(function() return "faster" end),
        after(INTERVAL, "tick"),
      }
    end
    return { count = count, step = state.step }, after(INTERVAL, "tick")
  elseif msg == "faster" then
    return { count = state.count, step = state.step + 1 }, task.none()
  end
  error("unknown message " .. tostring(msg))
end

local function view(state)
  return ("count=%d step=%d%s"):format(state.count, state.step, state.stopped and " (stopped)" or "")
end

local state, first = init()
print("init    " .. view(state))

-- The loop: for each message, update the state, print it, run the effect.
task.run(task.loop(first, function(msg)
  local effect
  state, effect = update(state, msg)
  print(("%-7s %s"):format(msg, view(state)))
  return effect
end))

print("done    " .. view(state))
