-- examples/crawler.lua: fetch a site's pages concurrently, with a deadline.
--
-- Fan-out/fan-in: the crawler fetches the index page, then every page it
-- links to at once; task.all waits for them all and returns the pages in
-- link order, whatever order they finished in. Each fetch reports its
-- progress with task.send. task.listen merges that progress with an alarm
-- that goes off at the deadline, tagging each message with its source.
-- The alarm aborts the fetches still running; each catches the abort and
-- reports a timeout instead of a page, so the crawl still finishes.
--
-- There is no network: a fetch sleeps for the page's latency. The manual
-- clock makes the run instant and its output the same every time (delete
-- the set_clock line to run it in real time).
--
-- Run from the repository root after building (see README.md):
--   LUA_PATH_5_4='lua/?.lua;lua/?/init.lua;;' LUA_CPATH_5_4='build/?.so;;' lua5.4 examples/crawler.lua
local task = require "actress"

task.set_clock("manual")

local DEADLINE = 250 -- ms after the start

-- The simulated site: latency (ms), size and links of each page.
local SITE = {
  ["/"] = { latency = 40, bytes = 512, links = { "/about", "/blog", "/archive", "/shop" } },
  ["/about"] = { latency = 60, bytes = 2048, links = {} },
  ["/blog"] = { latency = 140, bytes = 8192, links = {} },
  ["/archive"] = { latency = 400, bytes = 65536, links = {} },
  ["/shop"] = { latency = 900, bytes = 4096, links = {} },
}

local in_flight = {} -- url -> Fork of its fetch, for the alarm to abort

-- A simulated download in two halves, with a progress message after each.
local function fetch(url)
  local page = SITE[url]
  task.send(url .. " started")
  task.sleep(page.latency / 2)
  task.send(("%s %d of %d bytes"):format(url, page.bytes // 2, page.bytes))
  task.sleep(page.latency / 2)
  task.send(url .. " done")
  return { url = url, bytes = page.bytes, links = page.links }
end

-- A task fetching url that the alarm can abort: returns the page, or
-- { url = url, error = the abort error }.
local function fetch_job(url)
  return function()
    in_flight[url] = task.current()
    local ok, page = pcall(fetch, url)
    in_flight[url] = nil
    if ok then return page end
    task.send(url .. " gave up: " .. tostring(page))
    return { url = url, error = page }
  end
end

local alarm_fork -- so that a crawl that ends early can stop the alarm
local results    -- the crawl's pages, in link order

-- The crawl (an effect: it sends progress; its pages go to `results`).
local function crawl()
  local index = fetch_job("/")()
  local jobs = {}
  for i, link in ipairs(index.links or {}) do jobs[i] = fetch_job(link) end
  results = task.all(jobs) -- fan out, then fan in, in link order
  local fetched = 0
  for _, page in ipairs(results) do
    if not page.error then fetched = fetched + 1 end
  end
  task.send(("finished: %d of %d pages"):format(fetched, #results))
  if alarm_fork.status ~= "finished" then task.terminate(alarm_fork) end
end

-- The alarm (an effect): at the deadline, aborts every fetch in flight.
local function alarm()
  alarm_fork = task.current()
  task.sleep(DEADLINE)
  local late = {}
  for url in pairs(in_flight) do late[#late + 1] = url end
  table.sort(late) -- pairs has no order; abort in a fixed one
  task.send("deadline: aborting " .. table.concat(late, " "))
  for _, url in ipairs(late) do task.abort(in_flight[url], "timeout") end
end

-- listen tags each message { type = source, [source] = text }.
local function show(msg)
  print(("%4d ms  %-5s  %s"):format(task.now(), msg.type, msg[msg.type]))
end

task.run(task.map(task.listen { crawl = crawl, alarm = alarm }, show))

print("results, in link order:")
for _, page in ipairs(results) do
  print(("  %-9s %s"):format(page.url, page.error or (page.bytes .. " bytes")))
end
