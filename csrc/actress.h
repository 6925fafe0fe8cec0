/*
** actress.h: the C embedding API of actress, a task runtime for Lua 5.4.
**
** A host (a game engine, a server) that embeds Lua links the core
** statically, or loads the module "actress.core", and may own the frame
** loop. Each main lua_State has its own runtime, kept in its registry
** under the key ACTRESS_CONTEXT_KEY; the core has no global mutable
** state, so independent states may run in different OS threads (one
** thread per state at a time, as with Lua itself).
**
** Every function takes any thread of the state (the runtime is found
** through the registry). The line after each prototype gives its stack
** effect in the notation of the Lua manual (section 4.6): [-o, +p, x],
** o values popped, p pushed, x '-' if it never raises, 'm' if it may
** raise only a memory error, 'e' if it may raise any error.
**
** Except luaopen_actress_core, no function here raises: a host may call
** them from anywhere, also from libuv callbacks, also after the runtime
** was closed. What they cannot do they report by their result:
**   - actress_poll, actress_poll_budget, actress_advance_budget return
**     ACTRESS_ERROR and push the error message (a string) when they may
**     not run now (from inside a task, while the runtime already drives
**     the loop, while luv's uv.run() drives it) or when memory ran out;
**   - on a closed runtime (or a state without one) they return 0 ("no
**     work"), actress_resume 0, actress_loop NULL, actress_timeout -1.
** Failures of tasks never reach the host through these results: they go
** to the error handler (task.on_error, or actress_set_error_handler).
** They need 4 free slots on L's stack (lua_checkstack): without them the
** runtime cannot be reached, and they answer as on a closed runtime, or
** return ACTRESS_ERROR with nothing pushed.
*/

#ifndef ACTRESS_H
#define ACTRESS_H

#include <lua.h>
#include <uv.h>

#define ACTRESS_VERSION_MAJOR 0
#define ACTRESS_VERSION_MINOR 2
#define ACTRESS_VERSION_PATCH 0
#define ACTRESS_VERSION "0.2.0"

/* The registry key of the per-state runtime (a full userdata). */
#define ACTRESS_CONTEXT_KEY "actress.context"

/* What the stepping functions return when they could not run. */
#define ACTRESS_ERROR (-1)

#if defined(_WIN32)
#define ACTRESS_API __declspec(dllexport)
#else
#define ACTRESS_API __attribute__((visibility("default")))
#endif

/*
** Opens the Lua module "actress.core" and leaves its table on the stack.
** Creates the state's runtime on first use; opening it again (busted's
** insulation does) reuses the same runtime. A lua_CFunction: call it with
** luaL_requiref or lua_call, not directly.
** [-0, +1, e]
*/
ACTRESS_API int (luaopen_actress_core)(lua_State *L);

/*
** As task.poll(): resumes every ready task and fires every due timer,
** polls I/O without blocking. Returns 1 while work remains (ready tasks,
** pending timers or active I/O), 0 otherwise, ACTRESS_ERROR (message
** pushed) if it may not run now.
** [-0, +(0|1), -]
*/
ACTRESS_API int (actress_poll)(lua_State *L);

/*
** As actress_poll, but resumes at most `max` tasks (max < 1 counts as 1);
** the rest stay queued, in order, for the next call. A poll never runs
** more than the tasks ready when it starts (then those ready after the
** due timers fired): a task that queues itself again with task.wait()
** runs once per poll, so a poll always returns.
** [-0, +(0|1), -]
*/
ACTRESS_API int (actress_poll_budget)(lua_State *L, int max);

/*
** As task.advance(ms): manual clock only. Moves the clock forward by ms
** (a non-negative finite number), firing due timers in time order and
** running what they wake. What goes wrong (not the manual clock, a bad
** ms, called while the loop is driven) goes to the error handler, as
** task.advance would have raised it.
** [-0, +0, -]
*/
ACTRESS_API void (actress_advance)(lua_State *L, double ms);

/*
** For a frame loop on the manual clock: moves the clock forward by ms and
** queues every timer due by then, in time order, like actress_advance, but
** resumes at most `max` tasks (what is left stays queued, in order, for
** the next poll). With max = 0 it only moves time; a frame is then
** actress_advance_budget(L, dt, 0) followed by actress_poll_budget(L, n).
** Returns 1 while work remains, 0 if none, ACTRESS_ERROR (message pushed)
** if it may not run now (or not on the system clock, or ms is not a
** non-negative finite number).
** [-0, +(0|1), -]
*/
ACTRESS_API int (actress_advance_budget)(lua_State *L, double ms, int max);

/*
** As task.resume(f) on the Fork at stack index idx: queues it if it is
** suspended in task.suspend(). Returns 1 if it was queued, 0 if it was
** left alone (also when idx holds no Fork of this runtime, or the
** runtime is closed).
** [-0, +0, -]
*/
ACTRESS_API int (actress_resume)(lua_State *L, int idx);

/* The libuv loop the runtime drives; NULL once the runtime is closed.
** [-0, +0, -] */
ACTRESS_API uv_loop_t *(actress_loop)(lua_State *L);

/*
** Makes the runtime of L drive `loop`, a loop the host owns, instead of
** creating one. Call it before luaopen_actress_core (before the runtime
** exists); returns 0, or -1 if the runtime exists already (nothing
** changes then). The host runs the loop or lets actress run it, and
** closes it itself, after actress_close or lua_close: actress only closes
** its own handles on it.
** [-0, +0, m]
*/
ACTRESS_API int (actress_use_loop)(lua_State *L, uv_loop_t *loop);

/*
** Closes the runtime of L: pending tasks are dropped without running
** (their to-be-closed variables do not run), timers stop, the runtime's
** libuv handles are closed and its C memory freed, and every task,
** coroutine and handler it held is released to the collector. Forks stay
** safe to touch: operations on them raise "actress: the runtime is
** closed", and so does every function of the module afterwards. lua_close
** does the same. Call it when the host must close its loop before
** lua_close. It may be called from a callback of the loop: the
** runtime's own loop is freed only at lua_close (after the host's handles
** on it are closed). Returns 0 once closed (also if it was already, or
** never made); ACTRESS_ERROR, with the message pushed and nothing
** changed, if called from inside a task or while the runtime drives the
** loop.
** [-0, +(0|1), -]
*/
ACTRESS_API int (actress_close)(lua_State *L);

/*
** How long the host may wait before the next actress_poll, in ms: 0 if
** tasks are ready, the time to the next timer, or -1 if no timer is
** pending (only I/O or actress_resume can then make work) or the runtime
** is closed.
** [-0, +0, -]
*/
ACTRESS_API double (actress_timeout)(lua_State *L);

/*
** Receives the failures that would go to the default error handler (a
** failed spawned or top-level task, an error in a then_ callback or in an
** on_error handler): the Fork's id (0 if none), its name, the error as a
** string (tostring), and the traceback of where it was raised (NULL if
** none). The strings live until the handler returns. It runs outside any
** task; it must not call into Lua with L.
*/
typedef void (*actress_ErrorHandler)(void *ud, lua_Integer id,
                                     const char *name, const char *message,
                                     const char *traceback);

/*
** Sets the handler for the failures that task.on_error's default handler
** would write to stderr; fn = NULL restores stderr. A Lua handler set
** with task.on_error still comes first: this one then receives what that
** handler's own errors would have printed. Returns 0, or -1 if the
** runtime is closed or not made yet (call it after luaopen_actress_core).
** [-0, +0, -]
*/
ACTRESS_API int (actress_set_error_handler)(lua_State *L,
                                            actress_ErrorHandler fn,
                                            void *ud);

#endif
