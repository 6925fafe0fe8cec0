-- bench/echo/tasks.lua: echo throughput with actress tasks on luv.
--
-- A TCP echo server on 127.0.0.1 (one task per connection) and C client
-- tasks in the same process, each doing R request/response round trips of
-- an S-byte message: write it, read until all S bytes are back. Timing
-- starts once every client is connected. Prints one line:
--   msgs_per_s=<round trips per second> clients=C rounds=R size=S seconds=T
-- Usage: lua5.4 bench/echo/tasks.lua [C [R [S]]]   (default 100 1000 64)
-- bench/echo/callbacks.lua is the same program with plain luv callbacks.
local task = require "actress"
local auv = require "actress.uv"
local uv = require "luv"

local CLIENTS = tonumber(arg[1]) or 100
local ROUNDS = tonumber(arg[2]) or 1000
local SIZE = tonumber(arg[3]) or 64
local MSG = ("x"):rep(SIZE)

-- One connection: echo every chunk back until the client closes.
local function serve(conn)
  local s <close> = conn
  for data in s.read, s do s:write(data) end
end

local connected, all_connected = 0, task.deferred()

local function client(port, go)
  local s <close> = auv.tcp_connect("127.0.0.1", port)
  connected = connected + 1
  if connected == CLIENTS then all_connected:resolve() end
  task.wait(go) -- everyone connected: start
  for _ = 1, ROUNDS do
    s:write(MSG)
    local got = 0
    while got < SIZE do got = got + #assert(s:read(), "early EOF") end
  end
end

local seconds = task.run(function()
  local server <close> = auv.tcp_listen("127.0.0.1", 0, 1024)
  local port = server:getsockname().port
  task.fork(function()
    for conn in server.accept, server do task.fork(serve, conn) end
  end)
  local go = task.deferred()
  local clients = {}
  for i = 1, CLIENTS do clients[i] = task.fork(client, port, go) end
  task.wait(all_connected)
  local t0 = uv.hrtime()
  go:resolve()
  task.group(clients)
  return (uv.hrtime() - t0) / 1e9
end)

print(("msgs_per_s=%.0f clients=%d rounds=%d size=%d seconds=%.3f")
  :format(CLIENTS * ROUNDS / seconds, CLIENTS, ROUNDS, SIZE, seconds))
