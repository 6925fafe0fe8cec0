-- spec/stress/model.lua: the reference model of the stress spec.
--
-- A small task runtime in plain Lua that follows the contract (API.md) and the
-- README's "Decisions", written from them, not from the C core. It offers the
-- part of the actress API that spec/stress/run.lua uses, with the same shape,
-- so the interpreter runs one random program against actress and against this
-- model, and the spec compares what each run observed. Every run of the model is
-- deterministic: one FIFO run queue, timers in (deadline, start order), the
-- manual clock only. Where the contract fixes an order, the model follows it:
--   * a fork runs once its creator suspends or yields (it is queued last);
--   * wait() and wait(settled awaitable) let every task already queued run first;
--   * abort resumes its target at once (before abort returns), after passing
--     the abort on to the members of its join/group/all, so their cleanup is
--     complete first; exit closes the target's body at once, without suspending;
--   * a failing member of a group (join, all, loop) queues the owner with the
--     error, then aborts the other members still running;
--   * timers due at the same time fire in the order they were started, and
--     advance/drain run every task that a due timer wakes before the next one;
--   * messages go synchronously to the last joiner that pipes them (join, group,
--     all, map, loop; not wait), through task.map's function on their way;
--   * callbacks (Fork then_, on_error) run outside any task; an error in the
--     error handler goes to the default handler, which the model records in
--     model.default_reports (the real default handler prints to stderr).
-- stats() counts from the states of all forks (not incrementally), as the
-- contract defines the numbers.
local model = {}

local pack, unpack = table.pack, table.unpack

-- What an operation of the model yields to the model's scheduler.
local SUSPENDED = setmetatable({}, { __tostring = function() return "model.SUSPENDED" end })
-- On the running chain while a callback runs outside any task.
local OUTSIDE = setmetatable({}, { __tostring = function() return "model.OUTSIDE" end })

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

local function remove_value(list, v)
  for k = 1, #list do
    if list[k] == v then
      table.remove(list, k)
      return
    end
  end
end

local function noop() end

-- {== Deferred: first call wins; callbacks run at settling (or at once). ==}
local Deferred = { __name = "model.Deferred" }
Deferred.__index = Deferred

local function settle_deferred(d, status, vals)
  if d.status ~= "pending" then return false end
  d.status, d.vals = status, vals
  local cbs = d.cbs
  d.cbs = nil
  local first
  for _, cb in ipairs(cbs) do
    local ok, e = pcall(cb[status == "resolved" and 1 or 2], unpack(vals, 1, vals.n))
    if not ok and first == nil then first = e end
  end
  if first ~= nil then error(first, 0) end
  return true
end

function Deferred:resolve(...)
  return settle_deferred(self, "resolved", pack(...))
end

function Deferred:reject(e)
  return settle_deferred(self, "rejected", pack(e))
end

function Deferred:then_(on_ok, on_err)
  local cb = { on_ok or noop, on_err or noop }
  if self.status == "pending" then
    self.cbs[#self.cbs + 1] = cb
  else
    cb[self.status == "resolved" and 1 or 2](unpack(self.vals, 1, self.vals.n))
  end
  return self
end

--- A fresh model runtime: a table with the API that run.lua uses.
function model.new()
  local M = { model = true, default_reports = {} }
  local now = 0
  local timer_seq = 0
  local next_id = 0
  local forks = {}
  local queue, qhead, qtail, nready = {}, 1, 0, 0
  local timers = {}
  local chain = {}
  local handler = nil
  local driving = false

  local Fork = { __name = "model.Fork" }
  Fork.__index = Fork
  Fork.__tostring = function(f)
    return ("Fork %d %q (%s)"):format(f.id, f.name, f.status)
  end
  M.Fork = Fork

  local resume_task, abort_fork

  local function newfork(fn, ...)
    next_id = next_id + 1
    local f = setmetatable({
      id = next_id, name = "", status = "idle", state = "idle",
      body = fn, args = pack(...),
      waiters = {}, members = {}, npending = 0, qgen = 0, await_seq = 0,
    }, Fork)
    forks[#forks + 1] = f
    return f
  end

  -- The task whose body is running on this coroutine, if any.
  local function running()
    local f = chain[#chain]
    if f ~= nil and f ~= OUTSIDE and f.co == coroutine.running() then return f end
    return nil
  end

  local function self_task(op)
    local f = running()
    if not f then error("actress: " .. op .. " must be called from inside a task", 0) end
    return f
  end

  local function self_suspend(op)
    local f = self_task(op)
    if f.state == "closing" then
      error("actress: " .. op .. " cannot suspend a task that is exiting", 0)
    end
    return f
  end

  -- {== run queue and timers ==}
  local function enqueue(f)
    f.state = "queued"
    f.qgen = f.qgen + 1
    qtail = qtail + 1
    queue[qtail] = { f, f.qgen }
    nready = nready + 1
  end

  local function dequeue(f)  -- out of the middle of the queue
    f.qgen = f.qgen + 1
    nready = nready - 1
  end

  local function pop_ready()
    while qhead <= qtail do
      local e = queue[qhead]
      queue[qhead] = nil
      qhead = qhead + 1
      local f = e[1]
      if f.qgen == e[2] and f.state == "queued" then
        f.qgen = f.qgen + 1
        nready = nready - 1
        return f
      end
    end
    return nil
  end

  local function add_timer(f, ms)
    timer_seq = timer_seq + 1
    local t = { deadline = now + ms, seq = timer_seq, f = f }
    f.timer = t
    timers[#timers + 1] = t
  end

  local function remove_timer(f)
    local t = f.timer
    if t then
      f.timer = nil
      remove_value(timers, t)
    end
  end

  local function next_timer()
    local best
    for _, t in ipairs(timers) do
      if not best or t.deadline < best.deadline
        or (t.deadline == best.deadline and t.seq < best.seq) then
        best = t
      end
    end
    return best
  end

  local function fire_due(at)
    local n = 0
    while true do
      local t = next_timer()
      if not t or t.deadline > at then return n end
      remove_timer(t.f)
      enqueue(t.f)
      n = n + 1
    end
  end

  -- {== suspending ==}
  -- Called on f's coroutine: waits in `wait` until the scheduler resumes f;
  -- raises the error of an abort (or of a failed member).
  local function block(f, wait, queued)
    if not queued then
      f.state = "waiting"
    end
    f.wait = wait
    coroutine.yield(SUSPENDED)
    local w = f.wake
    f.wake = nil
    if w ~= nil and w.raise then error(w.err, 0) end
  end

  local function turn(f)
    enqueue(f)
    block(f, "turn", true)
  end

  -- {== links: owner waits for member ==}
  local function link(owner, member)
    local l = { owner = owner, member = member }
    member.waiters[#member.waiters + 1] = l
    owner.members[#owner.members + 1] = l
    owner.npending = owner.npending + 1
  end

  -- Unlinks owner from its members; with `collect`, returns the unfinished ones.
  local function unlink_members(owner, collect)
    local ms = {}
    for _, l in ipairs(owner.members) do
      remove_value(l.member.waiters, l)
      if collect and l.member.state ~= "finished" then ms[#ms + 1] = l.member end
    end
    owner.members = {}
    owner.npending = 0
    owner.pipes, owner.failfast, owner.transform = false, false, nil
    return ms
  end

  local function start(f)
    f.live = true
    f.status = "active"
    enqueue(f)
  end

  local function report(err, f)
    chain[#chain + 1] = OUTSIDE
    local ok, e
    if handler then
      ok, e = pcall(handler, err, f)
    else
      ok, e = false, err
    end
    if not ok then M.default_reports[#M.default_reports + 1] = { err = e, fork = f } end
    chain[#chain] = nil
  end

  local function fail_owner(owner, err)
    local ms = unlink_members(owner, true)
    owner.wake = { raise = true, err = err }
    enqueue(owner)
    for _, m in ipairs(ms) do abort_fork(m, err) end
  end

  -- f finished: ok with its values, or failed with the error.
  local function settle(f, ok, ...)
    f.state, f.status, f.wait, f.co = "finished", "finished", nil, nil
    f.live = false
    local err
    if ok then
      f.values = pack(...)
      f.result = { ok = true, value = (...) }
    else
      err = (...)
      f.result = { ok = false, error = err }
    end
    while #f.waiters > 0 do
      local l = table.remove(f.waiters, 1)
      local owner = l.owner
      remove_value(owner.members, l)
      owner.npending = owner.npending - 1
      if not ok and owner.failfast then
        fail_owner(owner, err)
      elseif owner.npending == 0 and owner.state == "waiting" then
        unlink_members(owner, false)
        enqueue(owner)
      end
    end
    if not ok and f.report then report(err, f) end
  end

  local function settle_unstarted(f, ok, ...)
    if f.state == "queued" then dequeue(f) end
    f.started = true
    f.body, f.args = nil, nil
    settle(f, ok, ...)
  end

  -- Raises err in f at the next Lua instruction it runs (a task stopped in a
  -- raw coroutine.yield(), where no operation of ours can raise it).
  local function arm_hook(f, err)
    local co = f.co
    debug.sethook(co, function()
      debug.sethook(co)
      error(err, 0)
    end, "", 1)
  end

  -- Message m from `from`, up the chain of last piping joiners. In a cycle of
  -- joins (A joins B, B is in a group of A) the chain has no end: the message
  -- stops before it comes back to a task it passed (the sender included), so
  -- that no task receives it twice (README, "Decisions").
  local function route(from, m)
    local seen = { [from] = true }
    while true do
      local to
      for k = #from.waiters, 1, -1 do
        local o = from.waiters[k].owner
        if o.pipes then
          to = o
          break
        end
      end
      if not to then return end
      if seen[to] then return end
      seen[to] = true
      if to.transform then
        m = to.transform(m)
        if m == nil then return end
      end
      from = to
    end
  end

  function resume_task(f)
    local args = { n = 0 }
    if not f.started then
      f.started = true
      local body = f.body
      f.co = coroutine.create(function(...) return pcall(body, ...) end)
      args = f.args
      f.body, f.args = nil, nil
    end
    local co = f.co
    chain[#chain + 1] = f
    f.state, f.wait = "running", nil
    local r = pack(coroutine.resume(co, unpack(args, 1, args.n)))
    while coroutine.status(co) ~= "dead" and r[2] ~= SUSPENDED do
      -- a raw coroutine.yield(...) of the body
      if r.n == 1 then  -- yield(): as wait()
        f.wait = "raw"
        enqueue(f)
        break
      end
      local ok, err = pcall(route, f, r[2])  -- yield(v): send(v)
      if not ok then arm_hook(f, err) end
      f.state, f.wait = "running", nil
      r = pack(coroutine.resume(co))
    end
    chain[#chain] = nil
    if coroutine.status(co) == "dead" then
      if r[1] then
        settle(f, r[2], unpack(r, 3, r.n))
      else
        settle(f, false, r[2])
      end
    end
  end

  -- Takes f out of what it waits in. With `collect`, returns the members of
  -- its join/group/all still running (an abort is passed on to them).
  local function detach(f, collect)
    if f.state == "queued" then dequeue(f) end
    remove_timer(f)
    local ms = unlink_members(f, collect and f.pipes)
    f.await_seq = f.await_seq + 1
    f.settled, f.wake = nil, nil
    if f.wait == "raw" then debug.sethook(f.co) end
    return ms
  end

  local function abortable(f)
    local st = f.state
    return st ~= "finished" and st ~= "running" and st ~= "closing" and st ~= "aborting"
  end

  -- A task waiting in a join, group or all that is aborted passes the abort
  -- on to the members still running (API §2), and "a failed task's cleanup is
  -- complete before its joiner sees the error". The model does it as the core
  -- does since commits a792d03 and 71be8bb (the contract is silent on the
  -- details): the whole tree under f is taken out of what it waits in first,
  -- breadth first, each task held "aborting" (a cycle of joins ends there);
  -- then each is resumed with the error, from the last one taken, so members
  -- before their owners.
  --   An abort or exit that reaches a task held so (from a member's cleanup or
  -- pcall handler, or a group that fails meanwhile) leaves it be in the core:
  -- it gets the first abort's error. Whether that second abort should rather
  -- raise its own error (abort "raises err in f") the contract does not say,
  -- so the model marks the run ambiguous (M.ambiguous), and the spec checks
  -- only the universal invariants of such a run.
  local function held(f, what)
    M.ambiguous = M.ambiguous or ("%s reaches %s while an abort holds it"):format(what,
      f.name ~= "" and f.name or ("fork " .. f.id))
  end

  function abort_fork(f, err)
    if f.state == "aborting" then return held(f, "an abort") end
    if not abortable(f) then return end
    if not f.started then
      settle_unstarted(f, false, err)
      return
    end
    local tree, k = { f }, 1
    while k <= #tree do
      local g = tree[k]
      if not abortable(g) then
        tree[k] = false
      elseif not g.started then
        settle_unstarted(g, false, err)
        tree[k] = false
      else
        g.raw = g.wait == "raw"
        for _, m in ipairs(detach(g, true)) do tree[#tree + 1] = m end
        g.state, g.wait = "aborting", nil
      end
      k = k + 1
    end
    for x = #tree, 1, -1 do
      local g = tree[x]
      if g and g.state == "aborting" then
        if g.raw then
          arm_hook(g, err)
        else
          g.wake = { raise = true, err = err }
        end
        g.raw = nil
        resume_task(g)
      end
    end
  end

  local function exit_fork(f, ...)
    if f.state == "aborting" then return held(f, "an exit") end
    if not abortable(f) then return end
    if not f.started then
      settle_unstarted(f, true, ...)
      return
    end
    detach(f, false)
    f.state, f.wait = "closing", nil
    chain[#chain + 1] = f
    local ok, err = coroutine.close(f.co)
    chain[#chain] = nil
    if ok then
      settle(f, true, ...)
    else
      settle(f, false, err)
    end
  end

  local function results(m)
    if m.result.ok then return unpack(m.values, 1, m.values.n) end
    error(m.result.error, 0)
  end

  local function isfork(v)
    return getmetatable(v) == Fork
  end

  local function check_stoppable(f, op, instead)
    if f.state == "running" or f.state == "closing" then
      error("actress: " .. op .. " cannot stop the running task (or a task resuming it): "
        .. instead .. " instead", 0)
    end
  end

  -- {== the API ==}
  function M.current()
    return self_task("current")
  end

  function M.fork(fn, ...)
    local f = newfork(fn, ...)
    if running() then start(f) end
    return f
  end

  local function detached(fn, ...)
    local f = newfork(fn, ...)
    f.report, f.live, f.status = true, true, "active"
    if running() then
      enqueue(f)
    else
      resume_task(f)
    end
  end
  M.spawn = detached
  M.main = detached

  function M.start(f)
    if f.state == "idle" then start(f) end
    return f
  end

  function M.suspend()
    block(self_suspend("suspend"), "suspend")
  end

  function M.resume(f)
    if f.state == "waiting" and f.wait == "suspend" then enqueue(f) end
  end

  function M.sleep(ms)
    local f = self_suspend("sleep")
    ms = ms or 0
    if ms < math.huge then add_timer(f, ms) end
    block(f, "sleep")
  end

  function M.send(m)
    route(self_task("send"), m)
  end

  local function await(f, v)
    f.await_seq = f.await_seq + 1
    local my = f.await_seq
    f.settled = nil
    local function cb(ok)
      return function(...)
        if f.state == "finished" or f.wait ~= "await" or f.await_seq ~= my or f.settled then
          return
        end
        f.settled = { ok = ok, vals = pack(...) }
        if f.state == "waiting" then enqueue(f) end
      end
    end
    f.wait = "await"
    local ok, e = pcall(v.then_, v, cb(true), cb(false))
    if not ok then
      f.wait = nil
      f.await_seq = f.await_seq + 1
      error(e, 0)
    end
    if f.settled then
      turn(f)
    else
      block(f, "await")
    end
    local s = f.settled
    f.settled = nil
    if s.ok then return unpack(s.vals, 1, s.vals.n) end
    error(s.vals[1], 0)
  end

  function M.wait(...)
    local f = self_suspend("wait")
    if select("#", ...) == 0 then
      turn(f)
      return
    end
    local v = ...
    if isfork(v) then
      if v == f then error("actress: a task cannot wait for itself", 0) end
      if v.state == "finished" then
        turn(f)
        return results(v)
      end
      if v.state == "idle" then start(v) end
      f.failfast = true  -- but its messages do not flow here
      link(f, v)
      block(f, "members")
      return results(v)
    end
    if (type(v) == "table" or type(v) == "userdata") and callable(v.then_) then
      return await(f, v)
    end
    turn(f)
    return v
  end

  function M.join(m)
    local f = self_task("join")
    if m == f then error("actress: a task cannot join itself", 0) end
    if m.state == "finished" then return results(m) end
    self_suspend("join")
    if m.state == "idle" then start(m) end
    f.pipes, f.failfast = true, true
    link(f, m)
    block(f, "members")
    return results(m)
  end

  local function join_members(ms, op, transform)
    local f = self_task(op)
    for _, m in ipairs(ms) do
      if m == f then error("actress: a task cannot join itself", 0) end
    end
    for _, m in ipairs(ms) do
      if m.state == "finished" and not m.result.ok then
        -- a member failed before the call: the others are aborted
        local err = m.result.error
        for _, o in ipairs(ms) do
          if o.state == "idle" then o.live = true end
          abort_fork(o, err)
        end
        error(err, 0)
      end
    end
    self_suspend(op)
    for _, m in ipairs(ms) do
      if m.state ~= "finished" then
        if m.state == "idle" then start(m) end
        link(f, m)
      end
    end
    if f.npending == 0 then return end
    f.pipes, f.failfast = true, true
    f.transform = transform
    block(f, "members")
  end

  function M.group(ms)
    join_members(ms, "group")
  end

  -- A group whose members' messages pass through fn (task.map, task.loop).
  local function gather(ms, fn)
    join_members(ms, "gather", fn)
  end

  -- m becomes a member of the group `owner` waits in.
  local function adopt(owner, m)
    if owner.state ~= "waiting" or owner.wait ~= "members" or not owner.pipes then
      error("actress: adopt: the owner is not waiting in a group", 0)
    end
    if m.state == "finished" then
      if m.result.ok then return end
      error("actress: adopt: the fork has failed already", 0)
    end
    if m.state == "idle" then start(m) end
    link(owner, m)
  end

  function M.all(ts)
    self_task("all")
    local fs = {}
    for k, t in ipairs(ts) do fs[k] = M.fork(t) end
    M.group(fs)
    local out = {}
    for k, f in ipairs(fs) do out[k] = (M.join(f)) end
    return out
  end

  function M.abort(f, err)
    assert(err ~= nil, "model: abort needs an error")
    check_stoppable(f, "abort", "raise an error")
    if f.state == "idle" then f.live = true end
    abort_fork(f, err)
  end

  function M.exit(f, ...)
    check_stoppable(f, "exit", "return")
    if f.state == "idle" then f.live = true end
    exit_fork(f, ...)
  end

  function M.terminate(f)
    M.exit(f)
  end

  local Defer = {
    __name = "model.Defer",
    __close = function(self, err) self[1](err) end,
  }

  function M.defer(fn)
    return setmetatable({ fn }, Defer)
  end

  function M.deferred()
    return setmetatable({ status = "pending", cbs = {} }, Deferred)
  end

  -- fn(...) outside any task; its error goes to the error handler with f.
  local function callback(f, fn, ...)
    chain[#chain + 1] = OUTSIDE
    local ok, e = pcall(fn, ...)
    chain[#chain] = nil
    if not ok then report(e, f) end
  end

  --- f:then_(on_ok, on_err)
  function M.then_fork(f, on_ok, on_err)
    if f.state == "idle" then start(f) end
    detached(function()  -- waits for f; the callback runs outside any task
      local r = pack(pcall(M.wait, f))
      if r[1] then
        if on_ok then callback(f, on_ok, unpack(r, 2, r.n)) end
      elseif on_err then
        callback(f, on_err, r[2])
      end
    end)
    return f
  end

  function M.map(e, fn)
    return function(...)
      local f = M.fork(e, ...)
      gather({ f }, fn)
      return M.join(f)
    end
  end

  function M.loop(init, next)
    local function step(m)
      local e = next(m)
      if e ~= nil and callable(e) then return e() end
    end
    return function()
      local owner = M.current()
      gather({ M.fork(init) }, function(m)
        adopt(owner, M.fork(step, m))
        return nil
      end)
    end
  end

  function M.on_error(fn)
    local prev = handler
    handler = fn
    return prev
  end

  -- {== driving ==}
  local function begin_driving(op)
    if running() then error("actress: " .. op .. " cannot be called from inside a task", 0) end
    if driving then error("actress: " .. op .. " cannot be called while the loop is being driven", 0) end
    driving = true
  end

  local function run_ready(target)
    while nready > 0 do
      if target and target.state == "finished" then return end
      local f = pop_ready()
      if not f then break end
      resume_task(f)
    end
  end

  local function drive(target)
    while true do
      run_ready(target)
      if target and target.state == "finished" then return end
      if fire_due(now) == 0 then
        local t = next_timer()
        if not t then
          if target then error("actress: the task can never finish", 0) end
          return
        end
        if t.deadline > now then now = t.deadline end
      end
    end
  end

  local function driven(op, fn, ...)
    begin_driving(op)
    local r = pack(pcall(fn, ...))
    driving = false
    if not r[1] then error(r[2], 0) end
    return unpack(r, 2, r.n)
  end

  function M.advance(ms)
    driven("advance", function()
      local target = now + ms
      run_ready()
      while true do
        local t = next_timer()
        if not t or t.deadline > target then break end
        if t.deadline > now then now = t.deadline end
        fire_due(now)
        run_ready()
      end
      if target > now then now = target end
      fire_due(now)
    end)
  end

  function M.drain()
    driven("drain", drive)
  end

  function M.run(fn, ...)
    local f = newfork(fn, ...)
    return driven("run", function()
      start(f)
      drive(f)
      return results(f)
    end)
  end

  function M.now()
    return now
  end

  function M.set_clock(mode)
    assert(mode == "manual", "model: the manual clock only")
    if #timers > 0 then error("actress: cannot switch clocks while a timer is pending", 0) end
    now = 0
  end

  function M.stats()
    local live, ready, waiting = 0, 0, 0
    for _, f in ipairs(forks) do
      if f.live then live = live + 1 end
      if f.state == "queued" then
        ready = ready + 1
      elseif f.state == "waiting" then
        waiting = waiting + 1
      end
    end
    return { tasks = live, ready = ready, suspended = waiting, timers = #timers }
  end

  -- Field access, as Fork fields are read in actress.
  function M.status(f) return f.status end
  function M.result(f) return f.result end
  function M.set_name(f, name) f.name = name end
  function M.is_fork(v) return isfork(v) end

  return M
end

return model
