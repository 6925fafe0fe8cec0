-- actress.check: argument checks for the parts of actress written in Lua.
-- Errors read as Lua's own: "bad argument #1 to 'all' (table expected, got nil)",
-- positioned at the caller of the public function.

local check = {}

local function typename(v)
  local mt = debug.getmetatable(v)
  if mt and type(mt.__name) == "string" then return mt.__name end
  return type(v)
end

-- Raises a bad-argument error at the caller of the function that called us
-- (or `depth` more levels up, when called from a helper of that function).
function check.argerror(n, fname, msg, depth)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), 3 + (depth or 0))
end

function check.callable(v)
  if type(v) == "function" then return true end
  local mt = debug.getmetatable(v)
  return mt ~= nil and mt.__call ~= nil
end

-- Each check returns v, or raises naming the argument and the function.
function check.fn(v, n, fname, depth)
  if not check.callable(v) then
    check.argerror(n, fname, "function expected, got " .. typename(v), 1 + (depth or 0))
  end
  return v
end

function check.optfn(v, n, fname, depth)
  if v ~= nil then check.fn(v, n, fname, 1 + (depth or 0)) end
  return v
end

function check.table(v, n, fname, depth)
  if type(v) ~= "table" then
    check.argerror(n, fname, "table expected, got " .. typename(v), 1 + (depth or 0))
  end
  return v
end

check.typename = typename

return check
