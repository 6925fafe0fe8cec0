-- spec/stress/gen.lua: the random program generator of the stress spec.
--
-- gen.generate(seed) builds a program as DATA (no functions): a tree of task
-- descriptions, each a list of operations, plus a "driver" schedule of actions
-- taken from outside any task at given manual-clock times. spec/stress/run.lua
-- interprets a program against an API (actress, or the reference model of
-- spec/stress/model.lua). The generator has its own LCG; it never touches
-- math.random, so a seed means the same program on every machine.
--
-- Program:
--   { seed, nd = number of deferreds, nid = last op id,
--     tasks = { [i] = { kind = "root"|"fork"|"spawn"|"all"|"init"|"step"|"idle"|"main",
--                       owner = i', ops = { op... } } },
--     driver = { { at = ms, op = ..., ... } ... } }   -- sorted by `at`
-- Operations (each has a unique `id`; names of values and errors derive from it):
--   sleep{ms}  send  yield_send  yield  wait
--   fork{t, how = "fork"|"spawn"}  join{t, collect}  group{ts, collect}
--   all{ts, collect}  loop{init, steps, next_err}  wait_fork{t}
--   suspend  resume{t}  wait_d{d}  resolve{d, nv}  reject{d}
--   abort{t}  exit{t, nv} (terminate when nv == 0 and id is even)  then_{t, raise_ok, raise_err}
--   try{body}  scope{body, cleanup = {send, raise, sleep, resume}}
--   error  return{nv}
-- collect: nil (plain), "pass" or "drop": the op runs under task.map, which
-- records each message on its way and passes it on or drops it.
-- Times are integers plus multiples of 1/1024, exact in doubles, so distinct
-- sleeps rarely fall due at the same instant (and when they do, the contract's
-- "in the order they were started" decides).
local gen = {}

local function new_rng(seed)
  local s = (seed * 0x9E3779B97F4A7C15) ~ 0x2545F4914F6CDD1D
  local r = {}
  local function step()
    s = s * 6364136223846793005 + 1442695040888963407  -- wraps mod 2^64
    return s >> 33  -- 31 bits
  end
  for _ = 1, 4 do step() end
  function r.int(a, b)
    return a + step() % (b - a + 1)
  end
  function r.chance(p)
    return step() % 1000000 < p * 1000000
  end
  function r.pick(t)
    return t[r.int(1, #t)]
  end
  -- weights: { { name, weight }, ... } (weight 0: excluded)
  function r.weighted(ws)
    local total = 0
    for _, w in ipairs(ws) do total = total + w[2] end
    local x = r.int(1, total)
    for _, w in ipairs(ws) do
      x = x - w[2]
      if x <= 0 then return w[1] end
    end
  end
  return r
end
gen.new_rng = new_rng

--- Builds the program of `seed`. opts.max_tasks caps the size (default 40),
--- opts.handler_raise makes the on_error handler raise for some reports.
function gen.generate(seed, opts)
  opts = opts or {}
  local r = new_rng(seed)
  local prog = { seed = seed, tasks = {}, driver = {}, nid = 0 }
  local max_tasks = opts.max_tasks or 40
  local budget = r.int(math.min(5, max_tasks), max_tasks)
  prog.nd = r.int(1, 4)
  prog.handler_raise = opts.handler_raise or nil
  local n = 0
  local todo = {}

  local function new_id()
    prog.nid = prog.nid + 1
    return prog.nid
  end

  local function new_task(kind, owner)
    n = n + 1
    prog.tasks[n] = { kind = kind, owner = owner, ops = {} }
    todo[#todo + 1] = n
    return n
  end

  -- Half the programs use coarse times (small integers), so that many timers
  -- fall due at the same instant; the others use fine ones, so that few do.
  local coarse = r.chance(0.5)
  prog.coarse = coarse or nil
  local function frac()
    if coarse then return 0 end
    return r.int(0, 1023) / 1024
  end

  local function duration()
    if r.chance(0.06) then return 0 end
    if r.chance(0.03) then return math.huge end
    if coarse then return r.int(1, 8) end
    return r.int(1, 40) + frac()
  end

  local function moment()
    if coarse then return r.int(0, 30) end
    return r.int(0, 120) + frac()
  end

  local function room(k)
    return n + k <= budget
  end

  local function subset(list)
    local out = {}
    for _, j in ipairs(list) do
      if r.chance(0.6) then out[#out + 1] = j end
    end
    if #out == 0 and #list > 0 then out[1] = r.pick(list) end
    if r.chance(0.1) then out[#out + 1] = "ANY" end
    return out
  end

  local function collect_mode()
    local x = r.int(1, 10)
    if x <= 5 then return nil end
    if x <= 8 then return "pass" end
    return "drop"
  end

  local gen_ops
  local RISKY = {
    sleep = true, join = true, group = true, all = true, loop = true, wait_fork = true,
    wait_d = true, suspend = true, abort = true, exit = true, wait = true,
  }

  -- One operation for task i (state st: its joinable children so far).
  local function gen_op(i, depth, st, ops)
    local ws = {
      { "sleep", 18 }, { "send", 12 }, { "yield_send", 4 }, { "yield", 2 }, { "wait", 3 },
      { "fork", room(1) and (10 + (40 * (budget - n)) // budget) or 0 },
      { "join", #st.mine > 0 and 9 or 1 },
      { "group", #st.mine > 0 and 4 or 0 },
      { "all", room(1) and 4 or 0 },
      { "loop", room(1) and 3 or 0 },
      { "wait_fork", 2 }, { "suspend", 5 }, { "resume", 6 },
      { "wait_d", 5 }, { "resolve", 4 }, { "reject", 3 },
      { "abort", 6 }, { "exit", 4 }, { "then_", 3 },
      { "try", depth < 3 and 6 or 0 }, { "scope", depth < 3 and 6 or 0 },
      { "error", 2 },
    }
    local kind = r.weighted(ws)
    local op = { op = kind, id = new_id() }
    if RISKY[kind] and r.chance(0.5) then  -- in a pcall of its own
      ops[#ops + 1] = { op = "try", id = new_id(), body = { op } }
    else
      ops[#ops + 1] = op
    end
    if kind == "sleep" then
      op.ms = duration()
    elseif kind == "fork" then
      local how = r.chance(0.8) and "fork" or "spawn"
      local j = new_task(how, i)
      op.t, op.how = j, how
      if how == "fork" then
        st.mine[#st.mine + 1] = j
        -- a second joiner: a new task that joins j at once, then (maybe) this
        -- one joins j too; j's messages go to the last joiner (API §2 join)
        if room(1) and r.chance(0.1) then
          local k = new_task("fork", i)
          prog.tasks[k].prefix = { { op = "join", id = new_id(), t = j, collect = r.chance(0.5) and "pass" or "drop" } }
          ops[#ops + 1] = { op = "fork", id = new_id(), t = k, how = "fork" }
          st.mine[#st.mine + 1] = k
          if r.chance(0.6) then
            ops[#ops + 1] = { op = "join", id = new_id(), t = j, collect = r.chance(0.5) and "pass" or "drop" }
          end
        end
        -- abort or exit it before it ever runs (from its parent, at once)
        if r.chance(0.1) then
          local stop = { op = r.chance(0.6) and "abort" or "exit", id = new_id(), t = j }
          if stop.op == "exit" then stop.nv = r.int(0, 2) end
          ops[#ops + 1] = stop
        end
      end
    elseif kind == "join" then
      local siblings = st.siblings or {}
      if #siblings > 0 and r.chance(0.3) then
        op.t = r.pick(siblings)  -- likely joined by the owner too
      else
        op.t = (#st.mine > 0 and r.chance(0.75)) and r.pick(st.mine) or "ANY"
      end
      op.collect = collect_mode()
    elseif kind == "group" then
      op.ts = subset(st.mine)
      op.collect = collect_mode()
    elseif kind == "all" then
      op.ts = {}
      for _ = 1, r.int(1, 3) do
        if room(1) then op.ts[#op.ts + 1] = new_task("all", i) end
      end
      op.collect = collect_mode()
    elseif kind == "loop" then
      op.init = new_task("init", i)
      op.steps = {}
      for _ = 1, r.int(0, 3) do
        if room(1) then op.steps[#op.steps + 1] = new_task("step", i) end
      end
      op.next_err = {}
      for k = 1, #op.steps + 1 do
        if r.chance(0.08) then op.next_err[k] = true end
      end
    elseif kind == "wait_fork" or kind == "resume" or kind == "then_" or kind == "abort" or kind == "exit" then
      local siblings = st.siblings or {}
      if #st.mine > 0 and r.chance(0.45) then
        op.t = r.pick(st.mine)
      elseif #siblings > 0 and r.chance(0.3) then
        op.t = r.pick(siblings)
      else
        op.t = "ANY"
      end
      if kind == "exit" then op.nv = r.int(0, 2) end
      if kind == "then_" then
        op.raise_ok = r.chance(0.25) or nil
        op.raise_err = r.chance(0.25) or nil
      end
      -- resume then stop a task that is queued
      if kind == "resume" and r.chance(0.2) then
        local stop = { op = r.chance(0.6) and "abort" or "exit", id = new_id(), t = op.t }
        if stop.op == "exit" then stop.nv = r.int(0, 2) end
        ops[#ops + 1] = stop
      end
    elseif kind == "wait_d" or kind == "resolve" or kind == "reject" then
      op.d = r.int(1, prog.nd)
      if kind == "resolve" then op.nv = r.int(0, 2) end
    elseif kind == "try" then
      op.body = gen_ops(i, depth + 1, st, r.int(1, 4))
    elseif kind == "scope" then
      op.body = gen_ops(i, depth + 1, st, r.int(0, 4))
      op.cleanup = {
        send = r.chance(0.3) or nil,
        raise = r.chance(0.2) or nil,
        sleep = r.chance(0.12) and (r.chance(0.3) and 0 or r.int(1, coarse and 5 or 20) + frac()) or nil,
        resume = r.chance(0.1) and "ANY" or nil,
      }
    end
    return kind
  end

  function gen_ops(i, depth, st, count)
    local ops = {}
    for _ = 1, count do
      local kind = gen_op(i, depth, st, ops)
      if kind == "error" then return ops end
    end
    if depth > 0 and r.chance(0.08) then
      ops[#ops + 1] = { op = "return", id = new_id(), nv = r.int(0, 2) }
    end
    return ops
  end

  -- The root, and the tasks the driver creates from outside.
  local root = new_task("root")
  if r.chance(0.7) then
    prog.driver[#prog.driver + 1] = { at = 0, op = "main", t = root }
  else
    prog.driver[#prog.driver + 1] = { at = 0, op = "idle", t = root }
    prog.driver[#prog.driver + 1] = { at = 0, op = "start", t = root }
  end
  for _ = 1, r.int(0, 2) do
    if room(1) then
      local kind = r.chance(0.5) and "idle" or "main"
      local j = new_task(kind)
      local at = moment()
      prog.driver[#prog.driver + 1] = { at = at, op = kind, t = j }
      if kind == "idle" and r.chance(0.6) then
        prog.driver[#prog.driver + 1] = { at = at + r.int(0, 60) + frac(), op = "start", t = j }
      end
    end
  end
  for _ = 1, r.int(0, 6) do
    local kind = r.pick { "abort", "abort", "exit", "resume", "resume", "resolve", "reject", "then_" }
    local ev = { at = moment(), op = kind, id = new_id() }
    if kind == "resolve" or kind == "reject" then
      ev.d = r.int(1, prog.nd)
      ev.nv = r.int(0, 2)
    else
      ev.t = "ANY"
      if kind == "exit" then ev.nv = r.int(0, 2) end
      if kind == "then_" then
        ev.raise_ok = r.chance(0.25) or nil
        ev.raise_err = r.chance(0.25) or nil
      end
    end
    prog.driver[#prog.driver + 1] = ev
  end

  -- Task bodies, breadth first, so that the budget spreads over the tree.
  local children = {}  -- task -> its fork children (joinable by their siblings)
  local k = 1
  while k <= #todo do
    local i = todo[k]
    k = k + 1
    local owner = prog.tasks[i].owner
    local st = { mine = {}, siblings = owner and children[owner] or nil }
    local ops = gen_ops(i, 0, st, r.int(2, 9))
    children[i] = st.mine
    if prog.tasks[i].prefix then
      for x = #prog.tasks[i].prefix, 1, -1 do table.insert(ops, 1, prog.tasks[i].prefix[x]) end
      prog.tasks[i].prefix = nil
    end
    local last = ops[#ops]
    if not (last and last.op == "error") then
      if r.chance(0.5) then
        ops[#ops + 1] = { op = "return", id = new_id(), nv = r.int(0, 2) }
      elseif r.chance(0.15) then
        ops[#ops + 1] = { op = "error", id = new_id() }
      end
    end
    prog.tasks[i].ops = ops
  end

  -- Targets "ANY": any task of the program (itself included).
  local function resolve_any(op)
    if op.t == "ANY" then op.t = r.int(1, n) end
    if op.ts then
      for x = 1, #op.ts do
        if op.ts[x] == "ANY" then op.ts[x] = r.int(1, n) end
      end
    end
    if op.cleanup and op.cleanup.resume == "ANY" then op.cleanup.resume = r.int(1, n) end
    if op.body then
      for _, o in ipairs(op.body) do resolve_any(o) end
    end
  end
  for i = 1, n do
    for _, op in ipairs(prog.tasks[i].ops) do resolve_any(op) end
  end
  for _, ev in ipairs(prog.driver) do resolve_any(ev) end

  -- Group members are distinct.
  local function dedup(op)
    if op.op == "group" then
      local seen, out = {}, {}
      for _, j in ipairs(op.ts) do
        if not seen[j] then seen[j] = true; out[#out + 1] = j end
      end
      op.ts = out
    end
    if op.body then
      for _, o in ipairs(op.body) do dedup(o) end
    end
  end
  for i = 1, n do
    for _, op in ipairs(prog.tasks[i].ops) do dedup(op) end
  end

  gen.sort_driver(prog)
  return prog
end

--- Sorts the driver schedule by time, keeping the order of equal times.
function gen.sort_driver(prog)
  for x, ev in ipairs(prog.driver) do ev.ord = ev.ord or x end
  table.sort(prog.driver, function(a, b)
    if a.at ~= b.at then return a.at < b.at end
    return a.ord < b.ord
  end)
  for x, ev in ipairs(prog.driver) do ev.ord = x end
end

--- Counts the operations of a program (all levels, driver included).
function gen.count_ops(prog)
  local c = #prog.driver
  local function walk(ops)
    for _, op in ipairs(ops) do
      c = c + 1
      if op.body then walk(op.body) end
    end
  end
  for _, t in pairs(prog.tasks) do walk(t.ops) end
  return c
end

return gen
