-- The spec harness itself (spec/helpers.lua): the leak check that runs after
-- every test sees what a test leaves behind, and H.reset cleans up what the
-- tests track.
local task = require "actress"
local H = require "spec.helpers"

H.after_each_check()  -- after each test: no task live or ready, no timer pending

describe("the leak check", function()
  after_each(H.reset)

  it("finds nothing when no task is live or ready and no timer is pending", function()
    task.run(function()
      task.join(task.fork(function() task.sleep(1) end))
    end)
    assert.is_nil(H.leftovers())
  end)

  it("counts a suspended task, a sleeping one (suspended too, with a timer) and a queued one, and names the tracked forks", function()
    task.set_clock("manual")
    local held
    task.main(function()
      held = H.track(task.current())
      held.name = "held"
      task.suspend()
    end)
    task.main(function() task.sleep(10) end)  -- drained by H.reset
    task.fork(function() end):start()         -- queued; drained by H.reset
    local what = H.leftovers()
    assert.matches("3 task(s) live (1 ready, 2 suspended), 1 timer(s) pending", what, 1, true)
    assert.matches(('tracked forks still unfinished: %d "held" (active)'):format(held.id), what, 1, true)
  end)

  it("raises, saying what was left, and aborts the tracked forks so that the next test starts clean", function()
    H.quiet()
    local f
    task.main(function()
      f = H.track(task.current())
      task.suspend()
    end)
    local ok, err = pcall(H.assert_no_leaks)
    assert.is_false(ok)
    assert.matches("^leak check: .* left 1 task%(s%) live %(0 ready, 1 suspended%), 0 timer%(s%) pending", err)
    assert.equal("finished", f.status)
    assert.is_nil(H.leftovers())
  end)
end)

describe("H.reset", function()
  after_each(H.reset)

  it("aborts the tracked forks, drains the rest, and restores the system clock and the default handler", function()
    local default = task.on_error(function() end)
    task.set_clock("manual")
    local tracked, sleeper
    task.main(function()
      tracked = H.track(task.current())
      task.sleep(math.huge)
    end)
    task.main(function()
      sleeper = task.current()
      task.sleep(50)
    end)
    assert.is_true(H.reset())
    assert.same({ ok = false, error = "spec cleanup" }, tracked.result)
    assert.same({ ok = true }, sleeper.result)
    assert.equal(default, task.on_error(nil))
    assert.is_false(pcall(task.advance, 1))  -- the system clock again
    assert.is_nil(H.leftovers())
  end)
end)
