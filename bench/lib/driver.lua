-- bench/lib/driver.lua: runs the workloads for each peer (separate
-- processes), takes medians and prints the markdown tables. bench/run
-- builds the project and calls this with its options in the environment:
--   BENCH_REPS       repetitions at N = 100,000 / the listed N (default 5)
--   BENCH_BIG_REPS   repetitions at N = 1,000,000 in the scaling runs (3)
--   BENCH_SCALE_1M   "0" to skip the 1,000,000 scaling runs
--   BENCH_ONLY       comma-separated workloads (W1,W2,W2J,W3,W4,W5); all if empty
--   BENCH_RAW_OK     "1" when luv is available for the raw peer
--   BENCH_JS_DIR     folder holding node_modules/actor and the .mjs scripts
--   BENCH_JS_NOTE    why js is skipped, when it is
-- The tables go to stdout, progress to stderr.

local env = os.getenv
local REPS = tonumber(env "BENCH_REPS") or 5
local BIG_REPS = tonumber(env "BENCH_BIG_REPS") or 3
local SCALE_1M = env "BENCH_SCALE_1M" ~= "0"
local RAW_OK = env "BENCH_RAW_OK" == "1"
local JS_DIR = env "BENCH_JS_DIR"
if JS_DIR == "" then JS_DIR = nil end
local JS_NOTE = env "BENCH_JS_NOTE" or "node/npm not found"
local TIMEOUT = 600 -- seconds, per process

local only = {}
for w in (env "BENCH_ONLY" or ""):gmatch("[^,%s]+") do only[w:upper()] = true end
local function wanted(id) return next(only) == nil or only[id] end

-- The workloads: script name, N of the main table, figures (key in the
-- script's output line, label, target for actress, scale, decimals).
local WORKLOADS = {
  { id = "W1", script = "w1", n = 100000, scaling = true, figures = {
    { key = "ns_per_op", label = "ns per fork+join", target = 800 } } },
  { id = "W2", script = "w2", n = 1000000, figures = {
    { key = "ns_per_op", label = "ns per message", target = 50 } } },
  { id = "W2J", script = "w2j", n = 1000000, figures = {
    { key = "ns_per_op", label = "ns per message (through a join)", target = 70 } } },
  { id = "W3", script = "w3", n = 100000, scaling = true, figures = {
    { key = "over_ms", label = "ms above the 99 ms ideal", target = 100 },
    { key = "peak_rss_kb", label = "peak RSS, MB", scale = 1 / 1024 } } },
  { id = "W4", script = "w4", n = 1000000, figures = {
    { key = "ns_per_op", label = "ns per switch", target = 90 } } },
  { id = "W5", script = "w5", n = 100000, scaling = true, figures = {
    { key = "heap_b_per_task", label = "heap B per suspended task (Lua; V8 for js)", target = 1200 },
    { key = "rss_b_per_task", label = "RSS B per suspended task", target = 1200 } } },
}

-- The per-item figure of each scaling workload.
local SCALING = {
  W1 = { { key = "ns_per_op", label = "ns per fork+join" } },
  W3 = { { key = "ns_per_op", label = "ns above ideal per task" },
         { key = "cpu_ns_per_op", label = "CPU ns per task" } },
  W5 = { { key = "heap_b_per_task", label = "heap B per task" },
         { key = "rss_b_per_task", label = "RSS B per task" } },
}
local SCALE_NS = { 10000, 100000, 1000000 }

for id in pairs(only) do
  local known = false
  for _, w in ipairs(WORKLOADS) do known = known or w.id == id end
  if not known then
    io.stderr:write("bench/run: unknown workload " .. id .. " (W1, W2, W2J, W3, W4, W5)\n")
    os.exit(2)
  end
end

local PEERS = { "actress", "raw", "js" }
local available = { actress = true, raw = RAW_OK, js = JS_DIR ~= nil }

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function command(impl, script, n)
  if impl == "js" then
    return ("cd %s && timeout %d node --expose-gc %s.mjs %d"):format(
      shell_quote(JS_DIR), TIMEOUT, script, n)
  end
  return ("timeout %d lua5.4 bench/%s/%s.lua %d"):format(TIMEOUT, impl, script, n)
end

-- Runs one process; returns the table of its figures, or nil.
local function run_once(impl, w, n)
  local cmd = command(impl, w.script, n)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, how, code = p:close()
  local line = out:match("%f[%w]" .. w.id .. " impl=[^\n]*")
  if not ok or not line then
    io.stderr:write(("\n  %s %s n=%d failed (%s %s):\n%s\n"):format(
      w.id, impl, n, how, code, out))
    return nil
  end
  local fig = {}
  for k, v in line:gmatch("(%S+)=(%S+)") do fig[k] = tonumber(v) or v end
  return fig
end

local function median(xs)
  if #xs == 0 then return nil end
  local s = table.move(xs, 1, #xs, 1, {})
  table.sort(s)
  local m = (#s + 1) // 2
  if #s % 2 == 1 then return s[m] end
  return (s[m] + s[m + 1]) / 2
end

-- samples[id][impl][n] = list of figure tables
local samples = {}
local function collect(w, impls, n, reps)
  samples[w.id] = samples[w.id] or {}
  for rep = 1, reps do
    for _, impl in ipairs(impls) do -- peers interleaved, so drift hits all alike
      io.stderr:write(("\r%-4s n=%-8d run %d/%d %-8s"):format(w.id, n, rep, reps, impl))
      io.stderr:flush()
      local byimpl = samples[w.id][impl] or {}
      samples[w.id][impl] = byimpl
      byimpl[n] = byimpl[n] or {}
      local fig = run_once(impl, w, n)
      if fig then table.insert(byimpl[n], fig) end
    end
  end
  io.stderr:write("\r" .. (" "):rep(40) .. "\r")
end

-- Median of one figure, or nil.
local function med(id, impl, n, key, scale)
  local runs = samples[id] and samples[id][impl] and samples[id][impl][n]
  if not runs then return nil end
  local xs = {}
  for _, fig in ipairs(runs) do
    if type(fig[key]) == "number" then xs[#xs + 1] = fig[key] * (scale or 1) end
  end
  return median(xs), xs
end

local function fmt(x)
  if x == nil then return "—" end
  if math.abs(x) >= 100 then return ("%.0f"):format(x) end
  if math.abs(x) >= 10 then return ("%.1f"):format(x) end
  return ("%.2f"):format(x)
end

local function ratio(a, b)
  if not a or not b or b == 0 then return "—" end
  return ("%.2f×"):format(a / b)
end

local function capture(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local s = p and p:read("a") or ""
  if p then p:close() end
  return (s:gsub("%s+$", ""))
end

-- Runs ----------------------------------------------------------------------

local peers = {}
for _, impl in ipairs(PEERS) do
  if available[impl] then peers[#peers + 1] = impl end
end

local t_start = os.time()
for _, w in ipairs(WORKLOADS) do
  if wanted(w.id) then collect(w, peers, w.n, REPS) end
end
local scale_peers = { "actress" }
if RAW_OK then scale_peers[2] = "raw" end
for _, w in ipairs(WORKLOADS) do
  if w.scaling and wanted(w.id) then
    collect(w, peers, 10000, REPS) -- js too: it is cheap at 10,000
    if SCALE_1M then collect(w, scale_peers, 1000000, BIG_REPS) end
  end
end
local elapsed = os.time() - t_start

-- Report --------------------------------------------------------------------

local out = {}
local function p(fmt_, ...) out[#out + 1] = fmt_:format(...) end

local cpu = capture("grep -m1 'model name' /proc/cpuinfo"):gsub("^.-:%s*", "")
local mem = capture("awk '/MemTotal/ {printf \"%.0f GB\", $2/1048576}' /proc/meminfo")
local os_name = capture(". /etc/os-release && echo \"$PRETTY_NAME\"")
p("# actress benchmarks")
p("")
p("- date: %s", os.date("!%Y-%m-%d %H:%M UTC"))
p("- machine: %s, %s cores, %s RAM, %s, Linux %s", cpu, capture("nproc"), mem, os_name,
  capture("uname -r"))
p("- actress: commit %s%s, Release build (build-bench/)", capture("git rev-parse --short HEAD"),
  capture("git status --porcelain -- csrc lua CMakeLists.txt") ~= "" and " + uncommitted changes" or "")
p("- peers: raw = %s; js = %s",
  RAW_OK and ("%s with luv %s (libuv %s)"):format(capture("lua5.4 -v"):match("Lua [%d.]+") or "Lua 5.4",
    capture("lua5.4 -e 'print(require(\"luv\").version_string())'"),
    capture("pkg-config --modversion libuv")) or "skipped (luv not found)",
  JS_DIR and ("actor@2.3.1 on Node %s"):format(capture("node --version")) or ("skipped (" .. JS_NOTE .. ")"))
p("- medians of %d run%s (separate processes, peers interleaved)%s; whole run %d s",
  REPS, REPS == 1 and "" or "s",
  SCALE_1M and (", %d at N = 1,000,000 (actress and raw only)"):format(BIG_REPS) or "", elapsed)
p("")
p("| workload | N | figure | actress | raw | js | target | actress/raw | actress/js | met? | actress spread |")
p("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: |")
for _, w in ipairs(WORKLOADS) do
  if wanted(w.id) then
    for _, f in ipairs(w.figures) do
      local a, as = med(w.id, "actress", w.n, f.key, f.scale)
      local r = med(w.id, "raw", w.n, f.key, f.scale)
      local j = med(w.id, "js", w.n, f.key, f.scale)
      local met = ""
      if f.target then met = a and (a <= f.target and "yes" or "**no**") or "—" end
      local spread = "—"
      if a and #as > 1 and a ~= 0 then
        spread = ("±%.0f%%"):format((math.max(table.unpack(as)) - math.min(table.unpack(as)))
          / 2 / math.abs(a) * 100)
      end
      p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", w.id, w.n, f.label,
        fmt(a), fmt(r), fmt(j), f.target and ("≤ " .. f.target) or "", ratio(a, r), ratio(a, j),
        met, spread)
    end
  end
end

local any_scaling = false
for _, w in ipairs(WORKLOADS) do any_scaling = any_scaling or (w.scaling and wanted(w.id)) end
if any_scaling then
  p("")
  p("Scaling: cost per item at each N (the issue asks max/min ≤ 1.3 for actress).")
  p("")
  p("| workload | figure | peer | N = 10,000 | N = 100,000 | N = 1,000,000 | max/min | flat? |")
  p("| --- | --- | --- | ---: | ---: | ---: | ---: | :---: |")
  for _, w in ipairs(WORKLOADS) do
    if w.scaling and wanted(w.id) then
      for _, f in ipairs(SCALING[w.id]) do
        for _, impl in ipairs(peers) do
          local cells, lo, hi = {}, math.huge, -math.huge
          for i, n in ipairs(SCALE_NS) do
            local m = med(w.id, impl, n, f.key)
            cells[i] = fmt(m)
            if m then lo, hi = math.min(lo, m), math.max(hi, m) end
          end
          local mm, flat = "—", ""
          if hi > -math.huge and lo > 0 then
            mm = ("%.2f"):format(hi / lo)
            flat = hi / lo <= 1.3 and "yes" or "**no**"
          end
          p("| %s | %s | %s | %s | %s | %s | %s | %s |", w.id, f.label, impl,
            cells[1], cells[2], cells[3], mm, flat)
        end
      end
    end
  end
end
p("")
print(table.concat(out, "\n"))
