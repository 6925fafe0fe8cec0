-- examples/echo_server.lua: a TCP echo server, one task per connection.
--
-- The server listens on 127.0.0.1 (a free port) and sends a message for
-- every connection it accepts. A stats task runs task.loop over
-- task.listen { server = ..., clients = ... }: the accepting task and the
-- demo clients, each message tagged with its source. For every accepted
-- connection the stats task returns a connection task, which the loop runs
-- as a new member, concurrently; its reports (bytes echoed, closed) come
-- back to the stats task tagged "conn". A watchdog aborts a connection
-- that stays idle for IDLE_MS; the connection catches the abort, its
-- `<close>` closes the socket, and it reports why it ended.
--
-- Three demo clients run in the same process, so that one command shows it
-- all and ends: two talk and hang up, one goes quiet and is cut off. When
-- they are done the server is closed; the loop ends when nothing is left.
--
-- Needs luv (Debian: lua-luv). Run from the repository root after building:
--   LUA_PATH_5_4='lua/?.lua;lua/?/init.lua;;' LUA_CPATH_5_4='build/?.so;;' lua5.4 examples/echo_server.lua
local task = require "actress"
local auv = require "actress.uv"

local IDLE_MS = 300

-- {==================================================================
-- The server
-- ====================================================================

-- Effect: accepts connections until the server is closed, and sends one
-- message for each.
local function acceptor(server)
  return function()
    local n = 0
    for conn in server.accept, server do
      n = n + 1
      task.send({ event = "opened", id = n, conn = conn })
    end
  end
end

-- Effect: one connection. Echoes what it reads until the client hangs up,
-- sending { event = "bytes" } per chunk and { event = "closed" } at the end.
local function connection(conn, id)
  return function()
    local me, last, timed_out = task.current(), task.now(), false
    -- The watchdog: aborts this task once IDLE_MS pass without data.
    local watchdog = task.fork(function()
      while true do
        local left = last + IDLE_MS - task.now()
        if left <= 0 then
          timed_out = true
          return task.abort(me, "idle timeout")
        end
        task.sleep(left)
      end
    end)
    local echoed = 0
    local ok, err = pcall(function()
      local s <close> = conn -- closed on the way out, whatever the way
      for data in s.read, s do
        last = task.now()
        s:write(data)
        echoed = echoed + #data
        task.send({ event = "bytes", id = id, n = #data })
      end
    end)
    -- The watchdog ends by itself after an abort (it is resuming us then,
    -- and cannot be stopped from here); otherwise stop it.
    if not timed_out then task.terminate(watchdog) end
    task.send({ event = "closed", id = id, bytes = echoed,
      why = ok and "client hung up" or tostring(err) })
  end
end

-- }==================================================================

-- {==================================================================
-- Demo clients
-- ====================================================================

-- Sends each message and checks that it comes back.
local function talker(port, name, messages)
  local s <close> = auv.tcp_connect("127.0.0.1", port)
  for _, msg in ipairs(messages) do
    s:write(msg)
    local back = ""
    while #back < #msg do back = back .. assert(s:read(), "server hung up") end
    assert(back == msg, "echo differs")
  end
  task.send(("%s: %d messages echoed, hanging up"):format(name, #messages))
end

-- Says one thing, then stays quiet until the server gives up on it.
local function sleeper(port, name)
  local s <close> = auv.tcp_connect("127.0.0.1", port)
  s:write("hello?")
  assert(s:read() == "hello?")
  task.send(name .. ": got its echo, now quiet")
  while s:read() do end
  task.send(name .. ": the server closed the connection")
end

-- Effect: the clients, then closes the server (which ends the acceptor).
local function clients(server)
  return function()
    local port = server:getsockname().port
    task.all {
      function() talker(port, "client A", { "one", "two", "three" }) end,
      function() task.sleep(20); talker(port, "client B", { "a longer message", "bye" }) end,
      function() task.sleep(40); sleeper(port, "client C") end,
    }
    server:close()
    task.send("all clients done, server closed")
  end
end

-- }==================================================================

local stats = { opened = 0, closed = 0, timeouts = 0, bytes = 0 }

-- The stats task's step: counts and prints each event; an accepted
-- connection becomes a new member of the loop.
local function on_event(m)
  if m.type == "server" then
    local e = m.server
    stats.opened = stats.opened + 1
    print(("conn %d opened"):format(e.id))
    return task.tag(connection(e.conn, e.id), "conn")
  elseif m.type == "conn" then
    local e = m.conn
    if e.event == "bytes" then
      stats.bytes = stats.bytes + e.n
    else
      stats.closed = stats.closed + 1
      if e.why == "idle timeout" then stats.timeouts = stats.timeouts + 1 end
      print(("conn %d closed: %d bytes echoed (%s)"):format(e.id, e.bytes, e.why))
    end
  else
    print(m.clients)
  end
end

task.run(function()
  local server = auv.tcp_listen("127.0.0.1", 0)
  print("echo server listening on 127.0.0.1 (port " .. server:getsockname().port .. ")")
  task.loop(task.listen { server = acceptor(server), clients = clients(server) }, on_event)()
end)

print(("stats: %d connections opened, %d closed (%d by idle timeout), %d bytes echoed")
  :format(stats.opened, stats.closed, stats.timeouts, stats.bytes))
