-- bench/echo/callbacks.lua: echo throughput with plain luv callbacks.
--
-- The program of bench/echo/tasks.lua without actress: a TCP echo server on
-- 127.0.0.1 and C clients in the same process, each doing R round trips of
-- an S-byte message; timing starts once every client is connected. Prints
--   msgs_per_s=<round trips per second> clients=C rounds=R size=S seconds=T
-- Usage: lua5.4 bench/echo/callbacks.lua [C [R [S [try_write]]]]
-- (default 100 1000 64). Writes use uv.write, as luv code usually does;
-- with "try_write" they use uv.try_write, as actress.uv's Stream:write
-- does first (it spares libuv a write request and an epoll_ctl), and
-- raise if the kernel takes less than the whole message, which does not
-- happen with small messages on loopback.
local uv = require "luv"

local CLIENTS = tonumber(arg[1]) or 100
local ROUNDS = tonumber(arg[2]) or 1000
local SIZE = tonumber(arg[3]) or 64
local MSG = ("x"):rep(SIZE)

local write = uv.write
if arg[4] == "try_write" then
  write = function(s, data) assert(uv.try_write(s, data) == #data, "partial write") end
end

local server = uv.new_tcp()
assert(server:bind("127.0.0.1", 0))
assert(server:listen(1024, function(err)
  assert(not err, err)
  local conn = uv.new_tcp()
  server:accept(conn)
  conn:read_start(function(rerr, data) -- echo every chunk back until EOF
    assert(not rerr, rerr)
    if data then write(conn, data) else conn:close() end
  end)
end))
local port = server:getsockname().port

local connected, finished, t0, t1 = 0, 0, nil, nil
local clients = {}

local function start_client(c)
  local got, rounds = 0, 0
  c.s:read_start(function(err, data)
    assert(not err and data, err or "early EOF")
    got = got + #data
    if got < SIZE then return end
    got, rounds = 0, rounds + 1
    if rounds < ROUNDS then
      write(c.s, MSG)
    else
      c.s:close()
      finished = finished + 1
      if finished == CLIENTS then
        t1 = uv.hrtime()
        server:close()
      end
    end
  end)
  write(c.s, MSG)
end

for i = 1, CLIENTS do
  local c = { s = uv.new_tcp() }
  clients[i] = c
  c.s:connect("127.0.0.1", port, function(err)
    assert(not err, err)
    connected = connected + 1
    if connected == CLIENTS then -- everyone connected: start
      t0 = uv.hrtime()
      for j = 1, CLIENTS do start_client(clients[j]) end
    end
  end)
end

uv.run()
local seconds = (t1 - t0) / 1e9
print(("msgs_per_s=%.0f clients=%d rounds=%d size=%d seconds=%.3f")
  :format(CLIENTS * ROUNDS / seconds, CLIENTS, ROUNDS, SIZE, seconds))
