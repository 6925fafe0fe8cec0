-- examples/fetch_files.lua: read many files at once with task.all and actress.uv.
--
-- Writes N files into the temporary folder, then reads them all
-- concurrently: each read is a task, libuv's thread pool does the file
-- work, and task.all returns the contents in input order whatever order
-- the reads finished in. A read of a missing file raises "ENOENT: ...",
-- which pcall catches like any Lua error. The files are removed at the end
-- (a task.defer, so also if something fails).
--
-- Needs luv (Debian: lua-luv). Run from the repository root after building:
--   LUA_PATH_5_4='lua/?.lua;lua/?/init.lua;;' LUA_CPATH_5_4='build/?.so;;' lua5.4 examples/fetch_files.lua
local task = require "actress"
local auv = require "actress.uv"

local N = 8
local base = os.tmpname() -- a fresh empty file; ours are base-1 ... base-N

local function path(i) return ("%s-%d"):format(base, i) end

task.run(function()
  local _ <close> = task.defer(function()
    for i = 1, N do os.remove(path(i)) end
    os.remove(base)
  end)

  -- File i holds i * 1000 bytes. Writing is concurrent too.
  local writes = {}
  for i = 1, N do
    writes[i] = function() auv.write_file(path(i), ("%d"):format(i % 10):rep(i * 1000)) end
  end
  task.all(writes)
  print(("wrote %d files"):format(N))

  local reads = {}
  for i = 1, N do
    reads[i] = function() return auv.read_file(path(i)) end
  end
  local contents = task.all(reads)
  local total = 0
  for i, data in ipairs(contents) do
    print(("file %d: %5d bytes, all '%s': %s"):format(i, #data, data:sub(1, 1),
      tostring(data == data:sub(1, 1):rep(#data))))
    total = total + #data
  end
  print(("total: %d bytes in %d files, read concurrently"):format(total, N))

  local ok, err = pcall(auv.read_file, base .. "-missing")
  print(("a missing file: %s (%s)"):format(ok and "read?!" or err:match("^%u+"), "caught"))
end)
