-- examples/host/world.lua: the game world that examples/host/host.c runs.
--
-- 1,000 NPCs patrol between their waypoints: each step is a task.sleep,
-- and at each waypoint an NPC sends "arrived" and rests. An NPC that
-- comes near the player sends "spotted". 2,000 guards sit in
-- task.suspend() until an alarm; the host's frame hook sounds it at fixed
-- frames by resuming them all from outside any task, so the ready queue
-- fills at once and the host's per-frame budget decides how fast it
-- drains. A director (task.loop over task.listen) counts every event;
-- every 25th sighting it files a report 500 ms later, an effect that
-- sends back into the loop.
--
-- The host selects the manual clock before running this chunk. The world
-- is deterministic: the clock moves only when the host advances it,
-- randomness comes from fixed-seed LCGs (one per entity, so an entity's
-- choices do not depend on how tasks interleave), and everything that is
-- summed or hashed is iterated as an array.
--
-- The chunk returns the world: frame(n), called by the host after
-- advancing the clock and before polling, and summary(n) and digest(),
-- strings the host prints.
local task = require "actress"

local NPCS = 1000
local GUARDS = 2000
local WAYPOINTS = 4
local SIZE = 64                -- the map is SIZE x SIZE cells
local SIGHT = 3                -- "spotted" within this many cells of the player
local COOLDOWN = 2000          -- ms before an NPC reports the player again
local ALARMS = { 300, 450 }    -- frames at which the guards are called out
local REPORT_EVERY = 25        -- sightings per director's report
local KINDS = { "arrived", "spotted", "alert", "cleared", "checkpoint", "report" }

-- {{{ deterministic randomness and hashing

-- A 32-bit LCG (Numerical Recipes constants); state is a one-slot table.
local function lcg(seed)
  return { seed & 0xffffffff }
end

local function rand(g, n) -- an integer in [0, n)
  local s = (g[1] * 1664525 + 1013904223) & 0xffffffff
  g[1] = s
  return (s >> 8) % n
end

-- FNV-1a over 32-bit words.
local FNV_OFFSET, FNV_PRIME = 0x811c9dc5, 0x01000193

local function mix(h, v)
  return ((h ~ (v & 0xffffffff)) * FNV_PRIME) & 0xffffffff
end

local function clamp(v)
  if v < 0 then return 0 elseif v >= SIZE then return SIZE - 1 end
  return v
end

local function sign(v)
  if v > 0 then return 1 elseif v < 0 then return -1 end
  return 0
end

-- }}}

local world_rng = lcg(20240611)

-- {{{ the player: a random walk, a step every 20 ms

local player = { x = SIZE // 2, y = SIZE // 2, steps = 0, rng = lcg(rand(world_rng, 1 << 24)) }

local function player_task()
  while true do
    task.sleep(20)
    player.x = clamp(player.x + rand(player.rng, 3) - 1)
    player.y = clamp(player.y + rand(player.rng, 3) - 1)
    player.steps = player.steps + 1
    if player.steps % 50 == 0 then
      task.send { kind = "checkpoint", id = player.steps // 50 }
    end
  end
end

-- }}}

-- {{{ NPCs: patrol, rest, report

local npcs = {}
for i = 1, NPCS do
  local rng = lcg(rand(world_rng, 1 << 24) + i)
  local hx, hy = rand(rng, SIZE), rand(rng, SIZE)
  local route = {}
  for k = 1, WAYPOINTS do
    route[2 * k - 1] = clamp(hx + rand(rng, 25) - 12)
    route[2 * k] = clamp(hy + rand(rng, 25) - 12)
  end
  npcs[i] = {
    id = i, rng = rng, route = route, wp = 1,
    x = route[1], y = route[2],
    step_ms = 40 + rand(rng, 61),  -- 40..100 ms per cell
    arrived = 0, spotted = 0, seen_at = -COOLDOWN,
  }
end

local function npc_task(npc)
  local route = npc.route
  while true do
    npc.wp = npc.wp % WAYPOINTS + 1
    local tx, ty = route[2 * npc.wp - 1], route[2 * npc.wp]
    while npc.x ~= tx or npc.y ~= ty do
      task.sleep(npc.step_ms)
      npc.x = npc.x + sign(tx - npc.x)
      npc.y = npc.y + sign(ty - npc.y)
      local now = task.now()
      if math.abs(npc.x - player.x) <= SIGHT and math.abs(npc.y - player.y) <= SIGHT
          and now - npc.seen_at >= COOLDOWN then
        npc.seen_at = now
        npc.spotted = npc.spotted + 1
        task.send { kind = "spotted", id = npc.id }
      end
    end
    npc.arrived = npc.arrived + 1
    task.send { kind = "arrived", id = npc.id }
    task.sleep(200 + rand(npc.rng, 801)) -- rest 200..1000 ms
  end
end

-- }}}

-- {{{ guards: off duty in task.suspend() until the host sounds the alarm

local guards = {}
for i = 1, GUARDS do
  guards[i] = { id = i, rng = lcg(rand(world_rng, 1 << 24) + i), alerts = 0, fork = nil }
end

local function guard_task(guard)
  guard.fork = task.current()
  while true do
    task.suspend()
    guard.alerts = guard.alerts + 1
    task.send { kind = "alert", id = guard.id }
    task.sleep(100 + rand(guard.rng, 401)) -- search 100..500 ms
    task.send { kind = "cleared", id = guard.id }
  end
end

-- }}}

-- {{{ the director: a loop over every source's events

local counts, events, event_hash = {}, 0, FNV_OFFSET
for k = 1, #KINDS do counts[KINDS[k]] = 0 end
local kind_index = {}
for k = 1, #KINDS do kind_index[KINDS[k]] = k end

local function tasks_of(list, body)
  local out = {}
  for i = 1, #list do
    local entity = list[i]
    out[i] = function() body(entity) end
  end
  return out
end

-- The director's report: an effect that the loop runs as a member, so its
-- message comes back into the loop (tagged like the listened sources').
local function report(n)
  return task.tag(function()
    task.sleep(500)
    task.send { kind = "report", id = n }
  end, "director")
end

local director = task.loop(task.listen {
  npcs = task.batch(tasks_of(npcs, npc_task)),
  guards = task.batch(tasks_of(guards, guard_task)),
  player = player_task,
}, function(m)
  local ev = m[m.type]
  local kind = ev.kind
  counts[kind] = counts[kind] + 1
  events = events + 1
  event_hash = mix(mix(mix(event_hash, kind_index[kind]), ev.id), math.floor(task.now()))
  if kind == "spotted" and counts.spotted % REPORT_EVERY == 0 then
    return report(counts.spotted // REPORT_EVERY)
  end
end)

task.main(function()
  task.current().name = "director"
  director()
end)

-- }}}

-- {{{ what the host calls

local world = {}

local alarm_at = {}
for i = 1, #ALARMS do alarm_at[ALARMS[i]] = true end

--- Called by the host each frame, after advancing the clock and before
-- polling: sounds the alarm at the alarm frames (outside any task: the
-- resumed guards wait in the ready queue for the host's poll).
function world.frame(n)
  if alarm_at[n] then
    local woken = 0
    for i = 1, #guards do
      local f = guards[i].fork
      if f ~= nil and f.status == "active" then
        task.resume(f)
        woken = woken + 1
      end
    end
    return ("alarm: %d guards called out"):format(woken)
  end
end

local function counts_line()
  local parts = {}
  for k = 1, #KINDS do parts[k] = ("%s=%d"):format(KINDS[k], counts[KINDS[k]]) end
  return table.concat(parts, " ")
end

--- One line: the frame, the clock, the scheduler's counts, the events so far.
function world.summary(n)
  local s = task.stats()
  return ("frame %3d t=%7.1f ready=%d suspended=%d timers=%d switches=%d events=%d %s")
    :format(n, task.now(), s.ready, s.suspended, s.timers, s.switches, events, counts_line())
end

--- The final state: every NPC's position, waypoint and counters, every
-- guard's alerts, the event counts and the hash of the event order,
-- hashed with FNV-1a and printed as hex.
function world.digest()
  local h = FNV_OFFSET
  for i = 1, #npcs do
    local npc = npcs[i]
    h = mix(mix(mix(mix(mix(h, npc.x), npc.y), npc.wp), npc.arrived), npc.spotted)
  end
  for i = 1, #guards do h = mix(h, guards[i].alerts) end
  h = mix(mix(mix(h, player.x), player.y), player.steps)
  for k = 1, #KINDS do h = mix(h, counts[KINDS[k]]) end
  h = mix(h, event_hash)
  return ("final t=%.1f events=%d %s\ndigest %08x"):format(task.now(), events, counts_line(), h)
end

return world
