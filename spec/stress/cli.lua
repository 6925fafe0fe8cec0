-- spec/stress/cli.lua: one stress program from the command line.
--   lua5.4 spec/stress/cli.lua SEED            run seed SEED, print the program and what failed
--   lua5.4 spec/stress/cli.lua SEED -v         ... and everything actress did
--   lua5.4 spec/stress/cli.lua SEED --shrink   shrink a failing seed, write /tmp/actress-stress-SEED.lua
--   lua5.4 spec/stress/cli.lua SEED --shrink --child
--                                               the same, each run in a child interpreter
--                                               (for a seed that crashes the process)
-- From the repository root, with LUA_PATH_5_4/LUA_CPATH_5_4 set as for busted
-- (lua/?.lua;lua/?/init.lua;./?.lua and build/?.so).
local check = require "spec.stress.check"

local seed = math.tointeger(tonumber(arg[1]))
if not seed then
  io.stderr:write("usage: lua5.4 spec/stress/cli.lua SEED [-v] [--shrink [--child]]\n")
  os.exit(2)
end
local flags = {}
for k = 2, #arg do flags[arg[k]] = true end
local prog = check.generate(seed, { handler_raise = flags["--handler-raise"] or nil })

if not flags["--shrink"] then
  local ok = check.report(prog, flags["-v"])
  os.exit(ok and 0 or 1)
end

local oracle = flags["--child"] and check.program_in_child or check.program
local fails = oracle(prog)
if #fails == 0 then
  print(("seed %d passes; nothing to shrink"):format(seed))
  os.exit(0)
end
print(("seed %d fails (%s); shrinking..."):format(seed, fails[1].kind))
local small, sfails, runs = check.shrink(prog, fails[1].kind, { oracle = oracle, max_seconds = 600 })
local path = ("/tmp/actress-stress-%d.lua"):format(seed)
local root = os.getenv("PWD") or "."
check.write_repro(small, sfails, path, root)
print(check.pseudo(small))
for _, f in ipairs(sfails) do print("FAIL " .. f.msg) end
print(("shrunk in %d runs; reproduction: lua5.4 %s"):format(runs, path))
os.exit(1)
