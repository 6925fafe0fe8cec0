-- The examples run as a newcomer runs them (`lua5.4 examples/X.lua` from the
-- repository root) and print exactly what they are meant to print.
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local function lines(...)
  return table.concat({ ... }, "\n") .. "\n"
end

local function check(path, want)
  local out, err, code = H.run_lua_file(path)
  assert.equal("", err, path .. " wrote to stderr")
  assert.equal(0, code, path .. " exit status")
  assert.equal(want, out)
end

describe("examples", function()
  it("quickstart.lua: two workers, joined in order", function()
    check("examples/quickstart.lua", lines("result: a b"))
  end)

  it("counter.lua: an Elm-style loop with a ticking timer that stops at its limit", function()
    check("examples/counter.lua", lines(
      "init    count=0 step=1",
      "tick    count=1 step=1",
      "tick    count=2 step=1",
      "faster  count=2 step=2",
      "tick    count=4 step=2",
      "tick    count=6 step=2 (stopped)",
      "done    count=6 step=2 (stopped)"))
  end)

  it("crawler.lua: fan-out/fan-in with all, listen of progress, stragglers aborted at the deadline", function()
    check("examples/crawler.lua", lines(
      "   0 ms  crawl  / started",
      "  20 ms  crawl  / 256 of 512 bytes",
      "  40 ms  crawl  / done",
      "  40 ms  crawl  /about started",
      "  40 ms  crawl  /blog started",
      "  40 ms  crawl  /archive started",
      "  40 ms  crawl  /shop started",
      "  70 ms  crawl  /about 1024 of 2048 bytes",
      " 100 ms  crawl  /about done",
      " 110 ms  crawl  /blog 4096 of 8192 bytes",
      " 180 ms  crawl  /blog done",
      " 240 ms  crawl  /archive 32768 of 65536 bytes",
      " 250 ms  alarm  deadline: aborting /archive /shop",
      " 250 ms  crawl  /archive gave up: timeout",
      " 250 ms  crawl  /shop gave up: timeout",
      " 250 ms  crawl  finished: 2 of 4 pages",
      "results, in link order:",
      "  /about    2048 bytes",
      "  /blog     8192 bytes",
      "  /archive  timeout",
      "  /shop     timeout"))
  end)
end)
