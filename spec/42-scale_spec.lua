-- Scale and depth: memory stays flat over many fork/join and sleep/wake
-- cycles (the full 1,000,000-cycle figures come from bench/scale.lua), and
-- chains of 10,000 nested joins (and 10,000 nested task.map layers) carry
-- values, errors, aborts and messages without overflowing the C stack.
-- The bugs these specs found have their regression specs in spec/regress/
-- (deep-join-chain-abort-c-stack, group-abort-beyond-lua-stack,
-- results-beyond-driver-stack).
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local pack = table.pack

-- Under AddressSanitizer the RSS also holds ASan's quarantine of freed
-- memory, so only the Lua heap is checked there.
local ASAN = (os.getenv("LD_PRELOAD") or ""):find("asan") ~= nil

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+) kB"))
end

local function lua_kb()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count")
end

-- Lua 5.4.4 (Debian 12) does not set the next cycle's target after a full
-- collection in generational mode (a bug fixed in 5.4.6), so the heap grows
-- by all the garbage made until the next full collection. The lua5.4
-- interpreter (busted's) selects generational mode; the memory specs use
-- incremental mode, Lua's own default, and restore the mode afterwards.
local function incremental(fn)
  return function()
    local previous = collectgarbage("incremental")
    local ok, err = pcall(fn)
    collectgarbage(previous)
    if not ok then error(err, 0) end
  end
end

-- Checks the checkpoints (after a warm-up quarter each): the Lua heap must
-- not grow at all (16 KB of slack), and the RSS, which also moves with
-- malloc's trimming of its heap, not by more than 8 MiB over the larger of
-- the first two (a leak of 60 bytes per cycle would pass that).
local function check_flat(points, cycles)
  local first, last = points[1], points[#points]
  local lua_growth = last.lua - first.lua
  assert(lua_growth < 16, ("the Lua heap grew by %.1f KB over %d cycles (%.1f -> %.1f KB)")
    :format(lua_growth, cycles, first.lua, last.lua))
  if not ASAN and first.rss > 0 then
    local ref = math.max(points[1].rss, points[2].rss)
    local rss_growth = last.rss - ref
    assert(rss_growth < 8192, ("the RSS grew by %d KB over %d cycles (%d -> %d KB)")
      :format(rss_growth, cycles, ref, last.rss))
  end
end

-- Runs `step` n times inside one task, measuring at 4 checkpoints.
local function flat(n, step)
  local points = {}
  for i = 1, 4 do points[i] = { lua = 0.0, rss = 0 } end
  local k = 0
  task.run(function()
    for i = 1, n do
      step()
      if i % (n // 4) == 0 then
        k = k + 1
        points[k].lua = lua_kb()
        points[k].rss = rss_kb() or 0
      end
    end
  end)
  check_flat(points, n - n // 4)
end

describe("memory at scale (manual clock, incremental GC)", function()
  local base

  before_each(function()
    task.set_clock("manual")
    task.drain()
    base = task.stats()
  end)

  after_each(function()
    task.drain()
    task.set_clock("system")
  end)

  it("200,000 fork/join cycles: the Lua heap and the RSS stay flat after warm-up", incremental(function()
    local noop = function() end
    flat(200000, function() task.join(task.fork(noop)) end)
    assert.equal(base.tasks, task.stats().tasks)
  end))

  it("200,000 sleep/wake cycles: the Lua heap and the RSS stay flat after warm-up", incremental(function()
    local t0 = task.now()
    flat(200000, function() task.sleep(1) end)
    assert.equal(200000, task.now() - t0)
    assert.equal(0, task.stats().timers)
  end))

  it("200,000 frames of a host (main + advance): the Lua heap and the RSS stay flat", incremental(function()
    local function frame_task() task.sleep(1) end
    local points = {}
    for i = 1, 4 do points[i] = { lua = 0.0, rss = 0 } end
    local n, k = 200000, 0
    for i = 1, n do
      task.main(frame_task)
      task.advance(1)
      if i % (n // 4) == 0 then
        k = k + 1
        points[k].lua = lua_kb()
        points[k].rss = rss_kb() or 0
      end
    end
    check_flat(points, n - n // 4)
    assert.equal(base.tasks, task.stats().tasks)
  end))
end)

describe("10,000-deep chains of nested joins", function()
  local DEPTH = 10000
  local base

  before_each(function()
    task.set_clock("manual")
    task.drain()
    base = task.stats()
  end)

  after_each(function()
    task.on_error(nil)
    task.drain()
    task.set_clock("system")
  end)

  -- Task i forks task i + 1 and joins it; the last one runs leaf().
  local function chain(i, leaf)
    if i == DEPTH then return leaf() end
    return task.join(task.fork(chain, i + 1, leaf))
  end

  it("a value returned by the leaf comes back up through every join", function()
    local r = pack(task.run(chain, 1, function()
      task.sleep(5)
      return "leaf", 2, nil
    end))
    assert.same({ n = 3, "leaf", 2, nil }, r)
    assert.equal(base.tasks, task.stats().tasks)
  end)

  it("an error raised by the leaf comes back up with its identity (rawequal)", function()
    local E = setmetatable({}, { __tostring = function() return "E" end })
    local ok, err = pcall(task.run, chain, 1, function()
      task.sleep(5)
      error(E, 0)
    end)
    assert.is_false(ok)
    assert.is_true(rawequal(E, err))
    assert.equal(base.tasks, task.stats().tasks)
  end)

  it("abort of the root while the chain waits runs every level's <close> cleanup once, leaf first", function()
    local closed, order = {}, {}
    local function level(i)
      local _ <close> = task.defer(function(err)
        closed[i] = (closed[i] or 0) + 1
        order[#order + 1] = i
        assert(err == "stop", "level " .. i .. " closed with " .. tostring(err))
      end)
      if i == DEPTH then
        task.sleep(math.huge)
        return
      end
      return task.join(task.fork(level, i + 1))
    end
    local root = task.fork(level, 1):start()
    task.drain()  -- the whole chain is waiting
    assert.equal(base.tasks + DEPTH, task.stats().tasks)
    task.abort(root, "stop")
    local once = 0
    for i = 1, DEPTH do
      if closed[i] == 1 then once = once + 1 end
    end
    assert.equal(DEPTH, once)
    assert.equal(DEPTH, order[1])
    assert.equal(1, order[DEPTH])
    assert.same({ ok = false, error = "stop" }, root.result)
    assert.equal(base.tasks, task.stats().tasks)
  end)

  it("abort of the root from inside a task also reaches the leaf", function()
    local closed = 0
    local function level(i)
      local _ <close> = task.defer(function() closed = closed + 1 end)
      if i == DEPTH then task.suspend() return end
      return task.join(task.fork(level, i + 1))
    end
    task.run(function()
      local root = task.fork(level, 1)
      task.sleep(1)
      task.abort(root, "stop")
      assert.equal(DEPTH, closed)
      assert.same({ ok = false, error = "stop" }, root.result)
    end)
    assert.equal(base.tasks, task.stats().tasks)
  end)

  it("messages sent by the leaf reach a top-level map through 10,000 joins, in order", function()
    local got = {}
    local r = task.run(task.map(function()
      return chain(1, function()
        for k = 1, 5 do
          task.send(k)
          if k % 2 == 0 then task.sleep(1) else task.wait() end
        end
        return "done"
      end)
    end, function(m) got[#got + 1] = m end))
    assert.equal("done", r)
    assert.same({ 1, 2, 3, 4, 5 }, got)
  end)

  it("10,000 nested task.map layers each transform every message, in order", function()
    local e = function()
      for k = 1, 3 do task.send(k) end
      return "r"
    end
    for _ = 1, DEPTH do
      e = task.map(e, function(m) return m + 1 end)
    end
    local got = {}
    local r = task.run(task.map(e, function(m) got[#got + 1] = m end))
    assert.equal("r", r)
    assert.same({ DEPTH + 1, DEPTH + 2, DEPTH + 3 }, got)
    assert.equal(base.tasks, task.stats().tasks)
  end)

  it("a failing transform deep in 10,000 map layers fails the sender, and the error comes back up", function()
    local E = {}
    local e = function() task.send(1) return "unreached" end
    for i = 1, DEPTH do
      e = task.map(e, function(m)
        if i == DEPTH // 2 then error(E, 0) end
        return m
      end)
    end
    local ok, err = pcall(task.run, e)
    assert.is_false(ok)
    assert.is_true(rawequal(E, err))
    assert.equal(base.tasks, task.stats().tasks)
  end)
end)

describe("a message through more maps than the sender's Lua stack holds", function()
  -- Each map on the way keeps a slot of the sender's stack while its
  -- function runs (README, "Limits"); the sender's stack is filled here so
  -- that 2,000 maps stand for a million.
  it("raises 'message chain too long' in the sender, and nothing else breaks", function()
    local out, err, code = H.run_lua([[
      local task = require "actress"
      local filler = {}
      for i = 1, 999000 do filler[i] = false end
      local sent, why
      local e = function()
        local function with_a_full_stack(...) return pcall(task.send, 1) end
        sent, why = with_a_full_stack(table.unpack(filler))
      end
      for i = 1, 2000 do e = task.map(e, function(m) return m end) end
      local n = 0
      task.run(task.map(e, function() n = n + 1 end))
      print("send", sent, why, "delivered", n)
      assert(sent == false and why == "actress: message chain too long", tostring(why))
      assert(task.run(function() return 42 end) == 42 and task.stats().tasks == 0)
      print("OK")
    ]])
    assert(code == 0 and out:find("\nOK\n"), out .. err)
  end)
end)
