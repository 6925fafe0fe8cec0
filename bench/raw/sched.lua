-- bench/raw/sched.lua: the floor an interpreted scheduler can reach. A
-- minimal FIFO of coroutines written plainly in Lua 5.4: a task is a
-- table holding its coroutine; fork pushes it on the run queue, join,
-- suspend and sleep yield it, resume and timers push it back. Timers are
-- luv (libuv) timers, one per sleeping task. No error handling beyond
-- what the workloads need, no abort, no pooling: the benchmarks' peer,
-- not a library.

local uv = require "luv"

local create, resume, yield, status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status

local sched = {}

local queue, head, tail = {}, 1, 0 -- the run queue: queue[head..tail]
local current                      -- the task record now running

local function push(t)
  tail = tail + 1
  queue[tail] = t
end

--- Schedules fn(arg) as a new task (one argument: this is the floor);
-- returns its record, which is also the handle for join and resume.
function sched.fork(fn, arg)
  local t = { co = create(fn), arg = arg }
  push(t)
  return t
end

-- Runs t until it yields or returns; a finished task wakes its joiner.
local function step(t)
  current = t
  local ok, v = resume(t.co, t.arg)
  current = nil
  if status(t.co) == "dead" then
    if not ok then error(v, 0) end -- a failing task stops the benchmark
    t.done, t.value = true, v
    local w = t.waiter
    if w then push(w) end
  end
end

--- Forks fn(arg) and runs the queue and the luv loop until it finishes;
-- returns its results.
function sched.run(fn, arg)
  local main = sched.fork(function(a) return table.pack(fn(a)) end, arg)
  while true do
    while head <= tail do
      local t = queue[head]
      queue[head] = nil
      head = head + 1
      step(t)
    end
    head, tail = 1, 0
    if main.done then return table.unpack(main.value, 1, main.value.n) end
    if not uv.run("once") and head > tail then error("raw: deadlock") end
  end
end

--- The running task's record.
function sched.current() return current end

--- Waits for t to finish and returns its result; t's messages pass
-- through the joiner (into whatever receives the joiner's messages).
function sched.join(t)
  if not t.done then
    local self = current
    t.waiter, t.sink = self, self.sink
    yield()
  end
  return t.value
end

--- Suspends the running task until sched.resume(it).
function sched.suspend()
  current.suspended = true
  yield()
end

--- Queues t if it is suspended in sched.suspend(); otherwise nothing.
function sched.resume(t)
  if t.suspended then
    t.suspended = false
    push(t)
  end
end

--- Lets every task already queued run, then carries on.
function sched.wait()
  push(current)
  yield()
end

--- Sleeps ms milliseconds on a luv timer of its own.
function sched.sleep(ms)
  local t = current
  local timer = uv.new_timer()
  timer:start(ms, 0, function()
    timer:close()
    push(t)
  end)
  yield()
end

--- Emits m to the receiver of the running task's messages, if any.
function sched.send(m)
  local sink = current.sink
  if sink then sink(m) end
end

--- A task that runs e and passes on fn(m) for each message m of e (nil
-- drops it). e runs inline: a sub-task is a function call.
function sched.map(e, fn)
  return function(...)
    local t = current
    local outer = t.sink
    t.sink = function(m)
      local r = fn(m)
      if r ~= nil and outer then outer(r) end
    end
    local v = e(...)
    t.sink = outer
    return v
  end
end

--- Milliseconds on libuv's monotonic high-resolution clock.
function sched.now() return uv.hrtime() / 1e6 end

return sched
