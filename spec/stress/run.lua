-- spec/stress/run.lua: runs a program of spec/stress/gen.lua against an API
-- (actress through run.real_api(), or a model from spec/stress/model.lua) on the
-- manual clock, and records what happened.
--
-- run.execute(api, prog) returns the observations:
--   hist[i]      task i's own history: "@time what", in order (its start, each
--                operation's outcome, errors caught, cleanups, its end)
--   driver       the outcome of each action of the driver
--   recv[label]  messages seen by each receiver (a task.map around a join,
--                group or all: "c<op id>"; a loop: "l<op id>"), as "m<from>.<seq>"
--   callbacks    Fork then_ callbacks run, onerr: on_error calls
--   outcome[i]   each fork's final status and result
--   wakes        the tasks woken from sleep, in the order they ran
--   stats        stats() after each driver step, relative to the start
--   violations   universal invariants broken (independent of any model)
--   ops          how many operations ran
-- Values and errors are tables, one per name and run, so that identity can be
-- checked: norm() prints one as its name if it is the very table of that name,
-- and as "COPY:<name>" otherwise.
local run = {}

local pack, unpack = table.pack, table.unpack

local NamedMT = { __name = "stress.Named", __tostring = function(v) return "E<" .. v.name .. ">" end }
local MsgMT = { __name = "stress.Message", __tostring = function(m) return ("m%d.%d"):format(m.from, m.seq) end }

local function ftime(t)
  if t == math.huge then return "inf" end
  return ("%.4f"):format(t):gsub("%.?0+$", "")
end
run.ftime = ftime

--- The actress module, with the few helpers run.lua needs in the model's shape.
function run.real_api(task)
  local api = setmetatable({ real = true }, { __index = task })
  function api.status(f) return f.status end
  function api.result(f) return f.result end
  function api.set_name(f, name) f.name = name end
  function api.then_fork(f, on_ok, on_err) return f:then_(on_ok, on_err) end
  function api.start(f) return f:start() end
  function api.is_fork(v)
    local mt = debug.getmetatable(v)
    return mt ~= nil and mt.__name == "actress.Fork"
  end
  return api
end

-- Classifies an error raised by the runtime (a string), so that the model's
-- wording need not be the core's.
local function classify(s)
  s = s:gsub("^[^\n]-:%d+: ", "")
  if s:find("cannot stop the running task", 1, true) then return "!stop-running" end
  if s:find("cannot suspend a task that is exiting", 1, true) then return "!suspend-exiting" end
  if s:find("cannot join itself", 1, true) or s:find("cannot wait for itself", 1, true) then
    return "!self-join"
  end
  if s:find("must be called from inside a task", 1, true) then return "!outside-task" end
  return "!" .. s
end

function run.execute(api, prog, opts)
  opts = opts or {}
  local obs = {
    hist = {}, driver = {}, recv = {}, callbacks = {}, onerr = {}, outcome = {}, wakes = {},
    stats = {}, violations = {}, ops = 0, started = {}, closed = {},
    entered = {}, cleaned = {},
  }
  local H = {}                                   -- task index -> Fork
  local index = setmetatable({}, { __mode = "k" })  -- Fork -> task index
  local named = {}
  local seqs = {}
  local final = {}                               -- first result seen for each fork

  local doing = {}  -- task index -> the operation it is in (coverage only)
  local cover = {}
  obs.cover = cover
  local function count(key)
    cover[key] = (cover[key] or 0) + 1
  end

  local function violation(fmt, ...)
    if #obs.violations < 50 then obs.violations[#obs.violations + 1] = fmt:format(...) end
  end

  local function N(name)
    local v = named[name]
    if not v then
      v = setmetatable({ name = name }, NamedMT)
      named[name] = v
    end
    return v
  end

  local function norm(x)
    local tx = type(x)
    if x == nil then return "nil" end
    if tx == "string" then return classify(x) end
    if tx == "number" or tx == "boolean" then return tostring(x) end
    local mt = getmetatable(x)
    if mt == NamedMT then
      return rawequal(named[x.name], x) and x.name or ("COPY:" .. tostring(x.name))
    end
    if mt == MsgMT then return tostring(x) end
    if api.is_fork(x) then return "F" .. tostring(index[x] or "?") end
    if tx == "table" then
      local parts = {}
      for k = 1, #x do parts[k] = norm(x[k]) end
      return "{" .. table.concat(parts, ",") .. "}"
    end
    return tx
  end

  -- An error value seen anywhere: one the program raised, or a runtime
  -- error (a string).
  local function norm_err(where, e)
    local s = norm(e)
    if not (type(e) == "string" or getmetatable(e) == NamedMT) then
      violation("%s: the error is a %s (%s), not one the program raised", where, type(e), s)
    end
    return s
  end

  local function norms(r, from)
    local parts = {}
    for k = from or 1, r.n do parts[#parts + 1] = norm(r[k]) end
    return table.concat(parts, ",")
  end

  local function values(id, nv)
    local vs = {}
    for k = 1, nv or 0 do vs[k] = N(("v%d_%d"):format(id, k)) end
    return unpack(vs, 1, nv or 0)
  end

  local function hist(i, what)
    local h = obs.hist[i]
    if not h then
      h = {}
      obs.hist[i] = h
    end
    h[#h + 1] = "@" .. ftime(api.now()) .. " " .. what
  end

  local D = {}
  for k = 1, prog.nd do D[k] = api.deferred() end

  -- The result of a fork must not change once it is finished.
  local function check_final(i, f)
    local st = api.status(f)
    local res = api.result(f)
    local seen = final[i]
    if seen then
      if st ~= "finished" then
        violation("t%d: status went back from finished to %s", i, tostring(st))
      elseif type(res) ~= "table" or res.ok ~= seen.ok
        or not rawequal(res.value, seen.value) or not rawequal(res.error, seen.error) then
        violation("t%d: result changed after it finished", i)
      end
    elseif st == "finished" then
      if type(res) ~= "table" then
        violation("t%d: finished without a result", i)
      else
        for k in pairs(res) do
          if k ~= "ok" and k ~= "value" and k ~= "error" then
            violation("t%d: result has the key %s", i, tostring(k))
          end
        end
        if res.ok == true and res.error ~= nil or res.ok == false and res.error == nil
          or res.ok ~= true and res.ok ~= false then
          violation("t%d: malformed result", i)
        end
        final[i] = { ok = res.ok, value = res.value, error = res.error }
      end
    elseif res ~= nil then
      violation("t%d: %s with a result", i, tostring(st))
    end
  end

  local function receiver(label, pass, later)
    obs.recv[label] = obs.recv[label] or {}
    local seen, last = {}, {}
    return function(m)
      local list = obs.recv[label]
      list[#list + 1] = norm(m)
      if getmetatable(m) ~= MsgMT then
        violation("%s received a foreign message %s", label, norm(m))
        return nil
      end
      if seen[m] then violation("%s received %s twice", label, norm(m)) end
      seen[m] = true
      if last[m.from] and m.seq <= last[m.from] then
        violation("%s received %s after m%d.%d", label, norm(m), m.from, last[m.from])
      end
      last[m.from] = m.seq
      local f = H[m.from]
      if not later and f and api.status(f) == "finished" then
        violation("%s received %s after t%d finished", label, norm(m), m.from)
      end
      if pass then return m end
      return nil
    end
  end

  local function message(i)
    seqs[i] = (seqs[i] or 0) + 1
    return setmetatable({ from = i, seq = seqs[i] }, MsgMT)
  end

  local body, exec_block

  -- What task j is doing, for the coverage counts of abort and exit.
  local function state_of(j)
    local f = H[j]
    if not f then return "no-handle" end
    local st = api.status(f)
    if st ~= "active" then return st end
    if not obs.started[j] then return "never-started" end
    return doing[j] or "running"
  end

  local function handle(i, j)
    local f = H[j]
    if f == nil then hist(i, "skip t" .. tostring(j)) end
    return f
  end

  -- Runs fn() for op; with op.collect, under task.map with a recorder.
  local function collected(op, fn)
    if not op.collect then return fn() end
    return api.map(fn, receiver("c" .. op.id, op.collect == "pass"))()
  end

  local function then_callbacks(where, j, op)
    local function on_ok(...)
      local r = pack(...)
      obs.callbacks[#obs.callbacks + 1] = ("@%s %s then_ t%d ok %s"):format(ftime(api.now()), where, j, norms(r))
      if op.raise_ok then
        count("error in a then_ callback")
        error(N("k" .. op.id), 0)
      end
    end
    local function on_err(e)
      obs.callbacks[#obs.callbacks + 1] = ("@%s %s then_ t%d err %s"):format(ftime(api.now()), where, j,
        norm_err(where .. ": then_ t" .. j, e))
      if op.raise_err then
        count("error in a then_ callback")
        error(N("k" .. op.id), 0)
      end
    end
    return on_ok, on_err
  end

  local exec_op = {}

  -- Tasks woken by their timers, in the order they ran: timers due at the
  -- same time fire in the order they were started (API §2, sleep).
  local function woke(i, what)
    obs.wakes[#obs.wakes + 1] = ("@%s t%d %s"):format(ftime(api.now()), i, what)
  end

  function exec_op.sleep(i, op)
    api.sleep(op.ms)
    hist(i, "slept " .. op.id)
    woke(i, "slept " .. op.id)
  end

  function exec_op.send(i, op)
    local m = message(i)
    api.send(m)
    hist(i, "sent " .. tostring(m))
  end

  function exec_op.yield_send(i, op)
    local m = message(i)
    coroutine.yield(m)
    hist(i, "yielded " .. tostring(m))
  end

  function exec_op.yield(i, op)
    coroutine.yield()
    hist(i, "yielded " .. op.id)
  end

  function exec_op.wait(i, op)
    local v = N("w" .. op.id)
    local got = api.wait(v)
    if not rawequal(got, v) then violation("t%d: wait(v) returned %s", i, norm(got)) end
    hist(i, "waited " .. op.id)
  end

  function exec_op.fork(i, op)
    if op.how == "spawn" then
      api.spawn(body(op.t))
      hist(i, "spawned t" .. op.t)
    else
      local f = api.fork(body(op.t))
      if H[op.t] ~= nil then violation("t%d forked twice", op.t) end
      H[op.t], index[f] = f, op.t
      if api.status(f) ~= "active" then
        violation("t%d: a fork made in a task is %s", op.t, tostring(api.status(f)))
      end
      hist(i, "forked t" .. op.t)
    end
  end

  local joiners = {}  -- task index -> how many joins wait for it now
  function exec_op.join(i, op)
    local f = handle(i, op.t)
    if not f then return end
    if api.status(f) ~= "finished" then
      if (joiners[op.t] or 0) > 0 then count("join of a fork joined by another task") end
      joiners[op.t] = (joiners[op.t] or 0) + 1
    end
    local r = pack(pcall(collected, op, function() return api.join(f) end))
    if joiners[op.t] then joiners[op.t] = joiners[op.t] - 1 end
    if r[1] then
      local res = api.result(f)
      if api.status(f) ~= "finished" or type(res) ~= "table" or not res.ok then
        violation("t%d: join(t%d) returned but it has not succeeded", i, op.t)
      elseif not rawequal(res.value, r[2]) then
        violation("t%d: join(t%d) returned %s, its result is %s", i, op.t, norm(r[2]), norm(res.value))
      end
      hist(i, ("joined t%d: %s"):format(op.t, norms(r, 2)))
    else
      hist(i, ("join t%d raised %s"):format(op.t, norm_err("t" .. i .. ": join", r[2])))
      error(r[2], 0)
    end
  end

  function exec_op.group(i, op)
    local fs = {}
    for _, j in ipairs(op.ts) do
      if H[j] then fs[#fs + 1] = H[j] end
    end
    collected(op, function() return api.group(fs) end)
    for _, f in ipairs(fs) do
      if api.status(f) ~= "finished" then
        violation("t%d: group returned with t%s %s", i, tostring(index[f]), api.status(f))
      end
    end
    hist(i, "grouped " .. op.id)
  end

  function exec_op.all(i, op)
    local fns = {}
    for k, j in ipairs(op.ts) do fns[k] = body(j) end
    local out = collected(op, function() return api.all(fns) end)
    for k, j in ipairs(op.ts) do
      local f = H[j]
      local res = f and api.result(f)
      if not (res and res.ok and rawequal(res.value, out[k])) then
        violation("t%d: all: result %d is %s, t%d has %s", i, k, norm(out[k]), j, res and norm(res.value) or "none")
      end
    end
    hist(i, "all " .. op.id .. ": " .. norm(out))
  end

  function exec_op.loop(i, op)
    local n = 0
    local label = "l" .. op.id
    local rec = receiver(label, false, true)  -- next(m) runs later, in the new member
    local function next(m)
      n = n + 1
      rec(m)
      if op.next_err[n] then
        count("error in a loop step")
        error(N(("n%d_%d"):format(op.id, n)), 0)
      end
      local k = op.steps[n]
      if k then return body(k) end
      return nil
    end
    api.loop(body(op.init), next)()
    hist(i, "looped " .. op.id)
  end

  function exec_op.wait_fork(i, op)
    local f = handle(i, op.t)
    if not f then return end
    local r = pack(api.wait(f))
    hist(i, ("waited t%d: %s"):format(op.t, norms(r)))
  end

  function exec_op.suspend(i, op)
    api.suspend()
    hist(i, "resumed " .. op.id)
  end

  function exec_op.resume(i, op)
    local f = handle(i, op.t)
    if not f then return end
    api.resume(f)
    hist(i, "resume t" .. op.t)
  end

  function exec_op.wait_d(i, op)
    local r = pack(api.wait(D[op.d]))
    hist(i, ("waited d%d: %s"):format(op.d, norms(r)))
  end

  function exec_op.resolve(i, op)
    local ok = D[op.d]:resolve(values(op.id, op.nv))
    hist(i, ("resolve d%d: %s"):format(op.d, tostring(ok)))
  end

  function exec_op.reject(i, op)
    local ok = D[op.d]:reject(N("r" .. op.id))
    hist(i, ("reject d%d: %s"):format(op.d, tostring(ok)))
  end

  function exec_op.abort(i, op)
    local f = handle(i, op.t)
    if not f then return end
    count("abort " .. state_of(op.t))
    api.abort(f, N("a" .. op.id))
    hist(i, "aborted t" .. op.t)
  end

  function exec_op.exit(i, op)
    local f = handle(i, op.t)
    if not f then return end
    count("exit " .. state_of(op.t))
    if op.nv == 0 and op.id % 2 == 0 then
      api.terminate(f)  -- exit(f) with no values
    else
      api.exit(f, values(op.id, op.nv))
    end
    hist(i, "exited t" .. op.t)
  end

  function exec_op.then_(i, op)
    local f = handle(i, op.t)
    if not f then return end
    local r = api.then_fork(f, then_callbacks("t" .. i, op.t, op))
    if not rawequal(r, f) then violation("t%d: then_ did not return its fork", i) end
    hist(i, "then_ t" .. op.t)
  end

  function exec_op.error(i, op)
    if prog.tasks[i].kind == "step" then count("error in a loop step") end
    error(N("e" .. op.id), 0)
  end

  local function cleanup(i, op, err)
    local c = op.cleanup
    obs.cleaned[op.id] = (obs.cleaned[op.id] or 0) + 1
    count(err == nil and "cleanup on return or exit" or "cleanup on error or abort")
    doing[i] = "cleanup"
    hist(i, ("cleanup %d: %s"):format(op.id, err == nil and "nil" or norm_err("t" .. i .. ": cleanup", err)))
    if c.resume and H[c.resume] then api.resume(H[c.resume]) end
    if c.sleep then
      api.sleep(c.sleep)
      hist(i, ("cleanup %d slept"):format(op.id))
      woke(i, ("cleanup %d slept"):format(op.id))
    end
    if c.send then
      local m = message(i)
      api.send(m)
      hist(i, ("cleanup %d sent %s"):format(op.id, tostring(m)))
    end
    if c.raise then
      count("error in a cleanup")
      error(N("c" .. op.id), 0)
    end
  end

  -- Runs the ops; returns true, values... if a `return` ran, false otherwise.
  function exec_block(i, ops)
    for _, op in ipairs(ops) do
      obs.ops = obs.ops + 1
      local kind = op.op
      if kind == "return" then
        hist(i, "return " .. op.id)
        return true, values(op.id, op.nv)
      elseif kind == "try" then
        local r = pack(pcall(exec_block, i, op.body))
        if r[1] then
          if r[2] then return unpack(r, 2, r.n) end
        else
          hist(i, ("caught %s"):format(norm_err("t" .. i .. ": pcall", r[2])))
        end
      elseif kind == "scope" then
        obs.entered[op.id] = i
        local r = pack((function()
          local _ <close> = api.defer(function(err) cleanup(i, op, err) end)
          return exec_block(i, op.body)
        end)())
        if r[1] then return unpack(r, 1, r.n) end
      else
        count("op " .. kind)
        doing[i] = kind
        exec_op[kind](i, op)
        doing[i] = nil
      end
    end
    return false
  end

  -- The body of task i (a fresh function each time, as tasks are values).
  function body(i)
    return function()
      local f = api.current()
      if H[i] == nil then
        H[i], index[f] = f, i
      elseif not rawequal(H[i], f) then
        violation("t%d: current() is not its Fork", i)
      end
      api.set_name(f, "t" .. i)
      obs.started[i] = (obs.started[i] or 0) + 1
      if obs.started[i] > 1 then violation("t%d started %d times", i, obs.started[i]) end
      hist(i, "start")
      local _ <close> = api.defer(function(err)
        obs.closed[i] = (obs.closed[i] or 0) + 1
        hist(i, "end " .. (err == nil and "nil" or norm_err("t" .. i .. ": its body's cleanup", err)))
      end)
      local r = pack(exec_block(i, prog.tasks[i].ops))
      if r[1] then return unpack(r, 2, r.n) end
    end
  end

  local default = api.on_error(function(err, f)
    local i = index[f]
    obs.onerr[#obs.onerr + 1] = ("@%s t%s %s"):format(ftime(api.now()), tostring(i or "?"), norm_err("on_error", err))
    count("on_error call")
    if prog.handler_raise and i and (i + #norm(err)) % 2 == 0 then
      count("error in on_error")
      error(N(("h%s_%s"):format(tostring(i), norm(err))), 0)
    end
  end)

  local function snapshot(what)
    local s = api.stats()
    obs.stats[#obs.stats + 1] = ("%s: tasks %d ready %d suspended %d timers %d"):format(
      what, s.tasks - (opts.base_tasks or 0), s.ready - (opts.base_ready or 0),
      s.suspended - (opts.base_suspended or 0), s.timers)
    for i, f in pairs(H) do check_final(i, f) end
  end

  -- The driver: actions from outside any task, at their times.
  local driver = {}

  function driver.main(ev) api.main(body(ev.t)) end

  function driver.idle(ev)
    local f = api.fork(body(ev.t))
    H[ev.t], index[f] = f, ev.t
    if api.status(f) ~= "idle" then violation("t%d: a fork made outside a task is %s", ev.t, api.status(f)) end
  end

  function driver.start(ev)
    if H[ev.t] then api.start(H[ev.t]) end
  end

  function driver.abort(ev)
    if H[ev.t] then
      count("abort " .. state_of(ev.t))
      api.abort(H[ev.t], N("a" .. ev.id))
    end
  end

  function driver.exit(ev)
    if H[ev.t] then
      count("exit " .. state_of(ev.t))
      if ev.nv == 0 and ev.id % 2 == 0 then
        api.terminate(H[ev.t])
      else
        api.exit(H[ev.t], values(ev.id, ev.nv))
      end
    end
  end

  function driver.resume(ev)
    if H[ev.t] then api.resume(H[ev.t]) end
  end

  function driver.resolve(ev)
    return D[ev.d]:resolve(values(ev.id, ev.nv))
  end

  function driver.reject(ev)
    return D[ev.d]:reject(N("r" .. ev.id))
  end

  function driver.then_(ev)
    if H[ev.t] then api.then_fork(H[ev.t], then_callbacks("driver", ev.t, ev)) end
  end

  local function step(what, fn, ...)
    local r = pack(pcall(fn, ...))
    obs.driver[#obs.driver + 1] = ("@%s %s: %s"):format(ftime(api.now()), what, r[1] and ("ok " .. norms(r, 2))
      or ("raised " .. norm(r[2])))
    snapshot(what)
    return r[1]
  end

  for _, ev in ipairs(prog.driver) do
    local dt = ev.at - api.now()
    if dt > 0 then step("advance to " .. ftime(ev.at), api.advance, dt) end
    step(ev.op .. " " .. tostring(ev.t or ev.d), driver[ev.op], ev)
  end
  step("drain", api.drain)

  -- Leftovers (suspended, sleeping forever, waiting for each other or for a
  -- deferred nobody settles) are aborted until every fork has finished. A task
  -- may catch the abort and suspend again, but each time in an operation of
  -- its own (or a cleanup's sleep), so there are at most that many rounds.
  local stop = N("stop")
  local ids = {}
  for i in pairs(prog.tasks) do ids[#ids + 1] = i end
  table.sort(ids)
  for round = 1, prog.nid + 6 do
    local any = false
    for _, i in ipairs(ids) do
      local f = H[i]
      if f and api.status(f) ~= "finished" then
        any = true
        local ok, e = pcall(api.abort, f, stop)
        if not ok then violation("cleanup: abort(t%d) raised %s", i, norm(e)) end
      end
    end
    if not any then break end
    step("drain " .. round, api.drain)
  end

  for i, f in pairs(H) do
    check_final(i, f)
    local res = api.result(f)
    obs.outcome[i] = api.status(f) .. " " .. (res == nil and "-" or res.ok and ("ok " .. norm(res.value))
      or ("err " .. norm_err("t" .. i .. ": result", res.error)))
    if api.status(f) ~= "finished" then violation("t%d is still %s after the cleanup", i, api.status(f)) end
  end
  for i, n in pairs(obs.started) do
    if (obs.closed[i] or 0) ~= 1 and H[i] and api.status(H[i]) == "finished" then
      violation("t%d: its body's cleanup ran %d times", i, obs.closed[i] or 0)
    end
    if n ~= 1 then violation("t%d started %d times", i, n) end
  end
  for id, i in pairs(obs.entered) do
    if (obs.cleaned[id] or 0) ~= 1 and H[i] and api.status(H[i]) == "finished" then
      violation("t%d: the cleanup of scope %d ran %d times", i, id, obs.cleaned[id] or 0)
    end
  end
  local s = api.stats()
  obs.final_stats = {
    tasks = s.tasks - (opts.base_tasks or 0), ready = s.ready - (opts.base_ready or 0),
    suspended = s.suspended - (opts.base_suspended or 0), timers = s.timers,
  }
  for k, v in pairs(obs.final_stats) do
    if v ~= 0 then violation("stats().%s is %d above the baseline at the end", k, v) end
  end

  -- A sanity task runs correctly afterwards.
  local ok, v = pcall(api.run, function()
    api.sleep(1)
    local f = api.fork(function() api.wait() return N("sane") end)
    return api.join(f)
  end)
  if not (ok and rawequal(v, N("sane"))) then
    violation("the sanity task gave %s %s", tostring(ok), norm(v))
  end
  api.on_error(default)
  return obs
end

return run
