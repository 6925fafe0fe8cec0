-- Reliability: seeded random programs, run against actress and against a
-- reference model of the contract (spec/stress/; see spec/stress/README.md).
--
-- Each seed builds a random tree of 5 to 40 tasks (spec/stress/gen.lua) that
-- fork, join, group, all, loop, send (also by raw coroutine.yield), sleep on the
-- manual clock, suspend and resume each other, wait on deferreds settled at
-- random moments, abort and exit each other (sleeping, suspended, queued,
-- joining, never started), and raise errors in bodies, <close> handlers,
-- then_ callbacks, loop steps and the on_error handler. spec/stress/run.lua
-- runs the program against actress and against spec/stress/model.lua, and the
-- two runs must agree: every task's own history (with times), each fork's
-- outcome, the messages each receiver got, the callbacks, the on_error calls and
-- stats() after every step. Independently of the model, actress must keep the
-- invariants: every fork finishes exactly once and its result never changes, a
-- joiner gets the very value or error (rawequal), every cleanup runs exactly
-- once, no message arrives twice, out of order or after its sender finished,
-- stats() returns to the baseline, and a sanity task runs afterwards.
--
-- The seeds run in a child interpreter (spec/stress/batch.lua), so that a crash
-- or a sanitizer report is pinned to its seed instead of ending busted. On a
-- failure the spec prints the seed, the broken invariant or difference, and a
-- shrunk program, and writes a reproduction script /tmp/actress-stress-<seed>.lua.
--
-- Environment:
--   ACTRESS_STRESS_SEEDS  how many seeds (default 1000, ~10 s in a Release build)
--   ACTRESS_STRESS_FIRST  the first seed (default 1)
-- The long mode (about 20 minutes on 2 cores):
--   ACTRESS_STRESS_SEEDS=100000 busted --lua=lua5.4 spec/40-stress_spec.lua
-- One seed by hand: lua5.4 spec/stress/cli.lua SEED [-v] [--shrink [--child]]
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending
local check = require "spec.stress.check"

local SEEDS = math.tointeger(tonumber(os.getenv("ACTRESS_STRESS_SEEDS") or "")) or 1000
local FIRST = math.tointeger(tonumber(os.getenv("ACTRESS_STRESS_FIRST") or "")) or 1
-- Seeds run with an on_error handler that raises (its errors go to the default
-- handler, which prints on stderr): a tenth as many, after the others.
local HANDLER_SEEDS = math.max(20, SEEDS // 10)
local HANDLER_FIRST = FIRST + SEEDS
local MAX_CRASHES = 20   -- a batch is restarted after each crash, this many times
local MAX_SHRINK = 2     -- failing seeds shrunk per run (the others are listed)
local CHUNK = 500        -- seeds per child interpreter
local CHUNK_SECONDS = 600  -- a child still running after this long has hung
-- ACTRESS_STRESS_INPROCESS=1 runs the seeds in this interpreter instead (for
-- valgrind or gdb; a crash then ends busted, and stderr is not checked).
local INPROCESS = (os.getenv("ACTRESS_STRESS_INPROCESS") or "") ~= ""

-- The repository root: this file is <root>/spec/40-stress_spec.lua.
local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$") or ".")
if ROOT:sub(1, 1) ~= "/" then
  local pwd = os.getenv("PWD")
  if pwd then ROOT = ROOT == "." and pwd or (pwd .. "/" .. ROOT) end
end

local LUA = check.lua_command(H.LUA, ROOT)
local TIMEOUT = os.execute("command -v timeout >/dev/null 2>&1") and ("timeout " .. CHUNK_SECONDS .. " ") or ""

local function say(fmt, ...)
  io.stderr:write(fmt:format(...), "\n")
  io.stderr:flush()
end

local function unescape(s)
  return (s:gsub("\\(.)", { n = "\n", ["\\"] = "\\" }))
end

-- Runs seeds first .. first+count-1 in child interpreters (a new one after
-- each crash). Returns a summary:
--   failures = { { seed, kind, msg, ambiguous }... }, ops, seeds, seconds,
--   ambiguous, cover = { key = n }, crashes
local function run_seeds(first, count, mode)
  local res = { failures = {}, ops = 0, seeds = 0, seconds = 0, ambiguous = 0, cover = {}, crashes = 0 }
  local last = first + count - 1
  local from = first
  local function fail(seed, kind, msg, ambiguous)
    res.failures[#res.failures + 1] = { seed = seed, kind = kind, msg = msg, ambiguous = ambiguous }
  end
  while from <= last do
    local upto = math.min(last, from + CHUNK - 1)
    local errfile = os.tmpname()
    local cmd = ("cd %s && %s%s %s %d %d %s 2>%s"):format(check.shell_quote(ROOT), TIMEOUT, LUA,
      check.shell_quote(ROOT .. "/spec/stress/batch.lua"), from, upto - from + 1, mode or "", errfile)
    local p = assert(io.popen(cmd, "r"))
    local current, done
    local expected = {}  -- seed -> list of "name\tmsg" the default handler should print
    local abstains = {}  -- seeds whose reports the model does not predict
    for line in p:lines() do
      local tag, rest = line:match("^(%a) (.*)$")
      if tag == "S" then
        current = math.tointeger(tonumber(rest))
      elseif tag == "F" then
        local seed, amb, kind, msg = rest:match("^(%d+) (%d) ([^\t]*)\t(.*)$")
        fail(math.tointeger(tonumber(seed)), unescape(kind), unescape(msg), amb == "1")
      elseif tag == "A" then
        abstains[math.tointeger(tonumber(rest))] = true
      elseif tag == "R" then
        local seed, what = rest:match("^(%d+) (.*)$")
        seed = math.tointeger(tonumber(seed))
        expected[seed] = expected[seed] or {}
        table.insert(expected[seed], unescape(what))
      elseif tag == "C" then
        local n, key = rest:match("^(%d+) (.*)$")
        res.cover[key] = (res.cover[key] or 0) + tonumber(n)
      elseif tag == "D" then
        local n, ops, secs, amb = rest:match("^(%d+) (%d+) ([%d.]+) (%d+)$")
        res.seeds = res.seeds + tonumber(n)
        res.ops = res.ops + tonumber(ops)
        res.seconds = res.seconds + tonumber(secs)
        res.ambiguous = res.ambiguous + tonumber(amb)
        done = true
      end
    end
    local _, how, status = p:close()
    local stderr = H.read(errfile)
    os.remove(errfile)

    -- What the core printed on stderr, seed by seed.
    local printed, seed = {}, from
    for line in stderr:gmatch("([^\n]*)\n") do
      local s = line:match("^stress: seed (%d+)$")
      if s then
        seed = math.tointeger(tonumber(s))
        printed[seed] = printed[seed] or {}
      else
        printed[seed] = printed[seed] or {}
        table.insert(printed[seed], line)
      end
    end
    for s, lines in pairs(printed) do
      local reports, other = {}, {}
      for _, line in ipairs(lines) do
        local name, msg = line:match('^actress: task %d+ "([^"]*)" failed: (.*)$')
        if name then
          reports[#reports + 1] = name .. "\t" .. msg
        elseif line:find("Sanitizer", 1, true) or line:find("runtime error", 1, true) then
          other[#other + 1] = line
        elseif mode ~= "handler_raise" then
          other[#other + 1] = line
        end
      end
      local died_here = not done and s == current  -- reported with the crash
      if #other > 0 and not died_here then
        fail(s, "stderr", "unexpected output on stderr:\n  " .. table.concat(lines, "\n  "))
      end
      local exp = expected[s] or {}
      table.sort(reports)
      table.sort(exp)
      if table.concat(reports, "\n") ~= table.concat(exp, "\n") and not died_here and not abstains[s] then
        fail(s, "default handler", ("the default error handler printed:\n  %s\nthe model expects:\n  %s"):format(
          table.concat(reports, "\n  "), table.concat(exp, "\n  ")))
      end
    end

    if done then
      if not (how == "exit" and status == 0) then
        fail(current, "exit status", ("the child interpreter ended with %s %s after the last seed:\n  %s"):format(
          tostring(how), tostring(status), table.concat(printed[current] or {}, "\n  ")))
      end
      from = upto + 1
    else
      -- The child died (or hung: timeout's status 124) while it ran `current`.
      res.crashes = res.crashes + 1
      fail(current or from, status == 124 and "hang" or "crash", ("the child interpreter %s (%s %s) while it ran this seed:\n  %s"):format(
        status == 124 and ("still ran after " .. CHUNK_SECONDS .. " s") or "died",
        tostring(how), tostring(status), table.concat(printed[current or from] or {}, "\n  ")))
      if res.crashes >= MAX_CRASHES then
        fail(current or from, "gave up", ("stopped after %d crashes, at seed %d of %d..%d"):format(
          res.crashes, current or from, first, last))
        break
      end
      res.seeds = res.seeds + ((current or from) - from + 1)
      from = (current or from) + 1
    end
  end
  return res
end

-- The same in this interpreter (ACTRESS_STRESS_INPROCESS).
local function run_seeds_here(first, count, mode)
  local res = { failures = {}, ops = 0, seeds = 0, seconds = 0, ambiguous = 0, cover = {}, crashes = 0 }
  local t0 = os.clock()
  for seed = first, first + count - 1 do
    local fails, got, exp = check.program(check.generate(seed, { handler_raise = mode == "handler_raise" or nil }))
    res.seeds = res.seeds + 1
    res.ops = res.ops + (got.ops or 0)
    if exp.ambiguous then res.ambiguous = res.ambiguous + 1 end
    for k, v in pairs(got.cover or {}) do res.cover[k] = (res.cover[k] or 0) + v end
    for _, f in ipairs(fails) do
      res.failures[#res.failures + 1] = { seed = seed, kind = f.kind, msg = f.msg, ambiguous = exp.ambiguous and true }
    end
  end
  res.seconds = os.clock() - t0
  return res
end
if INPROCESS then run_seeds = run_seeds_here end

-- Prints the failures, shrinks a few seeds (of different kinds of failure
-- first) and writes their reproductions; returns the assertion message.
local function explain(res, what, mode)
  local lines = { ("%d failure(s) in %s:"):format(#res.failures, what) }
  local first_of, order = {}, {}
  for x, f in ipairs(res.failures) do
    if x <= 60 then
      lines[#lines + 1] = ("  seed %d%s: %s"):format(f.seed, f.ambiguous and " (model abstains)" or "", f.kind)
    elseif x == 61 then
      lines[#lines + 1] = ("  ... and %d more"):format(#res.failures - 60)
    end
    if not first_of[f.seed] and f.kind ~= "gave up" then
      first_of[f.seed] = f
      order[#order + 1] = f
    end
  end
  say("stress: %s", table.concat(lines, "\n"))
  local chosen, kinds = {}, {}
  for _, f in ipairs(order) do  -- one seed per kind first, then the others
    if #chosen < MAX_SHRINK and not kinds[f.kind] then
      kinds[f.kind] = true
      chosen[#chosen + 1] = f
    end
  end
  for _, f in ipairs(order) do
    local seen = false
    for _, c in ipairs(chosen) do seen = seen or c == f end
    if #chosen < MAX_SHRINK and not seen then chosen[#chosen + 1] = f end
  end
  local flag = mode == "handler_raise" and " --handler-raise" or ""
  for _, f in ipairs(chosen) do
    say("\nstress: seed %d FAILS (%s):\n%s", f.seed, f.kind, f.msg)
    local prog = check.generate(f.seed, { handler_raise = mode == "handler_raise" or nil })
    if f.kind == "stderr" or f.kind == "default handler" or f.kind == "exit status" then
      say("stress: reproduce it with: lua5.4 spec/stress/cli.lua %d%s -v", f.seed, flag)
    else
      local oracle = function(p) return check.program_in_child(p, LUA) end
      local kind = (f.kind == "crash" or f.kind == "hang") and "signal" or f.kind
      local small, fails, runs = check.shrink(prog, kind, { oracle = oracle, max_seconds = 60 })
      local path = ("/tmp/actress-stress-%d.lua"):format(f.seed)
      check.write_repro(small, fails, path, ROOT)
      say("stress: shrunk in %d runs to:\n%s", runs, check.pseudo(small))
      for _, x in ipairs(fails) do say("stress:   %s", x.msg) end
      say("stress: reproduction: lua5.4 %s  (the whole seed: lua5.4 spec/stress/cli.lua %d%s -v)", path, f.seed, flag)
    end
  end
  return table.concat(lines, "\n")
    .. "\n(the seeds, the shrunk programs and the reproduction scripts are printed on stderr above)"
end

local function coverage_line(cover)
  local keys = {}
  for k in pairs(cover) do
    if not k:match("^op ") then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = ("%s %d"):format(k, cover[k]) end
  return table.concat(parts, ", ")
end

describe("stress: random programs against the reference model", function()
  it(("%d seeds from %d: actress agrees with the model and keeps the invariants"):format(SEEDS, FIRST), function()
    local t0 = os.time()
    local res = run_seeds(FIRST, SEEDS)
    say("stress: %d seeds (%d..%d), %d operations, %.1f s of CPU (%d s wall); the model abstains on %d (ambiguous); %d failure(s)",
      res.seeds, FIRST, FIRST + SEEDS - 1, res.ops, res.seconds, os.time() - t0, res.ambiguous, #res.failures)
    say("stress: coverage: %s", coverage_line(res.cover))
    if #res.failures > 0 then
      error(explain(res, ("seeds %d..%d"):format(FIRST, FIRST + SEEDS - 1)), 0)
    end
    assert.equal(SEEDS, res.seeds)
  end)

  it(("%d more seeds with an on_error handler that raises: its errors go to the default handler"):format(HANDLER_SEEDS),
    function()
      local res = run_seeds(HANDLER_FIRST, HANDLER_SEEDS, "handler_raise")
      say("stress: %d seeds (%d..%d) with a raising on_error handler, %d operations, %d errors in on_error, %d failure(s)",
        res.seeds, HANDLER_FIRST, HANDLER_FIRST + HANDLER_SEEDS - 1, res.ops, res.cover["error in on_error"] or 0, #res.failures)
      if #res.failures > 0 then
        error(explain(res, ("seeds %d..%d with a raising on_error"):format(HANDLER_FIRST, HANDLER_FIRST + HANDLER_SEEDS - 1),
          "handler_raise"), 0)
      end
      assert.equal(HANDLER_SEEDS, res.seeds)
      assert.is_true((res.cover["error in on_error"] or 0) > 0, "no on_error handler raised")
    end)
end)
