/*
** lact_handles.c: the runtime's two libuv handles, for when someone else
** runs the loop (uv.run() in luv, a host's uv_run): `wake`, a timer armed
** for the first deadline, and `idle`, active while tasks are ready. Their
** callbacks fire due timers and run ready tasks on the main thread.
**
** On its own loop or a host's, they are plain libuv handles in their own
** allocations (freed by their close callbacks, which run late on a loop
** that is not ours). On luv's loop they are luv handles made through
** luv's Lua API: luv 1.44 assumes that every handle of its loop is its own
** (uv.walk and its closing at lua_close read handle->data), so a foreign
** handle there would crash it.
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

/*
** Fires due timers and runs the tasks ready now, for a loop run by someone
** else; once per loop iteration, so that a task that queues itself again
** (task.wait()) lets the loop go on. Under actress's own drivers it does
** nothing: the driver does this work, within its budget.
*/
static void process(act_runtime *rt) {
  if (rt->closed || rt->running != NULL || rt->driving) return;
  rt->driving = 1;
  if (!rt->manual) act__fire_due(rt, act__now(rt));
  act__run_ready(rt->L, rt, (int)rt->nready, NULL);
  rt->driving = 0;
  act__sync_handles(rt);
}

/* {====================================================================
** Plain libuv handles
** ===================================================================== */

static void wake_cb(uv_timer_t *t) {
  act_runtime *rt = act_container_of(t, act_wake, timer)->rt;
  rt->wake_at = -1;
  process(rt);
}

static void idle_cb(uv_idle_t *h) {
  process(act_container_of(h, act_idle, idle)->rt);
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
    luaL_error(L, "actress: not enough memory");
  }
  wake->rt = idle->rt = rt;
  uv_timer_init(rt->loop, &wake->timer);
  uv_idle_init(rt->loop, &idle->idle);
  rt->wake = &wake->timer;
  rt->idle = &idle->idle;
}

/* }==================================================================== */

/* {====================================================================
** luv handles: registry[rt->ref_handles] = { wake, idle, wake_cb, idle_cb }
** ===================================================================== */

enum { H_WAKE = 1, H_IDLE, H_WAKE_CB, H_IDLE_CB };

static int luv_wake_cb(lua_State *L) {
  act_runtime *rt = lua_touserdata(L, lua_upvalueindex(1));
  rt->wake_at = -1;
  process(rt);
  return 0;
}

static int luv_idle_cb(lua_State *L) {
  process(lua_touserdata(L, lua_upvalueindex(1)));
  return 0;
}

/* Makes a luv handle with uv.<maker>() into t[slot]. */
static void new_luv_handle(lua_State *L, int luv, int t, const char *maker,
                           int slot) {
  lua_getfield(L, luv, maker);
  lua_call(L, 0, 1);
  lua_rawseti(L, t, slot);
}

static void open_luv(lua_State *L, act_runtime *rt) {
  int luv, t;
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_luv);
  luv = lua_gettop(L);
  lua_createtable(L, 4, 0);
  t = lua_gettop(L);
  new_luv_handle(L, luv, t, "new_timer", H_WAKE);
  new_luv_handle(L, luv, t, "new_idle", H_IDLE);
  lua_pushlightuserdata(L, rt);
  lua_pushcclosure(L, luv_wake_cb, 1);
  lua_rawseti(L, t, H_WAKE_CB);
  lua_pushlightuserdata(L, rt);
  lua_pushcclosure(L, luv_idle_cb, 1);
  lua_rawseti(L, t, H_IDLE_CB);
  rt->ref_handles = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
}

/*
** Calls handle:method(args...) on the luv handle t[slot], with the
** callback t[cb] (0: none) after the numbers; errors are ignored (a
** handle that luv closed at lua_close, say).
*/
static void luv_call(act_runtime *rt, int slot, const char *method,
                     int nnum, double n1, int cb) {
  lua_State *L = rt->L;
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 6)) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_handles);
  lua_rawgeti(L, -1, slot);
  lua_getfield(L, -1, method);
  lua_insert(L, -2);  /* method, handle */
  if (nnum > 0) lua_pushinteger(L, (lua_Integer)n1);
  if (nnum > 1) lua_pushinteger(L, 0);
  if (cb) lua_rawgeti(L, top + 1, cb);
  lua_pcall(L, 1 + nnum + (cb != 0), 0, 0);
  lua_settop(L, top);
}

/* }==================================================================== */

void act__handles_open(lua_State *L, act_runtime *rt) {
  rt->wake_at = -1;
  rt->ref_handles = LUA_NOREF;
  if (rt->ref_luv != LUA_NOREF) open_luv(L, rt);
  else open_plain(L, rt);
}

static int on_luv(act_runtime *rt) {
  return rt->ref_handles != LUA_NOREF;
}

static void set_idle(act_runtime *rt, int on) {
  if (on == rt->idle_on) return;
  rt->idle_on = (unsigned char)on;
  if (on_luv(rt)) luv_call(rt, H_IDLE, on ? "start" : "stop", 0, 0, on ? H_IDLE_CB : 0);
  else if (on) uv_idle_start(rt->idle, idle_cb);
  else uv_idle_stop(rt->idle);
}

/* Arms `wake` for `deadline`, or stops it if deadline < 0. */
void act__set_wake(act_runtime *rt, double deadline) {
  if (deadline == rt->wake_at) return;
  rt->wake_at = deadline;
  if (deadline < 0) {
    if (on_luv(rt)) luv_call(rt, H_WAKE, "stop", 0, 0, 0);
    else uv_timer_stop(rt->wake);
  } else {
    double delay = deadline - act__now(rt);
    uint64_t ms = delay > 0 ? (uint64_t)ceil(delay) : 0;
    uv_update_time(rt->loop);
    if (on_luv(rt)) luv_call(rt, H_WAKE, "start", 2, (double)ms, H_WAKE_CB);
    else uv_timer_start(rt->wake, wake_cb, ms, 0);
  }
}

/*
** Makes the handles match the work: `idle` active while tasks are ready,
** `wake` armed for the first deadline while timers are pending on the
** system clock. Drivers call it when they return; so does anything that
** queues or runs a task outside a driver.
*/
void act__sync_handles(act_runtime *rt) {
  const act_timer *next;
  if (rt->closed || rt->driving) return;
  set_idle(rt, rt->nready > 0);
  next = act_heap_top(&rt->timers);
  act__set_wake(rt, next != NULL && !rt->manual ? next->deadline : -1);
}

/* Stops both handles, so that uv_loop_alive tells only of others' I/O. */
void act__quiet_handles(act_runtime *rt) {
  set_idle(rt, 0);
  act__set_wake(rt, -1);
}

/*
** Closes the handles. luv's are only stopped: luv closes them itself at
** lua_close (when `finalizing`, it has already: made after the runtime,
** they were finalized before it). Closing them here would not be safe:
** luv 1.44 frees a closed handle at lua_close before its loop has run the
** close callback (a plain `uv.new_timer():close()` at exit crashes).
*/
void act__handles_close(act_runtime *rt, int finalizing) {
  if (on_luv(rt)) {
    if (!finalizing) act__quiet_handles(rt);
    return;
  }
  if (rt->wake != NULL) uv_close((uv_handle_t *)rt->wake, free_handle);
  if (rt->idle != NULL) uv_close((uv_handle_t *)rt->idle, free_handle);
  rt->wake = NULL;
  rt->idle = NULL;
}
