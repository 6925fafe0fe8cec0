-- §2 task.join, task.group and task.all: results, errors, ordering, failure handling.
-- Message delivery through them: 08-messages_spec.lua. Aborting a task that waits in
-- them: 04-abort_exit_spec.lua.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

local manual = H.with_manual_clock
local pack = table.pack

describe("§2 task.join(f)", function()
  after_each(H.reset)

  it("waits for the fork and returns every result value", manual(function()
    local r, at = task.run(function()
      local f = task.fork(function()
        task.sleep(50)
        return 1, nil, "three"
      end)
      local r = pack(task.join(f))
      return r, task.now()
    end)
    assert.equal(3, r.n)
    assert.equal(1, r[1])
    assert.is_nil(r[2])
    assert.equal("three", r[3])
    assert.equal(50, at)
  end))

  it("returns no values for a fork that returned none", function()
    local n = task.run(function()
      return select("#", task.join(task.fork(function() end)))
    end)
    assert.equal(0, n)
  end)

  it("re-raises the very error value the fork raised", function()
    local E = H.E()
    local ok, err = task.run(function()
      local f = task.fork(function()
        task.wait()
        error(E)
      end)
      return pcall(task.join, f)
    end)
    assert.is_false(ok)
    assert.equal(E, err)
  end)

  it("re-raises a string error unchanged, position included", function()
    local ok, err, stored = task.run(function()
      local f = task.fork(function()
        error("boom")
      end)
      local ok, err = pcall(task.join, f)
      return ok, err, f.result.error
    end)
    assert.is_false(ok)
    assert.matches("03%-join_group_spec%.lua:%d+: boom$", err)
    assert.equal(stored, err)
  end)

  it("starts an idle fork", function()
    local f = task.fork(function(a, b)
      return a + b
    end, 40, 2)
    assert.equal("idle", f.status)
    assert.equal(42, task.run(function()
      return task.join(f)
    end))
    assert.equal("finished", f.status)
  end)

  it("returns at once, without suspending, for a fork that already finished", function()
    local log, say = H.recorder()
    task.run(function()
      local f = task.fork(function()
        return "v"
      end)
      task.wait()
      assert.equal("finished", f.status)
      task.fork(function()
        say("queued task ran")
      end)
      say("joined " .. task.join(f))
      task.wait()
    end)
    assert.same({ "joined v", "queued task ran" }, log)
  end)

  it("raises at once, without suspending, for a fork that already failed", function()
    local E = H.E()
    local log, say = H.recorder()
    local caught
    task.run(function()
      local f = task.fork(function()
        error(E)
      end)
      task.wait()
      assert.equal("finished", f.status)
      task.fork(function()
        say("queued task ran")
      end)
      local ok, err = pcall(task.join, f)
      caught = not ok and err
      say("join raised")
      task.wait()
    end)
    assert.same({ "join raised", "queued task ran" }, log)
    assert.equal(E, caught)
  end)

  it("refuses to join oneself", function()
    local ok, err, after = task.run(function()
      local ok, err = pcall(task.join, task.current())
      return ok, err, "still running"
    end)
    assert.is_false(ok)
    assert.is_not_nil(err)
    assert.equal("still running", after)
  end)

  it("gives the result to every task that joins the same fork", manual(function()
    local r = task.run(function()
      local f = task.fork(function()
        task.sleep(10)
        return "shared"
      end)
      local j1 = task.fork(function()
        return task.join(f)
      end)
      local j2 = task.fork(function()
        return task.join(f)
      end)
      return { task.join(j1), task.join(j2), task.join(f) }
    end)
    assert.same({ "shared", "shared", "shared" }, r)
  end))

  it("gives the error to every task that joins the same fork", manual(function()
    local E = H.E()
    local r = task.run(function()
      local f = task.fork(function()
        task.sleep(10)
        error(E)
      end)
      local function joiner()
        local ok, err = pcall(task.join, f)
        return not ok and err
      end
      local j1 = task.fork(joiner)
      local j2 = task.fork(joiner)
      return { task.join(j1), task.join(j2), joiner() }
    end)
    assert.equal(E, r[1])
    assert.equal(E, r[2])
    assert.equal(E, r[3])
  end))
end)

describe("§2 task.group(forks)", function()
  after_each(H.reset)

  it("waits for all members and returns nothing", manual(function()
    local done = {}
    local n, at = task.run(function()
      local fs = {}
      for _, ms in ipairs { 30, 10, 20 } do
        fs[#fs + 1] = task.fork(function()
          task.sleep(ms)
          done[#done + 1] = ms
          return ms
        end)
      end
      local n = select("#", task.group(fs))
      return n, task.now()
    end)
    assert.equal(0, n)
    assert.same({ 10, 20, 30 }, done)
    assert.equal(30, at)
  end))

  it("waits for the running members when one finished before the call", manual(function()
    local at = task.run(function()
      local quick = task.fork(function()
        return 1
      end)
      task.wait()
      assert.equal("finished", quick.status)
      local slow = task.fork(function()
        task.sleep(25)
      end)
      task.group({ quick, slow })
      assert.equal("finished", slow.status)
      return task.now()
    end)
    assert.equal(25, at)
  end))

  it("group({}) returns at once with nothing", function()
    local log, say = H.recorder()
    local n
    task.run(function()
      task.fork(function()
        say("queued task ran")
      end)
      n = select("#", task.group({}))
      say("group returned")
      task.wait()
    end)
    assert.equal(0, n)
    assert.same({ "group returned", "queued task ran" }, log)
  end)

  it("when one member fails, aborts the others (their cleanup runs) and raises the error in the caller",
    manual(function()
      local E = H.E("member failed")
      local cleanup, after_sleep = {}, {}
      local members, caught, caught_at, cleanup_done_before_raise
      task.run(function()
        local function sleeper(name)
          return task.fork(function()
            local _ <close> = task.defer(function(err)
              cleanup[name] = err
            end)
            task.sleep(100)
            after_sleep[name] = true
          end)
        end
        members = {
          sleeper("a"),
          task.fork(function()
            task.sleep(10)
            error(E)
          end),
          sleeper("b"),
        }
        local ok, err = pcall(task.group, members)
        caught = not ok and err
        caught_at = task.now()
        cleanup_done_before_raise = cleanup.a ~= nil and cleanup.b ~= nil
      end)
      assert.equal(E, caught)
      assert.equal(10, caught_at)
      assert.is_true(cleanup_done_before_raise)
      assert.equal(E, cleanup.a)
      assert.equal(E, cleanup.b)
      assert.same({}, after_sleep)
      for _, f in ipairs(members) do
        assert.equal("finished", f.status)
        assert.is_false(f.result.ok)
        assert.equal(E, f.result.error)
      end
    end))

  it("fails at once, without suspending, when a member failed before the call", function()
    H.quiet()
    local E = H.E()
    local log, say = H.recorder()
    local caught
    task.run(function()
      local bad = task.fork(function()
        error(E)
      end)
      task.wait()
      assert.equal("finished", bad.status)
      task.fork(function()
        say("queued task ran")
      end)
      local ok, err = pcall(task.group, { bad })
      caught = not ok and err
      say("group raised")
      task.wait()
    end)
    assert.same({ "group raised", "queued task ran" }, log)
    assert.equal(E, caught)
  end)

  it("aborts the running members when a member failed before the call", manual(function()
    H.quiet()
    local E = H.E()
    local got, sleeper, caught
    task.run(function()
      local bad = task.fork(function()
        error(E)
      end)
      sleeper = task.fork(function()
        local _ <close> = task.defer(function(err)
          got = err
        end)
        task.sleep(100)
      end)
      task.wait() -- bad fails, sleeper starts sleeping
      local ok, err = pcall(task.group, { sleeper, bad })
      caught = not ok and err
    end)
    assert.equal(E, caught)
    assert.equal(E, got)
    assert.equal("finished", sleeper.status)
    assert.equal(E, sleeper.result.error)
  end))
end)

describe("§2 task.all(tasks)", function()
  after_each(H.reset)

  it("runs the tasks concurrently and returns their first results in input order", manual(function()
    local r, at = task.run(function()
      local r = task.all({
        function()
          task.sleep(30)
          return "a", "extra"
        end,
        function()
          task.sleep(10)
          return "b"
        end,
        function()
          task.sleep(20)
          return "c"
        end,
      })
      return r, task.now()
    end)
    assert.same({ "a", "b", "c" }, r)
    assert.equal(30, at)
  end))

  it("accepts callable values as tasks", function()
    local double = setmetatable({}, {
      __call = function()
        return 2
      end,
    })
    local r = task.run(function()
      return task.all({ double, function()
        return 1
      end })
    end)
    assert.same({ 2, 1 }, r)
  end)

  it("all({}) returns an empty table", function()
    local r = task.run(function()
      return task.all({})
    end)
    assert.is_table(r)
    assert.is_nil(next(r))
  end)

  it("on the first failure aborts the others (their cleanup runs) and raises that error", manual(function()
    local E = H.E()
    local cleanup = {}
    local finished_sleep = false
    local caught, at
    task.run(function()
      local function sleeper(name)
        return function()
          local _ <close> = task.defer(function(err)
            cleanup[name] = err
          end)
          task.sleep(100)
          finished_sleep = true
        end
      end
      local ok, err = pcall(task.all, {
        sleeper("a"),
        function()
          task.sleep(10)
          error(E)
        end,
        sleeper("c"),
      })
      caught, at = not ok and err, task.now()
    end)
    assert.equal(E, caught)
    assert.equal(10, at)
    assert.equal(E, cleanup.a)
    assert.equal(E, cleanup.c)
    assert.is_false(finished_sleep)
  end))
end)
