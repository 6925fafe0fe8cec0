/*
** act_loop.c: how actress's work shows to whoever runs the loop (uv.run()
** in luv, a host's uv_run) when actress's own drivers do not. Two things
** must be visible there: "tasks are ready" (an idle handle, so the loop
** does not block) and "the first timer is due at t" (a timer handle).
** When they fire, act__loop_step fires due timers and runs ready tasks.
**
** On the runtime's own loop or a host's, the handles are plain libuv
** handles owned here. On luv's loop they are luv handles held by the Lua
** bridge (lua/actress/loop.lua), made with luv's public API: luv 1.44's
** uv.walk assumes that every handle of its loop is its own. The core
** then tells the bridge what the handles should be by calling the
** bridge's sync function, only at the boundary of an API call made
** outside tasks and drivers (act__loop_touch): queueing a task or arming
** a timer never runs Lua.
*/

#include <math.h>
#include <stdlib.h>

#include "act_int.h"

typedef struct act_wake {
  uv_timer_t timer;  /* first: the handle's address is the wrapper's */
  act_runtime *rt;
} act_wake;

typedef struct act_idle {
  uv_idle_t idle;
  act_runtime *rt;
} act_idle;

/* {====================================================================
** One step for a loop run by someone else
** ===================================================================== */

/* [rt] -> []: fires due timers and runs the tasks ready now. */
static int step_work(lua_State *L) {
  act_runtime *rt = lua_touserdata(L, 1);
  rt->driving = 1;
  if (!rt->manual) act__timer_fire_due(rt, act__now(rt));
  act__run_ready(L, rt, (int)rt->nready, NULL);
  rt->driving = 0;
  return 0;
}

/*
** A loop step came while a task runs: the task called uv.run() (or the
** host's loop runner) from inside itself, running the loop nested inside
** the step that runs the task, which libuv does not allow. The task
** fails as soon as the nested run returns to it.
*/
static int refuse_nested(lua_State *L, act_runtime *rt) {
  act_fork *f = rt->running;
  if (f->co == NULL || lua_gethook(f->co) != NULL) return 0;  /* armed */
  lua_pushliteral(L, "actress: uv.run cannot be called from inside a task "
                     "(libuv's loop is not reentrant): use actress.uv or "
                     "task.await_callback to wait for I/O");
  act__raise_soon(L, f);
  return 0;
}

/*
** Fires due timers and runs the tasks ready now, then brings the handles
** up to date; once per loop iteration, so that a task that queues itself
** again (task.wait()) lets the loop go on. Does nothing under actress's
** own drivers (they do this work, within their budget), and refuses a
** loop run from inside a task. Never raises: what goes wrong goes to the
** error handler. Returns 1 if it ran, 0 if it did nothing (then whoever
** runs the loop should stop: see lua/actress/loop.lua).
*/
int act__loop_step(lua_State *L, act_runtime *rt) {
  if (rt->closed || !lua_checkstack(L, 3)) return 0;
  if (rt->running != NULL) return refuse_nested(L, rt);
  if (rt->driving) return 1;
  lua_pushcfunction(L, step_work);
  lua_pushlightuserdata(L, rt);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    rt->driving = 0;  /* the step was cut short (out of memory, say) */
    rt->running = NULL;
    act__report(L, rt, -1, 0);
    lua_pop(L, 1);
  }
  act__loop_touch(L, rt);
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Plain libuv handles
** ===================================================================== */

static void wake_cb(uv_timer_t *t) {
  act_runtime *rt = act_container_of(t, act_wake, timer)->rt;
  rt->wake_at = -1;
  act__loop_step(rt->L, rt);
}

static void idle_cb(uv_idle_t *h) {
  act_runtime *rt = act_container_of(h, act_idle, idle)->rt;
  act__loop_step(rt->L, rt);
}

static void free_handle(uv_handle_t *h) {
  free(h);  /* the wrapper: the handle is its first field */
}

static void open_plain(lua_State *L, act_runtime *rt) {
  act_wake *wake = malloc(sizeof *wake);
  act_idle *idle = malloc(sizeof *idle);
  if (wake == NULL || idle == NULL) {
    free(wake);
    free(idle);
    luaL_error(L, "not enough memory");
  }
  wake->rt = idle->rt = rt;
  uv_timer_init(rt->loop, &wake->timer);
  uv_idle_init(rt->loop, &idle->idle);
  rt->h.wake = &wake->timer;
  rt->h.idle = &idle->idle;
}

static void plain_set(act_runtime *rt, int idle, double deadline) {
  if (idle != rt->idle_on) {
    if (idle) uv_idle_start(rt->h.idle, idle_cb);
    else uv_idle_stop(rt->h.idle);
  }
  if (deadline != rt->wake_at) {
    if (deadline < 0) {
      uv_timer_stop(rt->h.wake);
    } else {
      double delay = deadline - act__now(rt);
      uint64_t ms = delay > 0 ? (uint64_t)ceil(delay) : 0;
      uv_update_time(rt->loop);
      uv_timer_start(rt->h.wake, wake_cb, ms, 0);
    }
  }
}

/* }==================================================================== */

/* {====================================================================
** The Lua bridge on luv's loop, owned.bridge: bridge.sync(idle, delay_ms)
** sets its handles (delay_ms < 0: no timer), bridge.driving() tells
** whether luv's uv.run() drives the loop.
** ===================================================================== */

/* Pushes bridge[name]; returns its type. */
static int push_bridge_fn(lua_State *L, act_runtime *rt, const char *name) {
  act__pushowned(L, rt);
  if (lua_getfield(L, -1, "bridge") != LUA_TTABLE) {
    lua_pop(L, 2);
    lua_pushnil(L);
    return LUA_TNIL;
  }
  lua_getfield(L, -1, name);
  lua_replace(L, -3);
  lua_pop(L, 1);
  return lua_type(L, -1);
}

/* [rt, idle, deadline] -> []: calls bridge.sync(idle, delay). */
static int bridge_call(lua_State *L) {
  act_runtime *rt = lua_touserdata(L, 1);
  int idle = lua_toboolean(L, 2);
  double deadline = lua_tonumber(L, 3), delay = -1;
  if (push_bridge_fn(L, rt, "sync") == LUA_TNIL) return 0;
  if (deadline >= 0) {
    delay = deadline - act__now(rt);
    delay = delay > 0 ? ceil(delay) : 0;
  }
  lua_pushboolean(L, idle);
  lua_pushnumber(L, delay);
  lua_call(L, 2, 0);
  return 0;
}

static void bridge_set(lua_State *L, act_runtime *rt, int idle,
                       double deadline) {
  act_fork *running = rt->running;
  if (!lua_checkstack(L, 6)) return;
  rt->running = NULL;  /* the bridge runs outside any task */
  lua_pushcfunction(L, bridge_call);
  lua_pushlightuserdata(L, rt);
  lua_pushboolean(L, idle);
  lua_pushnumber(L, deadline);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
    act__report(L, rt, -1, 0);
    lua_pop(L, 1);
  }
  rt->running = running;
}

/*
** Is luv's uv.run() driving the loop? (Asks the bridge, which asks luv's
** uv.loop_mode().) Raises what the bridge raises.
*/
int act__luv_driving(lua_State *L, act_runtime *rt) {
  int driving;
  if (!rt->has_bridge) return 0;
  if (push_bridge_fn(L, rt, "driving") == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  lua_call(L, 0, 1);
  driving = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return driving;
}

/* }==================================================================== */

void act__loop_open(lua_State *L, act_runtime *rt) {
  rt->wake_at = -1;
  rt->idle_on = 0;
  if (!rt->on_luv) open_plain(L, rt);
}

/* Makes the handles match (idle, deadline): deadline < 0 is no timer. */
static void set_handles(lua_State *L, act_runtime *rt, int idle,
                        double deadline) {
  if (idle == rt->idle_on && deadline == rt->wake_at) return;
  if (rt->h.idle != NULL) plain_set(rt, idle, deadline);
  else if (rt->has_bridge && L != NULL) bridge_set(L, rt, idle, deadline);
  rt->idle_on = (unsigned char)idle;
  rt->wake_at = deadline;
}

/*
** At the end of an API call: if no task and no driver runs (the call came
** from plain code or a loop callback), makes the handles match the work:
** the idle handle on while tasks are ready, the wake armed for the first
** deadline while timers are pending on the system clock.
*/
void act__loop_sync(lua_State *L, act_runtime *rt) {
  const act_timer *next;
  if (rt->closed) return;
  next = act__timer_next(rt);
  set_handles(L, rt, rt->nready > 0,
              next != NULL && !rt->manual ? next->deadline : -1);
}

/* Stops both handles, so that uv_loop_alive tells only of others' I/O. */
void act__loop_quiet(lua_State *L, act_runtime *rt) {
  set_handles(L, rt, 0, -1);
}

/* For a driver about to wait in the loop: wakes it at `deadline`. */
void act__loop_wake_at(lua_State *L, act_runtime *rt, double deadline) {
  set_handles(L, rt, 0, deadline);
}

/*
** Stops the handles, and closes the plain ones (their close callbacks free
** them, late on a loop that is not ours). The bridge's luv handles are
** luv's to close, at lua_close; L is NULL when finalizing, and then they
** are not touched (luv may have closed them already).
*/
void act__loop_close(lua_State *L, act_runtime *rt) {
  if (L != NULL) set_handles(L, rt, 0, -1);
  if (rt->h.wake != NULL) uv_close((uv_handle_t *)rt->h.wake, free_handle);
  if (rt->h.idle != NULL) uv_close((uv_handle_t *)rt->h.idle, free_handle);
  rt->h.wake = NULL;
  rt->h.idle = NULL;
}
