-- bench/lib/bench.lua: what the Lua workload scripts share: reading N from
-- argv, the fixed pseudo-random delays of W3, /proc/self/status figures,
-- and printing the one line of key=value figures each script ends with.

local bench = {}

--- N from argv (arg[1]), or the default.
function bench.n(default)
  local n = tonumber(arg and arg[1]) or default
  assert(n and n >= 1 and n == math.floor(n), "usage: lua5.4 script.lua [N]")
  return math.tointeger(n)
end

--- The W3 delays, 0..99 ms: MINSTD (x = x * 48271 mod 2^31-1, seed 42),
-- exact in doubles too, so bench/js/ draws the very same sequence.
function bench.delays(n)
  local d, x = {}, 42
  for i = 1, n do
    x = x * 48271 % 2147483647
    d[i] = x % 100
  end
  return d
end

--- A field of /proc/self/status in kB (VmHWM: peak RSS, VmRSS: RSS now).
function bench.status_kb(field)
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+) kB")) or 0
end

--- The Lua heap in bytes after two full collections.
function bench.heap_bytes()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count") * 1024
end

--- Prints "W1 impl=raw n=100000 k=v ..." (keys in the given order).
function bench.report(workload, impl, n, ...)
  local kv = table.pack(...)
  local out = { workload, "impl=" .. impl, "n=" .. n }
  for i = 1, kv.n, 2 do
    local v = kv[i + 1]
    if math.type(v) == "float" then v = ("%.1f"):format(v) end
    out[#out + 1] = kv[i] .. "=" .. tostring(v)
  end
  out[#out + 1] = "peak_rss_kb=" .. bench.status_kb("VmHWM")
  print(table.concat(out, " "))
end

return bench
