-- examples/quickstart.lua: the example of API.md, runnable.
-- Two workers sleep, send a message and return their name; main joins both.
-- Run from the repository root after building (see README.md).
local task = require "actress"

local function worker(name, delay_ms)
  task.sleep(delay_ms)
  task.send("done:" .. name)
  return name
end

local function main()
  local a = task.fork(worker, "a", 10)
  local b = task.fork(worker, "b", 5)
  return { task.join(a), task.join(b) }
end

local result = task.run(main)   -- { "a", "b" }
print("result: " .. table.concat(result, " "))
