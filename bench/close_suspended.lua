-- bench/close_suspended.lua: 100,000 suspended tasks, then lua_close.
-- Nothing may leak: run it under valgrind,
--
--   LUA_PATH_5_4='lua/?.lua;lua/?/init.lua;;' LUA_CPATH_5_4='build/?.so;;' \
--     valgrind --leak-check=full --error-exitcode=3 lua5.4 bench/close_suspended.lua [N] [close] [noluv]
--
-- The tasks wait in every way a task can: a quarter in task.suspend(), a
-- quarter in task.sleep() with a pending timer (the timer heap), a quarter
-- in join of a suspended fork and the rest in group of two suspended forks
-- (links between tasks), so that every structure the runtime frees at
-- close is full. With "close" as the second argument the runtime is closed
-- with core.close() first (as a host would with actress_close), then
-- lua_close runs on the closed runtime. With "noluv" luv cannot be loaded,
-- so the runtime makes (and at close frees) a libuv loop of its own; by
-- default it shares luv's loop if luv is installed. The script ends
-- normally, so lua5.4 calls lua_close itself.
local options = {}
for i = 2, #arg do options[arg[i]] = true end
if options.noluv then
  package.preload.luv = function() error("luv is disabled by bench/close_suspended.lua") end
end

local task = require "actress"
local core = require "actress.core"

local N = math.tointeger(tonumber(arg[1]) or 100000)
local CLOSE_FIRST = options.close
print("loop: " .. core.luv_status())
local Q = N // 4

task.set_clock("manual")

local function forever() task.suspend() end

for _ = 1, Q do task.main(forever) end
for i = 1, Q do task.main(function() task.sleep(1000 + i) end) end
for _ = 1, Q do task.main(function() task.join(task.fork(forever)) end) end
for _ = 1, N - 3 * Q do
  task.main(function() task.group({ task.fork(forever), task.fork(forever) }) end)
end
task.poll()  -- the forks of the last two quarters reach their suspend

local s = task.stats()
print(("suspended tasks: %d live, %d suspended, %d timers, %d ready"):format(
  s.tasks, s.suspended, s.timers, s.ready))
assert(s.suspended >= N and s.timers == Q and s.ready == 0)

if CLOSE_FIRST then
  core.close()
  print("runtime closed with core.close()")
end
print("lua_close")
