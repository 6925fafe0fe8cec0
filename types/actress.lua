---@meta actress
-- types/actress.lua: LuaCATS definitions of the module `require "actress"`,
-- for editors that use the Lua language server (LuaLS). They describe the
-- contract of API.md; nothing here runs. Tell the server where they are,
-- for example in .luarc.json: { "workspace.library": ["types"] }.
--
-- Type variables, as in the reference's TypeScript types: T is what a task
-- returns, X what it fails with, M what it sends. A task is a function whose
-- return values are its result; an effect is a task that sends messages.
-- spec/22-types_spec.lua checks that every public name is annotated here.

---A task: a function (or callable value) run as a light-weight process.
---Its return values are its result; an error raised in it is its failure.
---@alias actress.Task fun(...: any): any

---An effect: a task whose purpose is to send messages.
---@alias actress.Effect fun(...: any)

---How a finished fork ended: `{ ok = true, value = v }` (v: its first
---result value) or `{ ok = false, error = e }`.
---@class actress.Result<T, X>
---@field ok boolean true if the task returned, false if it failed
---@field value? T the first result value (when ok)
---@field error? X the error (when not ok)

---The counters of `task.stats()`.
---@class actress.Stats
---@field tasks integer live tasks: started and not finished
---@field ready integer tasks queued to run
---@field suspended integer tasks waiting (in suspend, sleep, wait, join, ...)
---@field timers integer pending timers
---@field switches integer task resumes since the runtime started
---@field pooled integer finished coroutines kept for reuse

---A to-be-closed value made by `task.defer(fn)`: hold it in a `<close>`
---variable.
---@class actress.Defer

---A handle to a scheduled task (a full userdata). Awaitable by `task.wait`.
---`tostring(f)` is `Fork <id> "<name>" (<status>): <address>`.
---@class Fork<T, X, M>: userdata
---@field id integer unique per runtime, positive
---@field name string writable, `""` by default
---@field status "idle"|"active"|"finished"
---@field result? actress.Result<T, X> nil until the fork finishes
---@field traceback? string where the error of a failed fork was raised
local Fork = {}

---Waits for the fork and returns its result values, or raises its error;
---its messages flow through the caller. Same as `task.join(f)`.
---@return T ...
function Fork:join() end

---Raises `err` in the fork. Same as `task.abort(f, err)`.
---@param err X any non-nil value
function Fork:abort(err) end

---Finishes the fork successfully with the given values, running its
---`<close>` handlers at once. Same as `task.exit(f, ...)`.
---@param ... T the fork's result values
function Fork:exit(...) end

---Queues the fork if it is suspended in `task.suspend()`; otherwise does
---nothing. Same as `task.resume(f)`.
---@return nil
function Fork:resume() end

---Starts an idle fork (from anywhere).
---@return Fork<T, X, M> self
function Fork:start() end

---Outside a task: starts the fork if idle, drives the loop until it
---finishes, and returns its values or raises its error.
---@return T ...
function Fork:await() end

---Starts the fork if idle; calls `on_ok(values...)` or `on_err(err)` from
---the scheduler once it finishes (never inside `then_`). An error raised by
---a callback goes to the `on_error` handler.
---@param on_ok? fun(...: T)
---@param on_err? fun(err: X)
---@return Fork<T, X, M> self
function Fork:then_(on_ok, on_err) end

---A value settled from outside a task, awaitable by `task.wait(d)`.
---@class Deferred<T, X>
---@field status "pending"|"resolved"|"rejected"
local Deferred = {}

---Resolves with the given values; the first of resolve and reject wins.
---Callable from anywhere.
---@param ... T
---@return boolean settled false if it had already settled
function Deferred:resolve(...) end

---Rejects with `err`; the first of resolve and reject wins. Callable from
---anywhere.
---@param err X
---@return boolean settled false if it had already settled
function Deferred:reject(err) end

---Calls `on_ok(values...)` or `on_err(err)` when it settles (at once if it
---has).
---@param on_ok? fun(...: T)
---@param on_err? fun(err: X)
---@return Deferred<T, X> self
function Deferred:then_(on_ok, on_err) end

---@class actress
local task = {}

---The version of actress.
---@type string
task._VERSION = "0.1.0"

---The method table of Fork handles (`join`, `abort`, `exit`, `resume`,
---`start`, `await`, `then_`).
---@type table<string, function>
task.Fork = Fork

-- §2 Operations inside a task -------------------------------------------

---The running task's Fork (its controller). Only inside a task.
---@return Fork<any, any, any>
function task.current() end

---Suspends the running task until `task.resume(controller)`. Only inside
---a task. Returns nothing.
---@return nil
function task.suspend() end

---Queues `c` if it is suspended in `task.suspend()`; otherwise nothing
---happens. Callable from anywhere.
---@param c Fork<any, any, any>
function task.resume(c) end

---Suspends the running task for at least `ms` milliseconds (default 0;
---`math.huge` sleeps until aborted or exited). Only inside a task.
---@param ms? number non-negative
function task.sleep(ms) end

---Waits for an awaitable (a Fork, a Deferred, or any value with a callable
---`then_`) and returns its values or raises its error; given any other
---value, lets the queued tasks run and returns it. `task.wait()` is the
---cooperative yield. Only inside a task.
---@generic T
---@param v? T|Fork<T, any, any>|Deferred<T, any>
---@return T ...
function task.wait(v) end

---Sends message `m` to the task that joins the running one (dropped if
---none does). Only inside a task.
---@param m any not nil
function task.send(m) end

---Schedules `fn(...)` as a new concurrent task and returns its Fork at
---once. Outside a task the Fork is idle until awaited, joined or started.
---@generic T
---@param fn fun(...: any): T
---@param ... any arguments for fn
---@return Fork<T, any, any>
function task.fork(fn, ...) end

---Like fork, but returns nothing: a detached task whose failure goes to
---the `on_error` handler. Outside a task it is `task.main`.
---@param fn actress.Task
---@param ... any arguments for fn
function task.spawn(fn, ...) end

---Outside a task: starts a detached top-level task at once (it runs until
---its first suspension). Inside a task it is `task.spawn`.
---@param fn actress.Task
---@param ... any arguments for fn
function task.main(fn, ...) end

---Waits for `f` and returns its result values or raises its error; `f`'s
---messages flow through the caller. Only inside a task.
---@generic T
---@param f Fork<T, any, any>
---@return T ...
function task.join(f) end

---Waits for all the forks; their messages flow through the caller. If one
---fails, the others are aborted and its error is raised. Only inside a task.
---@param forks Fork<any, any, any>[]
function task.group(forks) end

---Runs the tasks concurrently and returns their first results in input
---order; on the first failure, aborts the others and raises. Only inside a
---task.
---@generic T
---@param tasks (fun(): T)[]
---@return T[]
function task.all(tasks) end

---Raises `err` in `f` (resumed at once if suspended). Callable from
---anywhere.
---@param f Fork<any, any, any>
---@param err any not nil
function task.abort(f, err) end

---Finishes `f` successfully with the given values; its `<close>` handlers
---run before `exit` returns. Callable from anywhere.
---@param f Fork<any, any, any>
---@param ... any f's result values
function task.exit(f, ...) end

---`task.exit(f)` with no values.
---@param f Fork<any, any, any>
function task.terminate(f) end

-- §3 Running tasks from outside -----------------------------------------

---Forks `fn(...)`, drives the event loop until it finishes and returns its
---values or raises its error. Not from inside a task.
---@generic T
---@param fn fun(...: any): T
---@param ... any arguments for fn
---@return T ...
function task.run(fn, ...) end

---Drives the event loop until no task is runnable, no timer is pending and
---no I/O is active. Not from inside a task.
---@return nil
function task.drain() end

---Runs every ready task and every due timer without blocking; returns
---true while work remains. Not from inside a task.
---@return boolean work_remains
function task.poll() end

---The runtime clock, in milliseconds.
---@return number ms
function task.now() end

---Selects the clock: `"system"` (libuv's monotonic clock, the default) or
---`"manual"` (starts at 0, moves only by advance, run, await and drain).
---Raises while a timer is pending.
---@param clock "manual"|"system"
function task.set_clock(clock) end

---Manual clock only: moves time forward by `ms`, firing due timers in time
---order and running what they wake.
---@param ms number non-negative
function task.advance(ms) end

-- §7 Diagnostics ----------------------------------------------------------

---Counters of the runtime.
---@return actress.Stats
function task.stats() end

---Sets the handler for failures of detached tasks, called as
---`handler(err, fork)`; `nil` restores the default (one line to stderr).
---Returns the previous handler.
---@param handler? fun(err: any, fork: Fork<any, any, any>)
---@return fun(err: any, fork: Fork<any, any, any>) previous
function task.on_error(handler) end

-- §5 Effects and messages -------------------------------------------------

---The empty effect; every call returns the same function.
---@return actress.Effect
function task.none() end

---Effect that runs `t` and sends its first result (nothing if it is nil).
---@generic M
---@param t fun(...: any): M?
---@return actress.Effect
function task.effect(t) end

---Batch of `task.effect(t)` for each task; `effects({})` is `none()`.
---@param tasks actress.Task[]
---@return actress.Effect
function task.effects(tasks) end

---Effect that runs all the effects concurrently and passes on all their
---messages; a failing one fails the batch and aborts the others.
---@param effects actress.Effect[]
---@return actress.Effect
function task.batch(effects) end

---Effect passing on each message m of `e` as `{ type = name, [name] = m }`.
---`tag(none(), name)` is `none()`.
---@param e actress.Effect
---@param name string
---@return actress.Effect
function task.tag(e, name) end

---Task that runs `e` and passes on `fn(m)` for each message m (a nil result
---drops it); `e`'s result and error pass through unchanged.
---@generic T
---@param e fun(...: any): T
---@param fn fun(m: any): any
---@return fun(...: any): T
function task.map(e, fn) end

---Effect merging the effects of `{ name = effect, ... }`, each message
---tagged with its key; `none()` entries are skipped.
---@param sources table<string, actress.Effect>
---@return actress.Effect
function task.listen(sources) end

---Task that runs effect `init` and, for every message m of any member, runs
---`next(m)` as a new member (an effect it returns runs in its place).
---Consumes the messages; ends when no member remains; a failing member
---fails the loop and aborts the others.
---@param init actress.Effect
---@param next fun(m: any): actress.Effect?
---@return fun()
function task.loop(init, next) end

---Task returning `on_ok(values...)` if `t` succeeds or `on_err(err)` if it
---fails.
---@generic R
---@param t actress.Task
---@param on_ok fun(...: any): R
---@param on_err fun(err: any): R
---@return fun(): R
function task.then_(t, on_ok, on_err) end

-- §6 Cleanup and bridging ---------------------------------------------------

---A to-be-closed value: `local _ <close> = task.defer(fn)` calls `fn(err)`
---when the scope ends (err: the error unwinding, abort errors included;
---nil on return and exit).
---@param fn fun(err: any)
---@return actress.Defer
function task.defer(fn) end

---A new Deferred, settled by `d:resolve(...)` or `d:reject(err)` and
---awaitable by `task.wait(d)`.
---@return Deferred<any, any>
function task.deferred() end

---Inside a task: calls `start(cb)` and suspends until `cb` is called, then
---returns the arguments `cb` was called with. A call of `cb` after the task
---was aborted or exited is ignored, and so is any call but the first.
---@param start fun(cb: fun(...: any))
---@return any ...
function task.await_callback(start) end

return task
