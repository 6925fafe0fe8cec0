-- actress with luv: the shared loop (luv callbacks under task.run, actress
-- timers under uv.run, no nested runs), task.await_callback, and the
-- actress.uv module (files, TCP, processes, DNS) and its examples.
--
-- Every spec runs on 127.0.0.1 only and asserts no timing: a watchdog
-- aborts a spec that has not finished after SAFETY_MS (a safety net, never
-- reached when things work). Each spec closes what it opens and lets the
-- loop run afterwards (luv 1.44 crashes at exit if a handle is still
-- closing then).
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local have_luv, uv = pcall(require, "luv")
if not have_luv then
  describe("actress.uv", function()
    pending("luv is not installed (Debian: apt-get install lua-luv): skipped")
  end)
  return
end

local auv = require "actress.uv"

local SAFETY_MS = 20000
local pack, unpack = table.pack, table.unpack

-- task.run(fn, ...), aborting fn if it has not finished after SAFETY_MS.
local function run(fn, ...)
  return task.run(function(...)
    local me, fired = task.current(), false
    local dog = task.fork(function()
      task.sleep(SAFETY_MS)
      fired = true
      task.abort(me, "spec timed out (safety net)")
    end)
    local r = pack(pcall(fn, ...))
    if not fired then task.terminate(dog) end
    if not r[1] then error(r[2], 0) end
    return unpack(r, 2, r.n)
  end, ...)
end

-- The open (not closing) luv handles on the loop, as a set.
local function open_handles()
  local set = {}
  uv.walk(function(h)
    if not h:is_closing() then set[h] = true end
  end)
  return set
end

local function count(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

-- The handles in `after` that were not in `before`, as strings.
local function new_handles(before, after)
  local new = {}
  for h in pairs(after) do
    if not before[h] then new[#new + 1] = tostring(h) end
  end
  return new
end

-- An echo server task on 127.0.0.1: returns the server and its port. Each
-- connection is served by a task of its own until the client hangs up.
local function echo_server()
  local server = auv.tcp_listen("127.0.0.1", 0)
  task.fork(function()
    for conn in server.accept, server do
      task.fork(function()
        local s <close> = conn
        for data in s.read, s do s:write(data) end
      end)
    end
  end)
  return server, server:getsockname().port
end

-- Reads from s until n bytes came; returns them.
local function read_n(s, n)
  local parts, got = {}, 0
  while got < n do
    local chunk = assert(s:read(), "unexpected end of stream")
    parts[#parts + 1] = chunk
    got = got + #chunk
  end
  return table.concat(parts)
end

-- Lets the loop run until the open handles are those of `before` again
-- (the tasks that close them may still be running); the safety net fails
-- the spec if that never happens.
local function settle(before)
  run(function()
    while #new_handles(before, open_handles()) > 0 do task.sleep(1) end
  end)
  assert.same({}, new_handles(before, open_handles()))
end

local function tmpfile()
  local path = os.tmpname()
  os.remove(path)
  return path
end

describe("actress and luv share one loop", function()
  it("luv runs on actress's libuv: luv_status() is 'shared'", function()
    local status, luv_version, uv_version = require("actress.core").luv_status()
    assert.equal("shared", status)
    assert.equal(uv_version, luv_version)
  end)

  -- actress drives luv's loop through luv's public API only: it used to
  -- replace uv.run with a guard and install package.preload.luv.
  it("changes nothing of luv: its module table and package.preload are untouched", function()
    local out, err, code = H.run_lua [[
      local uv = require "luv"
      local before = {}
      for k, v in pairs(uv) do before[k] = v end
      local task = require "actress"
      local changed = {}
      for k, v in pairs(uv) do
        if before[k] ~= v then changed[#changed + 1] = k end
      end
      for k in pairs(before) do
        if uv[k] == nil then changed[#changed + 1] = k end
      end
      print(#changed, package.preload.luv, (require("actress.core").luv_status()))
      print(task.run(function() task.sleep(1) return "ran" end))
    ]]
    assert.equal(0, code, err)
    assert.equal("0\tnil\tshared\nran\n", out)
  end)

  it("a luv required again after package.loaded.luv was cleared shares the loop", function()
    local out, err, code = H.run_lua [[
      local task = require "actress"
      package.loaded.luv = nil
      local uv = require "luv"
      local log = {}
      task.main(function() task.sleep(2) log[#log + 1] = "slept" end)
      local t = uv.new_timer()
      t:start(1, 0, function() log[#log + 1] = "luv timer"; t:close() end)
      uv.run()
      print(table.concat(log, ","))
    ]]
    assert.equal(0, code, err)
    assert.equal("luv timer,slept\n", out)
  end)

  it("actress timers and tasks run while uv.run() drives the loop", function()
    local log = {}
    task.main(function()
      task.sleep(5)
      log[#log + 1] = "slept"
      task.wait()
      log[#log + 1] = "yielded"
    end)
    uv.run()
    assert.same({ "slept", "yielded" }, log)
  end)

  it("luv callbacks fire while task.run drives the loop", function()
    local got = run(function()
      return task.await_callback(function(cb)
        local t = uv.new_timer()
        t:start(1, 0, function()
          t:close(function() cb("fired", 42) end)
        end)
      end)
    end)
    assert.equal("fired", got)
  end)

  -- uv.run() from a task nests the loop when uv.run() already runs the
  -- task: the nested run stops at once and the task fails with a clear
  -- error as soon as it returns (after the pcall: no pcall can hide it).
  it("uv.run() inside a task run by uv.run() stops at once, and the task fails", function()
    local out, err, code = H.run_lua([[
      local task = require "actress"
      local uv = require "luv"
      task.on_error(function(e, f) print("failed: " .. tostring(e)) end)
      task.main(function()
        task.wait() -- from here on, run by uv.run()
        pcall(uv.run)
        print("not reached")
      end)
      uv.run()
      print("done", task.stats().tasks)
    ]])
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("failed: actress: uv.run cannot be called from inside a task (libuv's loop "
      .. "is not reentrant): use actress.uv or task.await_callback to wait for I/O\n"
      .. "done\t0\n", out)
  end)

  -- Under actress's own drivers a task runs outside libuv's loop, so
  -- uv.run() there is a blocking call, as documented: luv's callbacks run
  -- until luv has nothing left; the other tasks wait meanwhile.
  it("uv.run() inside a task run by task.run runs luv's callbacks, blocking the others", function()
    local out, err, code = H.run_lua([[
      local task = require "actress"
      local uv = require "luv"
      print(task.run(function()
        local other_ran, fired = false, false
        task.fork(function() other_ran = true end)
        local t = uv.new_timer()
        t:start(2, 0, function() fired = true; t:close() end)
        uv.run()
        local during = other_ran
        task.wait()
        return fired, during, other_ran
      end))
    ]])
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("true\tfalse\ttrue\n", out)
  end)

  it("task.run inside a luv callback while uv.run() drives raises", function()
    local out, err, code = H.run_lua([[
      local task = require "actress"
      local uv = require "luv"
      local t = uv.new_timer()
      t:start(0, 0, function()
        print(pcall(task.run, function() return "ran" end))
        t:close()
      end)
      uv.run()
    ]])
    assert.equal("", err)
    assert.equal(0, code)
    assert.matches("^false\t.*while uv%.run%(%) drives the loop", out)
  end)

  it("await_callback ignores a callback that comes after the task was aborted", function()
    run(function()
      local fired = false
      local f = task.fork(function()
        return task.await_callback(function(cb)
          local t = uv.new_timer()
          t:start(1, 0, function()
            t:close(function()
              fired = true
              cb("late")
            end)
          end)
        end)
      end)
      task.wait() -- f is waiting in await_callback
      task.abort(f, "stop")
      assert.same({ false, "stop" }, { pcall(task.join, f) })
      while not fired do task.sleep(1) end
      assert.same({ ok = false, error = "stop" }, f.result)
    end)
  end)

  it("a late callback does not wake a task that caught the abort and suspended again", function()
    run(function()
      local saved
      local g = task.fork(function()
        local ok, err = pcall(task.await_callback, function(cb) saved = cb end)
        assert(not ok and err == "stop")
        task.suspend() -- the late callback below must not end this
        return "resumed by task.resume"
      end)
      task.wait()
      task.abort(g, "stop")
      saved("late")
      task.wait()
      task.wait()
      assert.equal("active", g.status)
      task.resume(g)
      assert.equal("resumed by task.resume", task.join(g))
    end)
  end)
end)

describe("actress.uv", function()
  describe("loading", function()
    -- Loads actress.uv afresh with core.luv_status() stubbed to say `status`.
    local function load_with(status)
      local core = require "actress.core"
      local saved_status, saved_mod = core.luv_status, package.loaded["actress.uv"]
      core.luv_status = function() return status, 99999, 12345 end
      package.loaded["actress.uv"] = nil
      local ok, err = pcall(require, "actress.uv")
      core.luv_status, package.loaded["actress.uv"] = saved_status, saved_mod
      return ok, err
    end

    it("refuses with a clear error when luv runs on another copy of libuv", function()
      local ok, err = load_with("separate")
      assert.is_false(ok)
      assert.matches("own copy of libuv (99999) and actress on libuv 12345", err, 1, true)
      assert.matches("lua-luv", err, 1, true)
    end)

    it("refuses with a clear error when luv is absent", function()
      local ok, err = load_with("absent")
      assert.is_false(ok)
      assert.matches("actress.uv needs luv", err, 1, true)
    end)
  end)

  describe("argument checks", function()
    it("every function checks its arguments, naming itself", function()
      run(function()
        H.bad_argument(1, "read_file", "string expected, got number", auv.read_file, 42)
        H.bad_argument(2, "write_file", "string expected, got nil", auv.write_file, "/tmp/x")
        H.bad_argument(1, "tcp_connect", "string expected, got nil", auv.tcp_connect)
        H.bad_argument(2, "tcp_connect", "integer expected, got string", auv.tcp_connect,
          "127.0.0.1", "80")
        H.bad_argument(2, "tcp_listen", "port out of range", auv.tcp_listen, "127.0.0.1", 70000)
        H.bad_argument(3, "tcp_listen", "positive integer expected, got float",
          auv.tcp_listen, "127.0.0.1", 0, 1.5)
        H.bad_argument(1, "getaddrinfo", "string expected, got table", auv.getaddrinfo, {})
        H.bad_argument(2, "spawn", "array of strings expected, got number at index 2",
          auv.spawn, "true", { "a", 1 })
        H.bad_argument(3, "spawn", "table expected, got string", auv.spawn, "true", {}, "x")
        H.bad_argument(1, "read", "actress.uv.Stream expected, got table", auv.Stream.read, {})
        H.bad_argument(1, "accept", "actress.uv.Server expected, got nil", auv.Server.accept)
      end)
    end)

    it("the functions must be called inside a task", function()
      for name, args in pairs {
        read_file = { "/etc/hostname" }, write_file = { "/tmp/x", "" },
        tcp_connect = { "127.0.0.1", 1 }, tcp_listen = { "127.0.0.1", 0 },
        getaddrinfo = { "localhost" }, spawn = { "true" },
      } do
        local ok, err = pcall(auv[name], unpack(args))
        assert.is_false(ok)
        assert.matches("actress: " .. name .. " must be called from inside a task", err, 1, true)
      end
    end)
  end)

  describe("files", function()
    it("write_file then read_file gives the data back", function()
      local path = tmpfile()
      local data = ("0123456789abcdef"):rep(20000) .. "end" -- more than one read
      local back = run(function()
        auv.write_file(path, data)
        return auv.read_file(path)
      end)
      os.remove(path)
      assert.equal(#data, #back)
      assert.is_true(data == back)
    end)

    it("read_file reads files whose size stat does not tell (/proc)", function()
      local status = run(auv.read_file, "/proc/self/status")
      assert.matches("Name:", status, 1, true)
    end)

    it("read_file of a missing file raises a catchable ENOENT error", function()
      local path = tmpfile()
      local ok, err = run(function() return pcall(auv.read_file, path) end)
      assert.is_false(ok)
      assert.equal("ENOENT: no such file or directory: " .. path, err)
    end)

    it("many files read concurrently with task.all", function()
      local paths = {}
      for i = 1, 20 do paths[i] = tmpfile() end
      local contents = run(function()
        local jobs = {}
        for i, p in ipairs(paths) do jobs[i] = function() auv.write_file(p, ("x"):rep(i)) end end
        task.all(jobs)
        for i, p in ipairs(paths) do jobs[i] = function() return auv.read_file(p) end end
        return task.all(jobs)
      end)
      for i, p in ipairs(paths) do
        os.remove(p)
        assert.equal(("x"):rep(i), contents[i])
      end
    end)
  end)

  describe("TCP", function()
    -- The echo server's connection tasks see the clients hang up only once
    -- they run again, after run() has returned: the drain lets them finish.
    after_each(H.reset)

    it("echo round trips with 100 concurrent client tasks on 127.0.0.1", function()
      local before = open_handles()
      local results = run(function()
        local server <close>, port = echo_server()
        local clients = {}
        for i = 1, 100 do
          clients[i] = function()
            local s <close> = auv.tcp_connect("127.0.0.1", port)
            local echoed = {}
            for round = 1, 5 do
              local msg = ("client %d round %d|"):format(i, round)
              s:write(msg)
              echoed[round] = read_n(s, #msg)
            end
            return table.concat(echoed)
          end
        end
        return task.all(clients)
      end)
      assert.equal(100, #results)
      for i = 1, 100 do
        local want = {}
        for round = 1, 5 do want[round] = ("client %d round %d|"):format(i, round) end
        assert.equal(table.concat(want), results[i])
      end
      settle(before) -- the server's tasks see the clients hang up and close
    end)

    it("data that arrives while nobody reads is queued, and reading stops when the queue is full", function()
      local big = ("0123456789"):rep(100000) -- 1 MB: more than the queue and the socket buffers
      run(function()
        local server <close> = auv.tcp_listen("127.0.0.1", 0)
        local port = server:getsockname().port
        local go = task.deferred()
        local writer = task.fork(function()
          local s <close> = server:accept()
          s:write("first|")
          task.wait(go)
          s:write("second|")
          s:write(big) -- suspends until the client has read enough of it
        end)
        local c <close> = auv.tcp_connect("127.0.0.1", port)
        assert.equal("first|", read_n(c, 6)) -- the stream is reading from now on
        go:resolve()
        -- Nobody reads now: the stream reads ahead until its queue is full.
        while c.reading or c.queued == 0 do task.sleep(1) end
        assert.is_true(c.queued >= 64 * 1024)
        assert.is_false(c.handle:is_active()) -- libuv is not reading
        local rest = read_n(c, 7 + #big)
        assert.is_true(rest == "second|" .. big)
        task.join(writer)
        assert.is_nil(c:read()) -- the writer closed: end of stream
        assert.is_nil(c:read())
      end)
    end)

    it("a second concurrent read of one stream raises a clear error", function()
      run(function()
        local server <close>, port = echo_server()
        local s <close> = auv.tcp_connect("127.0.0.1", port)
        local first = task.fork(function() return s:read() end)
        task.wait() -- first waits in read
        local ok, err = pcall(s.read, s)
        assert.is_false(ok)
        assert.matches("another task is already reading this stream", err, 1, true)
        s:write("for the first")
        assert.equal("for the first", task.join(first))
      end)
    end)

    it("connection refused is a catchable error", function()
      local ok, err = run(function()
        local server = auv.tcp_listen("127.0.0.1", 0)
        local port = server:getsockname().port
        server:close() -- nobody listens there now
        return pcall(auv.tcp_connect, "127.0.0.1", port)
      end)
      assert.is_false(ok)
      assert.matches("^ECONNREFUSED: connection refused: 127%.0%.0%.1:%d+$", err)
    end)

    it("writing to a peer that hung up raises a catchable error (no SIGPIPE)", function()
      local ok, err = run(function()
        local server <close> = auv.tcp_listen("127.0.0.1", 0)
        local s <close> = auv.tcp_connect("127.0.0.1", server:getsockname().port)
        server:accept():close()
        local big = ("x"):rep(100000)
        for _ = 1, 1000 do -- the first writes may still reach the kernel
          local wrote, e = pcall(s.write, s, big)
          if not wrote then return wrote, e end
        end
      end)
      assert.is_false(ok)
      assert.is_truthy(err == "EPIPE: broken pipe" or err == "ECONNRESET: connection reset by peer",
        err)
    end)

    it("an aborted read stops reading, and <close> leaves no handle open", function()
      local before = open_handles()
      run(function()
        local server <close> = auv.tcp_listen("127.0.0.1", 0)
        local port = server:getsockname().port
        local connected = task.deferred()
        local stream
        local reader = task.fork(function()
          local s <close> = auv.tcp_connect("127.0.0.1", port)
          stream = s
          connected:resolve()
          return s:read() -- nothing ever comes
        end)
        local peer <close> = server:accept()
        task.wait(connected) -- the reader went on into read and waits there
        assert.is_true(stream.handle:is_active())
        task.abort(reader, "stop")
        assert.same({ false, "stop" }, { pcall(task.join, reader) })
        assert.is_false(stream.reading)
        assert.is_truthy(stream.closing) -- its <close> closed it
      end)
      assert.same({}, new_handles(before, open_handles()))
    end)

    it("an aborted read without <close> stops libuv reading; the stream can be read again", function()
      run(function()
        local server <close>, port = echo_server()
        local s <close> = auv.tcp_connect("127.0.0.1", port)
        local reader = task.fork(function() return s:read() end)
        task.wait()
        assert.is_true(s.handle:is_active())
        task.abort(reader, "stop")
        assert.is_false(s.handle:is_active())
        s:write("again")
        assert.equal("again", read_n(s, 5))
      end)
    end)

    it("closing a server ends its accept loop; closing a stream fails its reader", function()
      run(function()
        local server = auv.tcp_listen("127.0.0.1", 0)
        local acceptor = task.fork(function() return server:accept() end)
        task.wait()
        server:close()
        assert.is_nil(task.join(acceptor))
        assert.is_nil(server:accept())
        server:close() -- again: nothing happens
      end)
      run(function()
        local server <close>, port = echo_server()
        local s = auv.tcp_connect("127.0.0.1", port)
        local reader = task.fork(function() return s:read() end)
        task.wait()
        s:close()
        local ok, err = pcall(task.join, reader)
        assert.is_false(ok)
        assert.matches("read on a closed stream", err, 1, true)
        ok, err = pcall(s.write, s, "x")
        assert.matches("write on a closed stream", err, 1, true)
      end)
    end)

    it("shutdown ends the writing side: the peer reads the end of the stream", function()
      local got = run(function()
        local server <close>, port = echo_server()
        local s <close> = auv.tcp_connect("127.0.0.1", port)
        s:write("last words")
        s:shutdown()
        local parts = {}
        for chunk in s.read, s do parts[#parts + 1] = chunk end -- until the server closes
        return table.concat(parts)
      end)
      assert.equal("last words", got)
    end)

    it("a stream exited by task.exit is closed by its <close>", function()
      local before = open_handles()
      run(function()
        local server <close>, port = echo_server()
        local stream, connected = nil, task.deferred()
        local f = task.fork(function()
          local s <close> = auv.tcp_connect("127.0.0.1", port)
          stream = s
          connected:resolve()
          s:read()
        end)
        task.wait(connected) -- f went on into read and waits there
        task.exit(f) -- <close> runs but cannot suspend: it starts the close
        assert.is_truthy(stream.closing)
        task.wait(stream.closing) -- then the close completes
      end)
      settle(before)
    end)

    it("getaddrinfo resolves localhost, and tcp_connect takes a name", function()
      local addrs, echoed = run(function()
        local server <close>, port = echo_server()
        local s <close> = auv.tcp_connect("localhost", port)
        s:write("by name")
        return auv.getaddrinfo("localhost"), read_n(s, 7)
      end)
      assert.is_true(#addrs >= 1)
      assert.equal("by name", echoed)
    end)
  end)

  describe("processes", function()
    it("spawn returns the exit code and signal, and captures stdout", function()
      local r = run(function()
        return {
          pack(auv.spawn("sh", { "-c", "exit 3" })),
          pack(auv.spawn("sh", { "-c", "printf 'hello\\nworld'" }, { stdout = true })),
          pack(auv.spawn("sh", { "-c", "kill -TERM $$" })),
        }
      end)
      assert.same({ 3, 0, n = 2 }, { r[1][1], r[1][2], n = 2 })
      assert.same({ 0, 0, "hello\nworld" }, { r[2][1], r[2][2], r[2][3] })
      assert.equal(15, r[3][2])
    end)

    it("spawn of a missing program raises a catchable ENOENT error", function()
      local ok, err = run(function() return pcall(auv.spawn, "no-such-program-here") end)
      assert.is_false(ok)
      assert.matches("^ENOENT: no such file or directory: no%-such%-program%-here$", err)
    end)

    it("an aborted spawn terminates the process, whose handle then closes", function()
      local before = open_handles()
      run(function()
        local f = task.fork(auv.spawn, "sleep", { "30" })
        task.wait()
        task.abort(f, "stop")
        assert.same({ false, "stop" }, { pcall(task.join, f) })
      end)
      settle(before)
    end)
  end)

  describe("lua_close", function()
    it("with open luv handles and pending tasks exits cleanly", function()
      local out, err, code = H.run_lua([[
        local task = require "actress"
        local auv = require "actress.uv"
        local uv = require "luv"
        task.run(function()
          local server = auv.tcp_listen("127.0.0.1", 0)
          local port = server:getsockname().port
          task.fork(function() task.sleep(math.huge) end)     -- a sleeping task
          task.fork(function() task.sleep(1e9) end)           -- one with a timer
          local client = auv.tcp_connect("127.0.0.1", port)    -- a connected stream
          local peer = server:accept()
          task.fork(function() client:read() end)              -- a task waiting in read
          task.fork(function() server:accept() end)            -- one waiting in accept
          local t = uv.new_timer()                             -- a plain luv handle
          t:start(1e9, 0, function() end)
          task.wait()
          local n = 0
          uv.walk(function() n = n + 1 end)
          print("open handles: " .. n, "tasks: " .. task.stats().tasks)
        end)
        print("exiting")
      ]])
      assert.equal("", err)
      assert.equal(0, code)
      assert.matches("^open handles: %d+\ttasks: %d+\nexiting\n$", out)
      assert.is_true(tonumber(out:match("open handles: (%d+)")) >= 7)
    end)
  end)

  describe("exiting right after closing", function()
    -- luv 1.44 crashes at lua_close if a handle is still closing, so what
    -- actress.uv closes it waits for (<close>, failed connects and spawns).
    it("is clean: actress.uv waits for its handles to close", function()
      local out, err, code = H.run_lua([[
        local task = require "actress"
        local auv = require "actress.uv"
        task.run(function()
          local server <close> = auv.tcp_listen("127.0.0.1", 0)
          local port = server:getsockname().port
          local s <close> = auv.tcp_connect("127.0.0.1", port)
          local peer <close> = server:accept()
          local gone = auv.tcp_listen("127.0.0.1", 0)
          local gone_port = gone:getsockname().port
          gone:close()
          local ok, e = pcall(auv.tcp_connect, "127.0.0.1", gone_port)
          print(ok, (e:gsub(":%d+$", ":PORT")))
          print(pcall(auv.spawn, "no-such-program-here"))
        end)
      ]])
      assert.equal("", err)
      assert.equal(0, code)
      assert.equal("false\tECONNREFUSED: connection refused: 127.0.0.1:PORT\n"
        .. "false\tENOENT: no such file or directory: no-such-program-here\n", out)
    end)
  end)

  describe("examples", function()
    it("fetch_files.lua reads its files concurrently and cleans up", function()
      local out, err, code = H.run_lua_file("examples/fetch_files.lua")
      assert.equal("", err)
      assert.equal(0, code)
      local want = { "wrote 8 files" }
      for i = 1, 8 do
        want[#want + 1] = ("file %d: %5d bytes, all '%d': true"):format(i, i * 1000, i)
      end
      want[#want + 1] = "total: 36000 bytes in 8 files, read concurrently"
      want[#want + 1] = "a missing file: ENOENT (caught)"
      assert.equal(table.concat(want, "\n") .. "\n", out)
    end)

    it("echo_server.lua serves its clients, aborts the idle one, prints its stats", function()
      local out, err, code = H.run_lua_file("examples/echo_server.lua")
      assert.equal("", err)
      assert.equal(0, code)
      local lines = {}
      for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
      assert.matches("^echo server listening on 127%.0%.0%.1 %(port %d+%)$", lines[1])
      assert.equal("stats: 3 connections opened, 3 closed (1 by idle timeout), 36 bytes echoed",
        lines[#lines])
      -- The lines between, in any order (the clients run concurrently).
      local events, closed = {}, {}
      for k = 2, #lines - 1 do
        local bytes, why = lines[k]:match("^conn %d closed: (%d+) bytes echoed %((.*)%)$")
        if bytes then
          closed[#closed + 1] = bytes .. " " .. why -- which conn it was depends on the order
        else
          events[#events + 1] = lines[k]
        end
      end
      table.sort(events)
      table.sort(closed)
      assert.same({
        "all clients done, server closed",
        "client A: 3 messages echoed, hanging up",
        "client B: 2 messages echoed, hanging up",
        "client C: got its echo, now quiet",
        "client C: the server closed the connection",
        "conn 1 opened",
        "conn 2 opened",
        "conn 3 opened",
      }, events)
      assert.same({ "11 client hung up", "19 client hung up", "6 idle timeout" }, closed)
    end)
  end)
end)
