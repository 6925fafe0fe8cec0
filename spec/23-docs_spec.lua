-- docs/reference.md: a section for every public name, each with a snippet
-- that runs; where a snippet has `--> expected` comments, its output must be
-- exactly those lines, in order.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local PATH = "docs/reference.md"
local doc = H.read(PATH)

-- Sections: { heading = "### task.run(fn, ...)", body = "...", line = n }.
local sections = {}
do
  local n, current = 0, nil
  for line in (doc .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    if line:match("^#+ ") then
      current = { heading = line, body = {}, line = n }
      sections[#sections + 1] = current
    elseif current then
      current.body[#current.body + 1] = line
    end
  end
  for _, s in ipairs(sections) do s.body = table.concat(s.body, "\n") end
end

-- The ```lua blocks of a text, with their first line numbers in the doc.
local function lua_blocks(text, first_line)
  local blocks, inside, n = {}, nil, first_line or 0
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    if inside then
      if line:match("^```%s*$") then
        blocks[#blocks + 1] = inside
        inside = nil
      else
        inside.lines[#inside.lines + 1] = line
      end
    elseif line:match("^```lua%s*$") then
      inside = { lines = {}, line = n + 1 }
    end
  end
  assert(not inside, "unterminated ```lua block at line " .. (inside and inside.line or 0))
  for _, b in ipairs(blocks) do b.source = table.concat(b.lines, "\n") .. "\n" end
  return blocks
end

local function normalize(s)
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

-- The `--> text` comments of a snippet, in source order.
local function expected_output(block)
  local want = {}
  for _, line in ipairs(block.lines) do
    local text = line:match("%-%->%s?(.*)$")
    if text then want[#want + 1] = normalize(text) end
  end
  return want
end

-- The section whose heading matches the Lua pattern, or fails.
local function section(pattern, what)
  for _, s in ipairs(sections) do
    if s.heading:match(pattern) then return s end
  end
  error(PATH .. " has no section for " .. what, 2)
end

local function assert_section_with_snippet(pattern, what)
  local s = section(pattern, what)
  assert(#lua_blocks(s.body) > 0, "the section '" .. s.heading .. "' has no ```lua snippet")
end

local function esc(name) return (name:gsub("%p", "%%%0")) end

describe("docs/reference.md", function()
  it("has a section with a snippet for every public name of require 'actress'", function()
    local n = 0
    for name in pairs(task) do
      assert_section_with_snippet("^###+ task%." .. esc(name) .. "%f[^%w_]", "task." .. name)
      n = n + 1
    end
    assert(n > 30, "the module seems incomplete")
  end)

  it("has a section with a snippet for every Fork method and field", function()
    for name in pairs(task.Fork) do
      assert_section_with_snippet("^###+ f:" .. esc(name) .. "%(", "f:" .. name)
    end
    for _, name in ipairs { "id", "name", "status", "result", "traceback" } do
      assert_section_with_snippet("^###+ f%." .. name .. "$", "f." .. name)
    end
    assert_section_with_snippet("^###+ tostring%(f%)", "tostring(f)")
  end)

  it("has a section with a snippet for every Deferred method and its status", function()
    for name, v in pairs(getmetatable(task.deferred()).__index) do
      if type(v) == "function" and name ~= "new" and not name:match("^__") then
        assert_section_with_snippet("^###+ d:" .. esc(name) .. "%(", "d:" .. name)
      end
    end
    assert_section_with_snippet("^###+ d%.status$", "d.status")
  end)

  local blocks = lua_blocks(doc)

  it("has snippets", function()
    assert(#blocks >= 50, "expected a snippet per public name, found " .. #blocks)
  end)

  for _, block in ipairs(blocks) do
    it("snippet at line " .. block.line .. " runs and prints what its --> comments say", function()
      assert.equal('local task = require "actress"', block.lines[1],
        "a snippet starts with the require")
      assert(load(block.source, "=snippet"))
      local want = expected_output(block)
      assert(#want > 0, "the snippet shows no expected output (--> comments)")
      local out, err, code = H.run_lua(block.source)
      assert.equal("", err, "stderr of the snippet")
      assert.equal(0, code, "exit status of the snippet")
      local got = {}
      for line in out:gmatch("(.-)\n") do got[#got + 1] = normalize(line) end
      assert.same(want, got)
    end)
  end
end)
