/*
** actress.h: the C embedding API of actress, a task runtime for Lua 5.4.
**
** A host (a game engine, a server) that embeds Lua links the core
** statically, or loads the module "actress.core", and may own the frame
** loop. Each main lua_State has its own runtime, kept in its registry
** under the key ACTRESS_CONTEXT_KEY; the core has no global mutable
** state, so independent states may run in different OS threads.
**
** Unless said otherwise, a function here may be called with any thread
** of the state (the runtime is found through the registry), raises Lua
** errors like the Lua functions it mirrors, and must not be called from
** inside a task body or while the runtime is already driving the loop
** (that is, not from a libuv callback that the runtime itself runs).
*/

#ifndef ACTRESS_H
#define ACTRESS_H

#include <lua.h>
#include <uv.h>

#define ACTRESS_VERSION_MAJOR 0
#define ACTRESS_VERSION_MINOR 1
#define ACTRESS_VERSION_PATCH 0
#define ACTRESS_VERSION "0.1.0"

/* The registry key of the per-state runtime (a full userdata). */
#define ACTRESS_CONTEXT_KEY "actress.context"

#if defined(_WIN32)
#define ACTRESS_API __declspec(dllexport)
#else
#define ACTRESS_API __attribute__((visibility("default")))
#endif

/*
** Opens the Lua module "actress.core" and leaves its table on the stack.
** Creates the state's runtime on first use; opening it again (busted's
** insulation does) reuses the same runtime.
*/
ACTRESS_API int (luaopen_actress_core)(lua_State *L);

/*
** As task.poll(): resumes every ready task and fires every due timer,
** polls I/O without blocking. Returns 1 while work remains (ready tasks,
** pending timers or active I/O), 0 otherwise.
*/
ACTRESS_API int (actress_poll)(lua_State *L);

/*
** As actress_poll, but resumes at most `max` tasks (max >= 1); the rest
** stay queued, in order, for the next call. Returns 1 while work remains.
** A poll never runs more than the tasks ready when it starts (then those
** ready after the due timers fired): a task that queues itself again with
** task.wait() runs once per poll, so a poll always returns.
*/
ACTRESS_API int (actress_poll_budget)(lua_State *L, int max);

/*
** As task.advance(ms): manual clock only. Moves the clock forward by ms,
** firing due timers in time order and running what they wake.
*/
ACTRESS_API void (actress_advance)(lua_State *L, double ms);

/*
** For a frame loop on the manual clock: moves the clock forward by ms and
** queues every timer due by then, in time order, like actress_advance, but
** resumes at most `max` tasks (what is left stays queued, in order, for
** the next poll). With max = 0 it only moves time; a frame is then
** actress_advance_budget(L, dt, 0) followed by actress_poll_budget(L, n).
** Returns 1 while work remains. (actress_advance runs everything that is
** due, and all it wakes, as task.advance does: a flood would stall the
** frame.)
*/
ACTRESS_API int (actress_advance_budget)(lua_State *L, double ms, int max);

/*
** As task.resume(f) on the Fork at stack index idx: queues it if it is
** suspended in task.suspend(). Returns 1 if it was queued, 0 if it was
** left alone. May be called from anywhere, also from libuv callbacks.
*/
ACTRESS_API int (actress_resume)(lua_State *L, int idx);

/* The libuv loop the runtime drives. */
ACTRESS_API uv_loop_t *(actress_loop)(lua_State *L);

/*
** Makes the runtime of L drive `loop`, a loop the host owns, instead of
** creating one. Call it before luaopen_actress_core (before the runtime
** exists); returns 0, or -1 if the runtime exists already (nothing
** changes then). The host runs the loop or lets actress run it, and
** closes it itself, after actress_close or lua_close: actress only closes
** its own handle on it.
*/
ACTRESS_API int (actress_use_loop)(lua_State *L, uv_loop_t *loop);

/*
** Closes the runtime of L: pending tasks are dropped without running
** (their to-be-closed variables do not run), timers stop, the runtime's
** libuv handle is closed and its C memory freed. Forks stay safe to
** touch: operations on them raise "actress: the runtime is closed", and
** so does every function of the module afterwards. Idempotent; lua_close
** does the same. Call it when the host must close its loop before
** lua_close. Not from inside a task or while the runtime drives the loop.
*/
ACTRESS_API void (actress_close)(lua_State *L);

/*
** How long the host may wait before the next actress_poll, in ms: 0 if
** tasks are ready, the time to the next timer, or -1 if no timer is
** pending (only I/O or actress_resume can then make work).
*/
ACTRESS_API double (actress_timeout)(lua_State *L);

#endif
