-- The floor under W4: one coroutine.resume plus one coroutine.yield, from a
-- plain Lua loop, N times. bench/profile counts its instructions per switch
-- to compare with a task switch of actress.
-- Usage: lua5.4 bench/floor_switch.lua [N]
local N = tonumber(arg[1]) or 1000000
local yield = coroutine.yield
local co = coroutine.create(function() while true do yield() end end)
local resume = coroutine.resume
for _ = 1, N do resume(co) end
