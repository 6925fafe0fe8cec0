-- actress.effects: the effect combinators (API §5), in Lua on top of the
-- core's fork, group, gather (a group whose members' messages pass
-- through a function) and adopt (a new member for a waiting group).
--
-- An effect is a task whose purpose is to send messages. Every combinator
-- takes and returns tasks (functions) and is lazy: building one runs
-- nothing; calling the result inside a task runs it there.

local core = require "actress.core"
local check = require "actress.check"

local fork, group, gather, adopt = core.fork, core.group, core.gather, core.adopt
local join, send, current = core.join, core.send, core.current
local pack, unpack = table.pack, table.unpack

local effects = {}

local function nothing() end

--- The empty effect; every call returns the same function.
function effects.none()
  return nothing
end

--- Effect that runs t and sends its first result, unless that is nil.
function effects.effect(t)
  check.fn(t, 1, "effect")
  return function(...)
    local v = t(...)
    if v ~= nil then send(v) end
  end
end

-- Checks that `list` is an array of callables; returns a copy without the
-- none() entries, so that later changes to the caller's table do not
-- change the effect.
local function effect_array(list, fname)
  check.table(list, 1, fname, 1)
  local copy = {}
  for i = 1, #list do
    local e = list[i]
    if not check.callable(e) then
      check.argerror(1, fname, ("array of effects expected, got %s at index %d")
        :format(check.typename(e), i), 1)
    end
    if e ~= nothing then copy[#copy + 1] = e end
  end
  return copy
end

-- Effect that runs the effects of the array concurrently.
local function batch_of(list)
  if #list == 0 then return nothing end
  if #list == 1 then
    local e = list[1]
    return function() join(fork(e)) end
  end
  return function()
    local forks = {}
    for i = 1, #list do forks[i] = fork(list[i]) end
    group(forks)
  end
end

--- Effect that runs all effects concurrently and passes on their messages.
function effects.batch(list)
  return batch_of(effect_array(list, "batch"))
end

--- batch of effect(t) for each task; effects({}) is none().
function effects.effects(tasks)
  local list = effect_array(tasks, "effects")
  for i = 1, #list do list[i] = effects.effect(list[i]) end
  return batch_of(list)
end

--- A task that runs e and passes on fn(m) for each message m of e (nil
-- drops it); e's result and error pass through unchanged.
function effects.map(e, fn)
  check.fn(e, 1, "map")
  check.fn(fn, 2, "map")
  return function(...)
    local f = fork(e, ...)
    gather({ f }, fn)
    return join(f)
  end
end

--- Effect passing on each message m of e as { type = name, [name] = m }.
function effects.tag(e, name)
  check.fn(e, 1, "tag")
  if type(name) ~= "string" then
    check.argerror(2, "tag", "string expected, got " .. check.typename(name))
  end
  if e == nothing then return nothing end
  return effects.map(e, function(m) return { type = name, [name] = m } end)
end

--- Effect merging the effects of { name = effect, ... }, each tagged with
-- its key. Sources start in the order of their sorted keys.
function effects.listen(sources)
  check.table(sources, 1, "listen")
  local names = {}
  for name, e in pairs(sources) do
    if type(name) ~= "string" then
      check.argerror(1, "listen", "table of effects expected, got a "
        .. check.typename(name) .. " key")
    end
    if not check.callable(e) then
      check.argerror(1, "listen", ("table of effects expected, got %s at key '%s'")
        :format(check.typename(e), name))
    end
    if e ~= nothing then names[#names + 1] = name end
  end
  table.sort(names)
  local list = {}
  for i, name in ipairs(names) do list[i] = effects.tag(sources[name], name) end
  return batch_of(list)
end

--- A task that runs effect init, and for each message m of any member runs
-- next(m) as a new member (an effect it returns runs in its place).
-- Consumes the messages; finishes when no member remains; a failing member
-- fails the loop and aborts the others.
function effects.loop(init, next)
  check.fn(init, 1, "loop")
  check.fn(next, 2, "loop")
  local function step(m)
    local e = next(m)
    if e ~= nil and check.callable(e) then return e() end
  end
  return function()
    local self = current()
    gather({ fork(init) }, function(m)
      adopt(self, fork(step, m))
      return nil
    end)
  end
end

--- A task returning on_ok(values...) if t succeeds or on_err(err) if it
-- fails. A missing on_ok returns the values; a missing on_err re-raises.
function effects.then_(t, on_ok, on_err)
  check.fn(t, 1, "then_")
  check.optfn(on_ok, 2, "then_")
  check.optfn(on_err, 3, "then_")
  return function(...)
    local r = pack(pcall(t, ...))
    if r[1] then
      if on_ok then return on_ok(unpack(r, 2, r.n)) end
      return unpack(r, 2, r.n)
    end
    if on_err then return on_err(r[2]) end
    error(r[2], 0)
  end
end

return effects
