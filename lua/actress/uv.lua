-- actress.uv: task-style I/O on luv (libuv for Lua), for actress tasks.
--
-- Each function suspends the calling task until libuv is done and returns
-- the result, or raises libuv's error ("ENOENT: no such file or directory:
-- /x"), so a task reads like blocking code and pcall catches failures.
-- It needs luv on the same libuv as actress: then actress drives luv's loop
-- (see csrc/lact_luv.c) and luv's callbacks can wake tasks.
--
--   local auv = require "actress.uv"
--   task.run(function()
--     local s <close> = auv.tcp_connect("127.0.0.1", 7000)
--     s:write("ping\n")
--     print(s:read())
--   end)
--
-- Streams read ahead: from its first read on, a stream takes the data
-- libuv delivers and queues it (up to HIGH_WATER bytes, then it stops
-- reading until the queue is drained) until its one reader asks; before
-- that, the kernel's socket buffer holds it. A task waiting in read or accept sits in the object's
-- `waiter` slot; the libuv callback clears the slot and resumes it. If the
-- task leaves early (abort, exit), a to-be-closed guard clears the slot, so
-- a later callback cannot wake it somewhere else.

local task = require "actress"
local core = require "actress.core"
local check = require "actress.check"

local status, luv_version, uv_version = core.luv_status()
if status == "absent" then
  error("actress.uv needs luv (libuv for Lua), which is not installed: install "
    .. "a luv built against the system libuv, e.g. Debian's lua-luv", 2)
elseif status ~= "shared" then
  error(("actress.uv: luv runs on its own copy of libuv (%s) and actress on "
    .. "libuv %s, so they cannot share one loop: install a luv built against "
    .. "the system libuv (e.g. Debian's lua-luv, or luarocks with "
    .. "WITH_SHARED_LIBUV=ON)"):format(tostring(luv_version), tostring(uv_version)), 2)
end

local uv = require "luv"

local current, suspend, resume, wait = task.current, task.suspend, task.resume, task.wait
local await_callback, check_task = task.await_callback, core.check_task
local typename, argerror = check.typename, check.argerror

local M = {}

local HIGH_WATER = 64 * 1024 -- bytes a stream queues before it stops reading

-- A write to a peer that has gone raises SIGPIPE, which would kill the
-- process; with a (no-op) libuv handler for it, the write fails with EPIPE
-- instead. Unreferenced, the handle keeps no loop alive. One per process:
-- busted reloads modules, so the registry remembers it.
do
  local reg = debug.getregistry()
  if not reg["actress.uv.sigpipe"] then
    local sig = uv.new_signal()
    sig:start("sigpipe", function() end)
    sig:unref()
    reg["actress.uv.sigpipe"] = sig
  end
end

-- {====================================================================
-- Argument checks (errors as in the rest of actress, at the caller)
-- ======================================================================

local function want(ok, n, fname, msg)
  if not ok then argerror(n, fname, msg, 1) end
end

local function want_string(v, n, fname)
  want(type(v) == "string", n, fname, "string expected, got " .. typename(v))
end

local function want_port(v, n, fname)
  want(math.type(v) == "integer", n, fname, "integer expected, got " .. typename(v))
  want(v >= 0 and v <= 65535, n, fname, "port out of range")
end

local function want_opt_table(v, n, fname)
  want(v == nil or type(v) == "table", n, fname, "table expected, got " .. typename(v))
end

-- Methods check self inline (`if getmetatable(self) ~= Stream`): read and
-- write run once per message, and a call less there shows in bench/echo.
local function bad_self(self, mt, fname)
  argerror(1, fname, mt.__name .. " expected, got " .. typename(self), 1)
end

-- }====================================================================

-- {====================================================================
-- Waiting for libuv
-- ======================================================================

-- luv's callbacks give only an error's name ("ECONNREFUSED"); its
-- synchronous calls give "NAME: message". These are libuv's messages for
-- the names that network callbacks give, so that both read alike.
local MESSAGES = {
  ECONNREFUSED = "connection refused", ECONNRESET = "connection reset by peer",
  ECONNABORTED = "software caused connection abort", EPIPE = "broken pipe",
  ETIMEDOUT = "connection timed out", ENETUNREACH = "network is unreachable",
  EHOSTUNREACH = "host is unreachable", ENOTCONN = "socket is not connected",
  ECANCELED = "operation canceled", EAI_NONAME = "unknown node or service",
  EAI_AGAIN = "temporary failure", EAI_FAIL = "permanent failure",
}

local function message(err)
  local m = MESSAGES[err]
  return m and (err .. ": " .. m) or err
end

-- Runs a libuv request in the task: start(cb) issues it and returns what
-- luv returns (a request, or nil and an error if it failed at once, in
-- which case libuv never calls cb). Returns cb's results, or raises its
-- error, with `what` (a path, an address) appended.
local function request(what, start)
  local err, a, b = await_callback(function(cb)
    local req, e = start(cb)
    if not req then cb(e) end
  end)
  if err then
    err = message(err)
    error(what and (err .. ": " .. what) or err, 0)
  end
  return a, b
end

-- Can the running code suspend? Not outside a task, nor while task.exit
-- closes one (then <close> handlers run but cannot suspend).
local function can_suspend()
  return coroutine.isyieldable() and (pcall(check_task, "close"))
end

-- The guard of a waiter slot: clears it if the task leaves while waiting.
local Leave = {
  __close = function(guard)
    local obj = guard.obj
    if obj.waiter ~= nil then
      obj.waiter = nil
      if obj.on_leave then obj:on_leave() end
    end
  end,
}

local function busy(obj, doing)
  error(("actress.uv: another task is already %s this %s"):format(doing, obj.kind), 3)
end

-- Suspends the task in obj.waiter until wake(obj). One waiter at a time.
local function sleep_in(obj, doing)
  if obj.waiter ~= nil then busy(obj, doing) end
  obj.waiter = current()
  local _ <close> = obj.leave
  repeat suspend() until obj.waiter == nil -- ignores stray task.resume calls
end

-- From a libuv callback: resumes the task waiting in obj, if any.
local function wake(obj)
  local t = obj.waiter
  if t ~= nil then
    obj.waiter = nil
    resume(t)
  end
end

-- Starts closing obj's handle (once) and returns a Deferred that the
-- close callback resolves. A waiting reader or acceptor is woken: it sees
-- obj.closing.
local function start_close(obj)
  if not obj.closing then
    local closed = task.deferred()
    obj.closing = closed
    obj.handle:close(function() closed:resolve() end)
    wake(obj)
  end
  return obj.closing
end

-- <close>: closes, and waits for the close callback where it can. Waiting
-- matters: luv 1.44 crashes if the process ends while a handle is closing.
local function close_scope(obj)
  local closed = start_close(obj)
  if can_suspend() then wait(closed) end
end

-- Waits until the loop has run once more, so that handles closed by luv
-- itself (a process handle after a failed spawn) finish closing: the
-- callback of a fresh timer comes after that, and its own close too.
local function next_turn()
  await_callback(function(cb)
    local t = uv.new_timer()
    t:start(0, 0, function() t:close(cb) end)
  end)
end

-- Handles of streams and servers that the GC found unclosed. luv anchors
-- an open handle, so it stays valid; closing it in __gc would be unsafe
-- (at lua_close luv frees a closing handle before its loop ends), so the
-- next actress.uv call that opens a handle closes them.
local dropped = {}

local function gc(obj)
  if not obj.closing then dropped[#dropped + 1] = obj.handle end
end

local function close_dropped()
  for i = #dropped, 1, -1 do
    local h = dropped[i]
    dropped[i] = nil
    if not h:is_closing() then close_scope({ handle = h }) end
  end
end

-- }====================================================================

-- {====================================================================
-- Stream: a connected TCP socket or a pipe
-- ======================================================================

local Stream = { __name = "actress.uv.Stream", __close = close_scope, __gc = gc }
Stream.__index = Stream
M.Stream = Stream

-- libuv's read callback for s: queues the chunk, notes EOF or an error,
-- wakes the reader (wake(s), inline).
local function reader_of(s)
  return function(err, data)
    if data then
      local tail = s.tail + 1
      s.tail, s[tail], s.queued = tail, data, s.queued + #data
      if s.queued >= HIGH_WATER then -- full: stop until a reader drains it
        s.reading = false
        s.handle:read_stop()
      end
    else
      if err then s.err = message(err) else s.eof = true end
      s.reading = false -- at its end or failed
      s.handle:read_stop()
    end
    local t = s.waiter
    if t ~= nil then
      s.waiter = nil
      resume(t)
    end
  end
end

-- A reader that leaves early stops reading: nobody would take the data.
local function stop_reading(s)
  if s.reading and not s.closing then s.handle:read_stop() end
  s.reading = false
end

local function new_stream(handle)
  local s = setmetatable({ handle = handle, kind = "stream", head = 1, tail = 0, queued = 0,
    reading = false, on_leave = stop_reading }, Stream)
  s.leave = setmetatable({ obj = s }, Leave)
  s.on_read = reader_of(s)
  return s
end

--- s:read(): the next chunk of data as a string, or nil at end of stream.
-- Suspends until data comes; raises the stream's error.
function Stream:read()
  if getmetatable(self) ~= Stream then bad_self(self, Stream, "read") end
  check_task("read")
  while true do
    local head = self.head
    if head <= self.tail then
      local chunk = self[head]
      self[head] = nil
      self.head, self.queued = head + 1, self.queued - #chunk
      return chunk
    end
    self.head, self.tail = 1, 0
    if self.err then error(self.err, 0) end
    if self.eof then return nil end
    if self.closing then error("actress.uv: read on a closed stream", 2) end
    if not self.reading then
      local ok, err = self.handle:read_start(self.on_read)
      if not ok then error(err, 0) end
      self.reading = true
    end
    -- sleep_in(self, "reading"), inline
    if self.waiter ~= nil then busy(self, "reading") end
    self.waiter = current()
    local _ <close> = self.leave
    repeat suspend() until self.waiter == nil
  end
end

--- s:write(data): writes the string; suspends until libuv has written it.
function Stream:write(data)
  if getmetatable(self) ~= Stream then bad_self(self, Stream, "write") end
  if type(data) ~= "string" then want_string(data, 1, "write") end
  check_task("write")
  if self.closing then error("actress.uv: write on a closed stream", 2) end
  -- Most writes fit in the socket buffer at once; try_write refuses
  -- (EAGAIN) while earlier writes are queued, so order is kept.
  local n, err, name = self.handle:try_write(data)
  if n == #data then return end
  if n then
    data = data:sub(n + 1)
  elseif name ~= "EAGAIN" then
    error(err, 0)
  end
  request(nil, function(cb) return self.handle:write(data, cb) end)
end

--- s:shutdown(): ends the writing side (the peer reads EOF) once queued
-- writes are done; suspends until then.
function Stream:shutdown()
  if getmetatable(self) ~= Stream then bad_self(self, Stream, "shutdown") end
  check_task("shutdown")
  if self.closing then error("actress.uv: shutdown on a closed stream", 2) end
  request(nil, function(cb) return self.handle:shutdown(cb) end)
end

--- s:close(): closes the stream and suspends until it is closed. Closing a
-- closed stream does nothing. A task waiting in s:read() gets an error.
function Stream:close()
  if getmetatable(self) ~= Stream then bad_self(self, Stream, "close") end
  check_task("close")
  wait(start_close(self))
end

function Stream:getsockname() return self.handle:getsockname() end
function Stream:getpeername() return self.handle:getpeername() end

-- }====================================================================

-- {====================================================================
-- TCP
-- ======================================================================

-- A numeric address (IPv4 dotted quad, or IPv6 with colons), which luv's
-- tcp_connect and tcp_bind take as they are; names go through getaddrinfo.
local function numeric(host)
  return host:find("^%d+%.%d+%.%d+%.%d+$") ~= nil or host:find(":", 1, true) ~= nil
end

--- getaddrinfo(host): the addresses of host (strings), as the resolver
-- returns them, without repeats.
function M.getaddrinfo(host)
  want_string(host, 1, "getaddrinfo")
  check_task("getaddrinfo")
  local res = request(host, function(cb)
    return uv.getaddrinfo(host, nil, { socktype = "stream" }, cb)
  end)
  local addrs, seen = {}, {}
  for _, ai in ipairs(res or {}) do
    if not seen[ai.addr] then
      seen[ai.addr] = true
      addrs[#addrs + 1] = ai.addr
    end
  end
  return addrs
end

local function new_tcp()
  close_dropped()
  local h, err = uv.new_tcp()
  if not h then error(err, 0) end
  return h
end

-- One connection attempt: the Stream, or nil and the error. The handle is
-- closed if the attempt fails or the task leaves meanwhile.
local function connect_to(addr, port)
  local s = new_stream(new_tcp())
  local connected = false
  local _ <close> = task.defer(function() if not connected then close_scope(s) end end)
  local err = await_callback(function(cb)
    local req, e = s.handle:connect(addr, port, cb)
    if not req then cb(e) end
  end)
  if err then return nil, ("%s: %s:%d"):format(message(err), addr, port) end
  connected = true
  return s
end

--- tcp_connect(host, port): a Stream connected to host (an address or a
-- name; each of its addresses is tried in turn). Raises the (last) error,
-- e.g. "ECONNREFUSED: connection refused: 127.0.0.1:7000".
function M.tcp_connect(host, port)
  want_string(host, 1, "tcp_connect")
  want_port(port, 2, "tcp_connect")
  check_task("tcp_connect")
  local err
  for _, addr in ipairs(numeric(host) and { host } or M.getaddrinfo(host)) do
    local s
    s, err = connect_to(addr, port)
    if s then return s end
  end
  error(err or ("EAI_NONAME: no address: " .. host), 0)
end

local Server = { __name = "actress.uv.Server", __close = close_scope, __gc = gc }
Server.__index = Server
M.Server = Server

-- libuv's connection callback. libuv stops watching the socket until the
-- connection is accepted, so at most one is pending here (the kernel's
-- backlog queues the others).
local function on_connection(srv, err)
  if err then srv.err = message(err) else srv.pending = srv.pending + 1 end
  wake(srv)
end

--- tcp_listen(host, port, backlog?): a Server listening on host:port
-- (port 0: any free port, see getsockname). backlog defaults to 128.
function M.tcp_listen(host, port, backlog)
  want_string(host, 1, "tcp_listen")
  want_port(port, 2, "tcp_listen")
  want(backlog == nil or math.type(backlog) == "integer" and backlog > 0, 3, "tcp_listen",
    "positive integer expected, got " .. (math.type(backlog) or typename(backlog)))
  check_task("tcp_listen")
  local addr = numeric(host) and host or M.getaddrinfo(host)[1]
  if not addr then error("EAI_NONAME: no address: " .. host, 0) end
  local srv = setmetatable({ handle = new_tcp(), kind = "server", pending = 0 }, Server)
  srv.leave = setmetatable({ obj = srv }, Leave)
  local ok, err = false, nil
  local _ <close> = task.defer(function() if not ok then close_scope(srv) end end)
  ok, err = srv.handle:bind(addr, port)
  if ok then
    ok, err = srv.handle:listen(backlog or 128, function(e) on_connection(srv, e) end)
  end
  if not ok then error(("%s: %s:%d"):format(err, addr, port), 0) end
  return srv
end

--- srv:accept(): the next connection, as a Stream; suspends until one
-- comes. Returns nil once the server is closed (this ends an accept loop).
function Server:accept()
  if getmetatable(self) ~= Server then bad_self(self, Server, "accept") end
  check_task("accept")
  while not self.closing do
    if self.pending > 0 then
      self.pending = self.pending - 1
      local h = new_tcp()
      local ok, err = self.handle:accept(h)
      if not ok then
        close_scope({ handle = h })
        error(err, 0)
      end
      return new_stream(h)
    end
    if self.err then error(self.err, 0) end
    sleep_in(self, "accepting on")
  end
  return nil
end

--- srv:close(): stops listening; suspends until closed. A task waiting in
-- accept gets nil.
function Server:close()
  if getmetatable(self) ~= Server then bad_self(self, Server, "close") end
  check_task("close")
  wait(start_close(self))
end

--- srv:getsockname(): { ip = ..., port = ..., family = ... }.
function Server:getsockname() return self.handle:getsockname() end

-- }====================================================================

-- {====================================================================
-- Files
-- ======================================================================

-- fs_open in the task. If the task leaves before the file is open, the
-- late callback closes it (nobody else could).
local function open(path, flags, mode)
  local waiting = true
  local _ <close> = task.defer(function() waiting = false end)
  return request(nil, function(cb)
    return uv.fs_open(path, flags, mode, function(err, fd)
      if fd and not waiting then uv.fs_close(fd) end
      cb(err, fd)
    end)
  end)
end

-- A to-be-closed fd that closes it unless close_fd did: on an error, an
-- abort or an exit, synchronously, since it may not be able to suspend
-- (closing a file does not block).
local Fd = { __close = function(f) if f.fd then uv.fs_close(f.fd) end end }

local function close_fd(f)
  local fd = f.fd
  f.fd = nil
  request(nil, function(cb) return uv.fs_close(fd, cb) end)
end

--- read_file(path): the whole content of the file, as a string.
function M.read_file(path)
  want_string(path, 1, "read_file")
  check_task("read_file")
  local f <close> = setmetatable({ fd = open(path, "r", 0) }, Fd)
  local size = request(nil, function(cb) return uv.fs_fstat(f.fd, cb) end).size
  local parts, offset = {}, 0
  repeat -- to the end, which may be past the size fstat told (/proc files say 0)
    local chunk = request(nil, function(cb)
      return uv.fs_read(f.fd, math.max(size - offset, 65536), offset, cb)
    end)
    parts[#parts + 1] = chunk
    offset = offset + #chunk
  until chunk == ""
  close_fd(f)
  return table.concat(parts)
end

--- write_file(path, data): creates or truncates the file (mode 0644 less
-- the umask) and writes data to it.
function M.write_file(path, data)
  want_string(path, 1, "write_file")
  want_string(data, 2, "write_file")
  check_task("write_file")
  local f <close> = setmetatable({ fd = open(path, "w", tonumber("644", 8)) }, Fd)
  local offset = 0
  while offset < #data do
    local rest = offset == 0 and data or data:sub(offset + 1)
    offset = offset + request(nil, function(cb) return uv.fs_write(f.fd, rest, offset, cb) end)
  end
  close_fd(f)
end

-- }====================================================================

-- {====================================================================
-- Processes
-- ======================================================================

--- spawn(file, args?, opts?): runs the program file (searched in PATH)
-- with the array of string args, waits for it to exit and returns its
-- exit code and terminating signal (0: none). With opts.stdout == true,
-- also returns what it wrote to stdout (else stdout is inherited; stdin
-- is ignored, stderr inherited). opts.cwd and opts.env (an array of
-- "NAME=value") are passed to libuv. If the task is aborted meanwhile,
-- the process gets SIGTERM.
function M.spawn(file, args, opts)
  want_string(file, 1, "spawn")
  want_opt_table(args, 2, "spawn")
  for i, a in ipairs(args or {}) do
    want(type(a) == "string", 2, "spawn", ("array of strings expected, got %s at index %d")
      :format(typename(a), i))
  end
  want_opt_table(opts, 3, "spawn")
  opts = opts or {}
  check_task("spawn")
  close_dropped()
  local out <close> = opts.stdout and new_stream(uv.new_pipe(false)) or nil
  local exited, closed = task.deferred(), task.deferred()
  local proc, err
  proc, err = uv.spawn(file, {
    args = args, cwd = opts.cwd, env = opts.env,
    stdio = { nil, out and out.handle or 1, 2 },
  }, function(code, signal)
    exited:resolve(code, signal)
    proc:close(function() closed:resolve() end)
  end)
  if not proc then
    next_turn() -- luv closes the process handle it made
    error(err .. ": " .. file, 0)
  end
  local _ <close> = task.defer(function()
    if exited.status == "pending" then proc:kill("sigterm") end
  end)
  local output
  if out then
    local parts = {}
    for chunk in out.read, out do parts[#parts + 1] = chunk end
    output = table.concat(parts)
  end
  local code, signal = wait(exited)
  wait(closed)
  return code, signal, output
end

-- }====================================================================

return M
