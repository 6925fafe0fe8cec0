-- actress.deferred: a value settled from outside, awaitable by task.wait.
--
-- d:resolve(...) and d:reject(err) may be called from anywhere (tasks,
-- plain code, C or libuv callbacks); the first call wins. task.wait(d)
-- suspends until d settles. d:then_(on_ok, on_err) registers callbacks
-- that run when d settles (at once if it has already).

local check = require "actress.check"

local pack, unpack = table.pack, table.unpack

local Deferred = { __name = "actress.Deferred" }
Deferred.__index = Deferred

local function checkself(d, fname)
  if getmetatable(d) ~= Deferred then
    check.argerror(1, fname, "actress.Deferred expected, got " .. check.typename(d), 1)
  end
end

function Deferred.new()
  return setmetatable({ status = "pending", callbacks = {} }, Deferred)
end

-- Calls every callback, even if one fails; then raises the first error.
local function settle(d, status, values)
  if d.status ~= "pending" then return false end
  d.status, d.values = status, values
  local callbacks = d.callbacks
  d.callbacks = nil
  local first_error
  for i = 1, #callbacks do
    local cb = callbacks[i]
    local ok, err = pcall(cb[status == "resolved" and 1 or 2], unpack(values, 1, values.n))
    if not ok and first_error == nil then first_error = err end
  end
  if first_error ~= nil then error(first_error, 0) end
  return true
end

--- Resolves d with the given values; returns false if d had settled.
function Deferred:resolve(...)
  checkself(self, "resolve")
  return settle(self, "resolved", pack(...))
end

--- Rejects d with err; returns false if d had settled.
function Deferred:reject(err)
  checkself(self, "reject")
  return settle(self, "rejected", pack(err))
end

local function ignore() end

function Deferred:then_(on_ok, on_err)
  checkself(self, "then_")
  check.optfn(on_ok, 1, "then_")
  check.optfn(on_err, 2, "then_")
  local cb = { on_ok or ignore, on_err or ignore }
  if self.status == "pending" then
    self.callbacks[#self.callbacks + 1] = cb
  else
    cb[self.status == "resolved" and 1 or 2](unpack(self.values, 1, self.values.n))
  end
  return self
end

return Deferred
