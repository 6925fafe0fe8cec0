-- spec/stress/batch.lua: runs a range of seeds in this interpreter and reports
-- on stdout, one record per line (spec/40-stress_spec.lua reads them):
--   S <seed>                              before each seed (so a crash can be placed)
--   F <seed> <abstains 0|1> <kind> \t <message with \n as \\n>
--   R <seed> <fork name> \t <message>      a report the model expects from the
--                                          default error handler (on stderr)
--   A <seed>                              the model abstains (ambiguous): no R
--                                          lines for this seed
--   C <count> <coverage key>               at the end, summed over the seeds
--   D <seeds> <ops> <seconds> <ambiguous>  at the end
-- and, on stderr, "stress: seed <seed>" before each seed, so that what the core
-- prints there (default error reports, sanitizer reports) can be placed too.
--   lua5.4 spec/stress/batch.lua FIRST COUNT [handler_raise]
local check = require "spec.stress.check"

local first = math.tointeger(tonumber(arg[1])) or 1
local count = math.tointeger(tonumber(arg[2])) or 1
local handler_raise = arg[3] == "handler_raise" or nil

io.stdout:setvbuf("line")
local t0 = os.clock()
local ops, ambiguous = 0, 0
local cover = {}

local function oneline(s)
  return (tostring(s):gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub("\t", " "))
end

for seed = first, first + count - 1 do
  io.stdout:write("S ", seed, "\n")
  io.stderr:write("stress: seed ", seed, "\n")
  local prog = check.generate(seed, { handler_raise = handler_raise })
  local fails, got, exp = check.program(prog)
  ops = ops + (got.ops or 0)
  if exp.ambiguous then ambiguous = ambiguous + 1 end
  for k, v in pairs(got.cover or {}) do cover[k] = (cover[k] or 0) + v end
  for _, f in ipairs(fails) do
    io.stdout:write(("F %d %d %s\t%s\n"):format(seed, exp.ambiguous and 1 or 0, oneline(f.kind), oneline(f.msg)))
  end
  if exp.ambiguous then
    io.stdout:write(("A %d\n"):format(seed))
  else
    for _, rep in ipairs(exp.default_reports or {}) do
      io.stdout:write(("R %d %s\t%s\n"):format(seed, rep.fork and rep.fork.name or "", oneline(tostring(rep.err))))
    end
  end
end

local keys = {}
for k in pairs(cover) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do io.stdout:write(("C %d %s\n"):format(cover[k], k)) end
io.stdout:write(("D %d %d %.3f %d\n"):format(count, ops, os.clock() - t0, ambiguous))
