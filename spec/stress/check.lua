-- spec/stress/check.lua: runs one program against actress and against the
-- reference model, compares what they observed, shrinks a failing program and
-- writes a reproduction script. Used by spec/40-stress_spec.lua and by the
-- reproduction scripts it writes (/tmp/actress-stress-<seed>.lua).
local gen = require "spec.stress.gen"
local model = require "spec.stress.model"
local run = require "spec.stress.run"
local H = require "spec.helpers"

local check = {}
local serialize

local task  -- actress, loaded on first use

local function real_api()
  task = task or require "actress"
  return run.real_api(task)
end

--- Runs prog against actress on the manual clock. Returns the observations
--- (obs.crash is set if the run itself raised).
function check.run_real(prog)
  local api = real_api()
  local obs
  local ok, err = pcall(task.set_clock, "manual")
  if not ok then
    return { crash = "set_clock('manual') raised before the run: " .. tostring(err), violations = {} }
  end
  local base = task.stats()
  local r = table.pack(pcall(run.execute, api, prog, {
    base_tasks = base.tasks, base_ready = base.ready, base_suspended = base.suspended,
  }))
  if r[1] then
    obs = r[2]
  else
    obs = { crash = "the run raised: " .. tostring(r[2]), violations = {} }
    pcall(task.drain)
  end
  ok, err = pcall(task.set_clock, "system")
  if not ok then
    obs.violations[#obs.violations + 1] = "set_clock('system') after the run raised: " .. tostring(err)
  end
  return obs
end

--- Runs prog against a fresh reference model.
function check.run_model(prog)
  local m = model.new()
  local r = table.pack(pcall(run.execute, m, prog))
  if not r[1] then
    return { crash = "the model raised: " .. tostring(r[2]), violations = {} }, m
  end
  r[2].default_reports = m.default_reports
  r[2].ambiguous = m.ambiguous
  return r[2], m
end

local function first_difference(a, b)
  for k = 1, math.max(#a, #b) do
    if a[k] ~= b[k] then return k end
  end
end

local function show_list(list, from, to)
  local out = {}
  for k = math.max(1, from), math.min(#list, to) do out[#out + 1] = ("      %d. %s"):format(k, list[k]) end
  if #out == 0 then return "      (nothing)" end
  return table.concat(out, "\n")
end

local function compare_lists(fails, kind, what, exp, got)
  exp, got = exp or {}, got or {}
  local k = first_difference(exp, got)
  if k then
    fails[#fails + 1] = {
      kind = kind,
      msg = ("%s differs at entry %d:\n    the model predicts:\n%s\n    actress did:\n%s"):format(
        what, k, show_list(exp, k - 3, k + 3), show_list(got, k - 3, k + 3)),
    }
  end
end

local function sorted(list)
  local c = {}
  for k, v in ipairs(list or {}) do c[k] = v end
  table.sort(c)
  return c
end

local function keys_of(a, b)
  local seen, ks = {}, {}
  for k in pairs(a or {}) do if not seen[k] then seen[k] = true; ks[#ks + 1] = k end end
  for k in pairs(b or {}) do if not seen[k] then seen[k] = true; ks[#ks + 1] = k end end
  table.sort(ks, function(x, y)
    if type(x) == type(y) then return x < y end
    return type(x) == "number"
  end)
  return ks
end

--- The failures of one comparison: { { kind = ..., msg = ... }, ... }.
function check.compare(exp, got)
  local fails = {}
  if got.crash then fails[#fails + 1] = { kind = "crash", msg = got.crash } end
  if exp.crash then fails[#fails + 1] = { kind = "model-crash", msg = exp.crash } end
  for _, v in ipairs(got.violations or {}) do
    fails[#fails + 1] = { kind = "invariant: " .. v:gsub("%d+", "#"), msg = "invariant broken: " .. v }
  end
  for _, v in ipairs(exp.violations or {}) do
    fails[#fails + 1] = { kind = "model-invariant", msg = "the model broke an invariant (a bug of the stress spec): " .. v }
  end
  if got.crash or exp.crash then return fails end
  if exp.ambiguous then return fails end  -- the contract does not fix the outcome
  for _, i in ipairs(keys_of(exp.hist, got.hist)) do
    compare_lists(fails, "differs: history", "the history of t" .. i, exp.hist[i], got.hist[i])
  end
  for _, i in ipairs(keys_of(exp.outcome, got.outcome)) do
    if exp.outcome[i] ~= got.outcome[i] then
      fails[#fails + 1] = { kind = "differs: outcome", msg = ("the outcome of t%s: the model predicts %s, actress gave %s"):format(
        i, tostring(exp.outcome[i]), tostring(got.outcome[i])) }
    end
  end
  for _, label in ipairs(keys_of(exp.recv, got.recv)) do
    compare_lists(fails, "differs: messages", "the messages received by " .. label, exp.recv[label], got.recv[label])
  end
  compare_lists(fails, "differs: callbacks", "the then_ callbacks (sorted)", sorted(exp.callbacks), sorted(got.callbacks))
  compare_lists(fails, "differs: on_error", "the on_error calls (sorted)", sorted(exp.onerr), sorted(got.onerr))
  compare_lists(fails, "differs: timer order", "the tasks woken from sleep, in the order they ran", exp.wakes, got.wakes)
  compare_lists(fails, "differs: driver", "the driver's steps", exp.driver, got.driver)
  compare_lists(fails, "differs: stats", "stats() after each driver step", exp.stats, got.stats)
  return fails
end

--- Runs prog both ways; returns the failures, the real and the model
--- observations. Where the model abstains (exp.ambiguous: it says
--- why), only the universal invariants of the actress run are checked.
function check.program(prog)
  local exp = check.run_model(prog)
  local got = check.run_real(prog)
  return check.compare(exp, got), got, exp
end

--- Does the list of failures hold one of this kind?
local function has_kind(fails, kind)
  for _, f in ipairs(fails) do
    if f.kind == kind then return true end
  end
  return false
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = copy(x) end
  return c
end

-- Every list of ops of the program (the tasks' and nested blocks'), with a
-- way to set it.
local function op_lists(prog)
  local lists = {}
  local function walk(ops)
    lists[#lists + 1] = ops
    for _, op in ipairs(ops) do
      if op.body then walk(op.body) end
    end
  end
  local ids = {}
  for i in pairs(prog.tasks) do ids[#ids + 1] = i end
  table.sort(ids)
  for _, i in ipairs(ids) do walk(prog.tasks[i].ops) end
  return lists
end

-- Task k takes the place of its creator j: j's body becomes k's, and every
-- reference to k refers to j (shortens chains of tasks that fork the next).
local function collapse(p, j, k)
  p.tasks[j].ops = p.tasks[k].ops
  p.tasks[k] = nil
  local function rename(op)
    if op.t == k then op.t = j end
    if op.init == k then op.init = j end
    for _, field in ipairs { "ts", "steps" } do
      if op[field] then
        for x = 1, #op[field] do
          if op[field][x] == k then op[field][x] = j end
        end
      end
    end
    if op.cleanup and op.cleanup.resume == k then op.cleanup.resume = j end
    if op.body then
      for _, o in ipairs(op.body) do rename(o) end
    end
  end
  for _, t in pairs(p.tasks) do
    for _, op in ipairs(t.ops) do rename(op) end
  end
  for _, ev in ipairs(p.driver) do rename(ev) end
end

-- The tasks that task j creates (fork, all, loop), at any depth of its body.
local function created_by(t)
  local out = {}
  local function walk(ops)
    for _, op in ipairs(ops) do
      if op.op == "fork" then out[#out + 1] = op.t end
      if op.op == "all" then for _, x in ipairs(op.ts) do out[#out + 1] = x end end
      if op.op == "loop" then
        out[#out + 1] = op.init
        for _, x in ipairs(op.steps) do out[#out + 1] = x end
      end
      if op.body then walk(op.body) end
    end
  end
  walk(t.ops)
  return out
end

-- Candidate simplifications of prog, each a function that edits a copy.
local function candidates(prog)
  local cands = {}
  for k = #prog.driver, 1, -1 do
    cands[#cands + 1] = function(p) table.remove(p.driver, k) end
  end
  local ids = {}
  for i in pairs(prog.tasks) do ids[#ids + 1] = i end
  table.sort(ids)
  for _, j in ipairs(ids) do
    for _, k in ipairs(created_by(prog.tasks[j])) do
      if prog.tasks[k] and k ~= j then
        cands[#cands + 1] = function(p) collapse(p, j, k) end
      end
    end
  end
  local nlists = #op_lists(prog)
  for l = nlists, 1, -1 do
    local ops = op_lists(prog)[l]
    for k = #ops, 1, -1 do
      cands[#cands + 1] = function(p) table.remove(op_lists(p)[l], k) end
      local op = ops[k]
      if op.body then  -- the block's ops in its place
        cands[#cands + 1] = function(p)
          local list = op_lists(p)[l]
          local b = table.remove(list, k)
          for x = #b.body, 1, -1 do table.insert(list, k, b.body[x]) end
        end
      end
      if op.collect then
        cands[#cands + 1] = function(p) op_lists(p)[l][k].collect = nil end
      end
      if op.cleanup then
        for _, key in ipairs { "send", "raise", "sleep", "resume" } do
          if op.cleanup[key] then
            cands[#cands + 1] = function(p) op_lists(p)[l][k].cleanup[key] = nil end
          end
        end
      end
      if op.ts and #op.ts > 1 then
        for x = #op.ts, 1, -1 do
          cands[#cands + 1] = function(p) table.remove(op_lists(p)[l][k].ts, x) end
        end
      end
      if op.steps and #op.steps > 0 then
        cands[#cands + 1] = function(p) table.remove(op_lists(p)[l][k].steps) end
      end
      if op.op == "sleep" and op.ms ~= 0 and op.ms ~= math.huge and op.ms ~= math.floor(op.ms) then
        cands[#cands + 1] = function(p) local o = op_lists(p)[l][k]; o.ms = math.floor(o.ms) end
      end
    end
  end
  return cands
end

-- Removes the tasks nothing creates any more.
local function prune(prog)
  local reach = {}
  local function mark(i)
    if reach[i] or not prog.tasks[i] then return end
    reach[i] = true
    local function walk(ops)
      for _, op in ipairs(ops) do
        if op.op == "fork" then mark(op.t) end
        if op.ts and op.op == "all" then for _, j in ipairs(op.ts) do mark(j) end end
        if op.op == "loop" then
          mark(op.init)
          for _, j in ipairs(op.steps) do mark(j) end
        end
        if op.body then walk(op.body) end
      end
    end
    walk(prog.tasks[i].ops)
  end
  for _, ev in ipairs(prog.driver) do
    if ev.op == "main" or ev.op == "idle" then mark(ev.t) end
  end
  for i in pairs(prog.tasks) do
    if not reach[i] then prog.tasks[i] = nil end
  end
end

--- Runs prog in a child interpreter (so that a crash of the core can be seen
--- and shrunk): returns its failures, a crash as the kind "signal <n>".
local shq = H.shell_quote
check.shell_quote = shq

--- A shell command that starts a Lua interpreter with this one's module
--- paths (and `root` first on them, for the spec.stress.* modules).
function check.lua_command(lua, root)
  root = root or "."
  local setup = ("package.path = %q .. package.path; package.cpath = %q .. package.cpath"):format(
    root .. "/?.lua;" .. package.path .. ";", package.cpath .. ";")
  return ("%s -e %s"):format(lua or "lua5.4", shq(setup))
end

function check.program_in_child(prog, lua)
  local file = os.tmpname()
  local fh = assert(io.open(file, "w"))
  fh:write("return ", serialize(prog), "\n")
  fh:close()
  local code = ([[
    local check = require "spec.stress.check"
    local fails = check.program(dofile(%q))
    for _, f in ipairs(fails) do io.write("KIND ", f.kind:gsub("\n", " "), "\n") end
    io.write("MSG ", fails[1] and fails[1].msg:gsub("\n", "\\n") or "", "\n")
  ]]):format(file)
  local timeout = os.execute("command -v timeout >/dev/null 2>&1") and "timeout 60 " or ""
  local p = assert(io.popen(("%s%s -e %s 2>/dev/null"):format(timeout, lua or check.lua_command(), shq(code)), "r"))
  local out = p:read("a")
  local _, how, status = p:close()
  os.remove(file)
  local fails = {}
  for kind in out:gmatch("KIND ([^\n]*)") do fails[#fails + 1] = { kind = kind, msg = kind } end
  local msg = out:match("MSG ([^\n]*)")
  if fails[1] and msg then fails[1].msg = msg:gsub("\\n", "\n") end
  if how == "signal" or (how == "exit" and status ~= 0) then
    table.insert(fails, 1, { kind = "signal", msg = ("the child interpreter died (%s %s)"):format(how, tostring(status)) })
  end
  return fails
end

--- Shrinks prog while it still fails with a failure of `kind`: removes driver
--- steps, operations, blocks and details one at a time. Returns the smallest
--- program found, its failures and the number of runs it took. opts.oracle
--- replaces check.program (check.program_in_child, for crashes).
function check.shrink(prog, kind, opts)
  opts = opts or {}
  local oracle = opts.oracle or check.program
  local budget = opts.max_runs or 3000
  local deadline = os.clock() + (opts.max_seconds or 120)
  local best = copy(prog)
  local best_fails
  local runs = 0
  local improved = true
  while improved and runs < budget and os.clock() < deadline do
    improved = false
    for _, edit in ipairs(candidates(best)) do
      if runs >= budget or os.clock() >= deadline then break end
      local p = copy(best)
      if pcall(edit, p) then
        prune(p)
        runs = runs + 1
        local fails = oracle(p)
        if has_kind(fails, kind) then
          best, best_fails, improved = p, fails, true
          break
        end
      end
    end
  end
  if not best_fails then best_fails = oracle(best) end
  return best, best_fails, runs
end

-- {== printing ==}
local ftime = run.ftime

local function vals(id, nv)
  local v = {}
  for k = 1, nv or 0 do v[k] = ("v%d_%d"):format(id, k) end
  return table.concat(v, ", ")
end

local function tlist(ts)
  local out = {}
  for k, j in ipairs(ts) do out[k] = "t" .. j end
  return table.concat(out, ", ")
end

local function describe_op(op)
  local k = op.op
  if k == "sleep" then return ("sleep(%s)"):format(op.ms == math.huge and "math.huge" or ftime(op.ms)) end
  if k == "send" then return "send(m)" end
  if k == "yield_send" then return "coroutine.yield(m)  -- a raw yield: sends m" end
  if k == "yield" then return "coroutine.yield()  -- a raw yield: wait()" end
  if k == "wait" then return ("wait(w%d)"):format(op.id) end
  local via = op.collect and ("  -- under task.map, which records and %s each message"):format(
    op.collect == "pass" and "passes on" or "drops") or ""
  if k == "fork" then
    if op.how == "spawn" then return ("spawn(t%d)"):format(op.t) end
    return ("t%d = fork(t%d)"):format(op.t, op.t)
  end
  if k == "join" then return ("join(t%d)%s"):format(op.t, via) end
  if k == "group" then return ("group { %s }%s"):format(tlist(op.ts), via) end
  if k == "all" then return ("all { %s }%s"):format(tlist(op.ts), via) end
  if k == "loop" then
    local errs = {}
    for n in pairs(op.next_err) do errs[#errs + 1] = tostring(n) end
    table.sort(errs)
    return ("loop(t%d, next)  -- next(m) runs step { %s } for the 1st, 2nd... message%s"):format(
      op.init, tlist(op.steps), #errs > 0 and ("; raises n%d_<k> for message(s) %s"):format(op.id, table.concat(errs, ", ")) or "")
  end
  if k == "wait_fork" then return ("wait(t%d)"):format(op.t) end
  if k == "suspend" then return "suspend()" end
  if k == "resume" then return ("resume(t%d)"):format(op.t) end
  if k == "wait_d" then return ("wait(d%d)"):format(op.d) end
  if k == "resolve" then return ("d%d:resolve(%s)"):format(op.d, vals(op.id, op.nv)) end
  if k == "reject" then return ("d%d:reject(r%d)"):format(op.d, op.id) end
  if k == "abort" then return ("abort(t%d, a%d)"):format(op.t, op.id) end
  if k == "exit" then
    if op.nv == 0 and op.id % 2 == 0 then return ("terminate(t%d)"):format(op.t) end
    local v = vals(op.id, op.nv)
    return ("exit(t%d%s)"):format(op.t, v ~= "" and ", " .. v or "")
  end
  if k == "then_" then
    return ("t%d:then_(on_ok, on_err)%s"):format(op.t,
      (op.raise_ok or op.raise_err) and ("  -- %s%s raise k%d"):format(op.raise_ok and "on_ok" or "",
        op.raise_err and (op.raise_ok and " and on_err" or "on_err") or "", op.id) or "")
  end
  if k == "error" then return ("error(e%d)"):format(op.id) end
  if k == "return" then return ("return %s"):format(vals(op.id, op.nv)) end
  return k
end

local function print_ops(out, ops, indent)
  for _, op in ipairs(ops) do
    if op.op == "try" then
      out[#out + 1] = indent .. "pcall(function()"
      print_ops(out, op.body, indent .. "  ")
      out[#out + 1] = indent .. "end)"
    elseif op.op == "scope" then
      local c = op.cleanup
      local parts = {}
      if c.resume then parts[#parts + 1] = ("resume(t%d)"):format(c.resume) end
      if c.sleep then parts[#parts + 1] = ("sleep(%s)"):format(ftime(c.sleep)) end
      if c.send then parts[#parts + 1] = "send(m)" end
      if c.raise then parts[#parts + 1] = ("error(c%d)"):format(op.id) end
      out[#out + 1] = ("%sdo local _ <close> = defer(function(err) %s end)"):format(indent, table.concat(parts, "; "))
      print_ops(out, op.body, indent .. "  ")
      out[#out + 1] = indent .. "end"
    else
      out[#out + 1] = indent .. describe_op(op)
    end
  end
end

--- The program as readable Lua-like pseudo-code.
function check.pseudo(prog)
  local out = { ("-- seed %d; deferreds d1..d%d; every send(m) sends { from = <task>, seq = <n> }"):format(prog.seed, prog.nd) }
  if prog.handler_raise then
    out[#out + 1] = "-- the on_error handler raises when the task's number and the length of the error's name have the same parity"
  end
  local ids = {}
  for i in pairs(prog.tasks) do ids[#ids + 1] = i end
  table.sort(ids)
  for _, i in ipairs(ids) do
    local t = prog.tasks[i]
    out[#out + 1] = ("function t%d()  -- %s%s"):format(i, t.kind, t.owner and (" of t" .. t.owner) or "")
    print_ops(out, t.ops, "  ")
    out[#out + 1] = "end"
  end
  out[#out + 1] = "-- driver (outside any task, manual clock):"
  for _, ev in ipairs(prog.driver) do
    local what
    if ev.op == "main" then what = ("task.main(t%d)"):format(ev.t)
    elseif ev.op == "idle" then what = ("t%d = task.fork(t%d)  -- idle"):format(ev.t, ev.t)
    elseif ev.op == "start" then what = ("t%d:start()"):format(ev.t)
    else what = describe_op(ev) end
    out[#out + 1] = ("--   at %s: %s"):format(ftime(ev.at), what)
  end
  out[#out + 1] = "--   then drain(); abort every unfinished task with 'stop' and drain again, until all have finished"
  return table.concat(out, "\n")
end

function serialize(v, indent)
  indent = indent or ""
  local t = type(v)
  if t == "number" then
    if v == math.huge then return "math.huge" end
    if math.type(v) == "integer" then return tostring(v) end
    return ("%.17g"):format(v)
  end
  if t == "string" then return ("%q"):format(v) end
  if t ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  local inner = indent .. "  "
  local parts = {}
  for _, k in ipairs(keys) do
    local key = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or ("[" .. serialize(k) .. "]")
    parts[#parts + 1] = inner .. key .. " = " .. serialize(v[k], inner)
  end
  if #parts == 0 then return "{}" end
  return "{\n" .. table.concat(parts, ",\n") .. ",\n" .. indent .. "}"
end
check.serialize = serialize

--- Writes a standalone script that runs prog against actress and the model and
--- prints the failures; returns its path.
function check.write_repro(prog, fails, path, root)
  root = root or "."
  local lines = {
    ("-- actress stress reproduction, seed %d (shrunk). Failure(s):"):format(prog.seed),
  }
  for _, f in ipairs(fails) do
    for line in (f.msg .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = "--   " .. line end
  end
  lines[#lines + 1] = "--"
  lines[#lines + 1] = "-- Run it (from anywhere) after building the module into build/ (or with LUA_CPATH_5_4 set):"
  lines[#lines + 1] = "--   lua5.4 " .. path
  lines[#lines + 1] = "-- The program, as pseudo-code (the table below is what runs):"
  for line in (check.pseudo(prog) .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = "--   " .. line end
  lines[#lines + 1] = ("local root = %q"):format(root)
  lines[#lines + 1] = 'package.path = root .. "/?.lua;" .. root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path'
  lines[#lines + 1] = '-- the module of build/, unless LUA_CPATH_5_4 names one'
  lines[#lines + 1] = 'if not os.getenv("LUA_CPATH_5_4") then package.cpath = root .. "/build/?.so;" .. package.cpath end'
  lines[#lines + 1] = 'local check = require "spec.stress.check"'
  lines[#lines + 1] = "local prog = " .. serialize(prog)
  lines[#lines + 1] = "os.exit(check.report(prog) and 0 or 1)"
  local fh = assert(io.open(path, "w"))
  fh:write(table.concat(lines, "\n"), "\n")
  fh:close()
  return path
end

--- Runs prog both ways and prints the failures (or that it passes) to stdout.
function check.report(prog, verbose)
  local fails, got, exp = check.program(prog)
  if verbose or #fails > 0 then
    print(check.pseudo(prog))
  end
  for _, f in ipairs(fails) do print("FAIL " .. f.msg) end
  if #fails == 0 then print(("seed %d: model and actress agree, no invariant broken"):format(prog.seed)) end
  if verbose then
    for _, what in ipairs { "hist", "recv" } do
      for _, k in ipairs(keys_of(got[what], {})) do
        print(what .. " " .. tostring(k) .. ":")
        for _, l in ipairs(got[what][k]) do print("  " .. l) end
      end
    end
    for _, what in ipairs { "driver", "callbacks", "onerr", "stats" } do
      print(what .. ":")
      for _, l in ipairs(got[what] or {}) do print("  " .. l) end
    end
  end
  return #fails == 0, fails, got, exp
end

check.generate = gen.generate
check.count_ops = gen.count_ops

return check
