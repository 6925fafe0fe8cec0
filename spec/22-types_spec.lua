-- types/actress.lua (LuaCATS) must describe every public name of the module,
-- so that a public function added without a type fails here.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local PATH = "types/actress.lua"

local text = H.read(PATH)
local lines = {}
for line in (text .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = line end

-- The `---` lines just above line i, top to bottom.
local function doc_block(i)
  local block = {}
  local j = i - 1
  while j >= 1 and lines[j]:match("^%-%-%-") do
    table.insert(block, 1, lines[j])
    j = j - 1
  end
  return block
end

-- Definitions: "task.fork" -> { params = { "fn", "..." }, doc = { ... } }.
local defs = {}
for i, line in ipairs(lines) do
  local owner, sep, name, params = line:match("^function ([%w_]+)([.:])([%w_]+)%((.-)%)")
  if owner then
    local list = {}
    for p in params:gmatch("[^,%s]+") do list[#list + 1] = p end
    defs[owner .. sep .. name] = { params = list, doc = doc_block(i), line = i }
  end
  local field = line:match("^task%.([%w_]+) = ")
  if field then
    defs["task." .. field] = { value = true, doc = doc_block(i), line = i }
  end
end

-- The `---@field` names of the class whose `---@class` line matches header.
local function class_fields(header)
  local fields
  for _, line in ipairs(lines) do
    if fields then
      if not line:match("^%-%-%-") then break end
      local name = line:match("^%-%-%-@field%s+([%w_]+)")
      if name then fields[name] = true end
    elseif line:find(header, 1, true) == 1 then
      fields = {}
    end
  end
  assert(fields, "no class line starting with " .. header)
  return fields
end

local function sorted_keys(t, keep)
  local ks = {}
  for k, v in pairs(t) do
    if keep == nil or keep(k, v) then ks[#ks + 1] = k end
  end
  table.sort(ks)
  return ks
end

-- Asserts that definition `key` exists and is documented: a description and
-- at least one annotation, and (for functions) a ---@param per parameter, in order.
local function assert_annotated(key)
  local def = defs[key]
  assert(def, PATH .. " has no annotated definition of " .. key)
  local described, annotated, params = false, false, {}
  for _, l in ipairs(def.doc) do
    if l:match("^%-%-%-@") then
      annotated = true
      local p = l:match("^%-%-%-@param%s+([%w_.]+)")
      if p then params[#params + 1] = p end
    elseif l:match("^%-%-%-%s*%S") then
      described = true
    end
  end
  assert(annotated, key .. " (line " .. def.line .. ") has no ---@ annotation above it")
  assert(described, key .. " (line " .. def.line .. ") has no description above it")
  if def.params then
    assert.same(def.params, params, "---@param lines of " .. key)
  end
end

describe("types/actress.lua", function()
  it("is a LuaCATS meta file for the module actress", function()
    assert.equal("---@meta actress", lines[1])
    assert(load(text, "@" .. PATH))
  end)

  it("defines exactly the public names of the module", function()
    local defined = assert(load(text, "@" .. PATH))()
    assert.same(sorted_keys(task), sorted_keys(defined))
  end)

  it("annotates every public function and value of require 'actress'", function()
    local keys = sorted_keys(task)
    assert(#keys > 30, "the module seems incomplete")
    for _, k in ipairs(keys) do
      assert_annotated("task." .. k)
      if type(task[k]) ~= "function" then
        assert.is_nil(defs["task." .. k].params, "task." .. k .. " is not a function")
        local typed = false
        for _, l in ipairs(defs["task." .. k].doc) do
          if l:match("^%-%-%-@type%s") then typed = true end
        end
        assert(typed, "task." .. k .. " has no ---@type")
      else
        assert(defs["task." .. k].params, "task." .. k .. " is a function")
      end
    end
  end)

  it("annotates only functions that exist", function()
    for key, def in pairs(defs) do
      local owner, name = key:match("^([%w_]+)[.:]([%w_]+)$")
      if owner == "task" then
        assert(task[name] ~= nil, key .. " is annotated but not in the module")
      elseif owner == "Fork" then
        assert(task.Fork[name] ~= nil, key .. " is annotated but not a Fork method")
      elseif owner == "Deferred" then
        assert(getmetatable(task.deferred()).__index[name] ~= nil, key .. " is annotated but not a Deferred method")
      else
        error("unexpected definition " .. key .. " at line " .. def.line)
      end
    end
  end)

  it("declares the generic class Fork<T, X, M> with every Fork method and field", function()
    local fields = class_fields("---@class Fork<T, X, M>")
    local methods = sorted_keys(task.Fork)
    assert(#methods >= 7, "Fork has too few methods")
    for _, m in ipairs(methods) do
      assert_annotated("Fork:" .. m)
    end
    for _, f in ipairs { "id", "name", "status", "result", "traceback" } do
      assert(fields[f], "Fork has no ---@field " .. f)
    end
    -- and every declared field is real: a failed fork has them all
    local failed = task.fork(function() error("x") end)
    pcall(failed.await, failed)
    for f in pairs(fields) do
      assert(failed[f] ~= nil, "Fork field " .. f .. " is declared but nil on a failed fork")
    end
  end)

  it("declares Deferred<T, X> with its methods and status", function()
    local fields = class_fields("---@class Deferred<T, X>")
    assert(fields.status, "Deferred has no ---@field status")
    local index = getmetatable(task.deferred()).__index
    local methods = sorted_keys(index, function(k, v)
      -- `new` is the constructor behind task.deferred, not a method
      return type(v) == "function" and k ~= "new" and not k:match("^__")
    end)
    assert.same({ "reject", "resolve", "then_" }, methods)
    for _, m in ipairs(methods) do
      assert_annotated("Deferred:" .. m)
    end
  end)

  it("describes the table of task.stats() and the Result of a finished fork", function()
    local fields = class_fields("---@class actress.Stats")
    assert.same(sorted_keys(task.stats()), sorted_keys(fields))
    assert.same({ "error", "ok", "value" }, sorted_keys(class_fields("---@class actress.Result<T, X>")))
  end)
end)
