/*
** lact_runtime.c: the per-state runtime. It is a userdata kept in the
** registry under ACTRESS_CONTEXT_KEY; it owns the libuv loop, the clock,
** the timer heap and the run queue, and drives them (run, await, drain,
** poll, advance). Errors with nowhere to go are reported here.
*/

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_int.h"

/* The runtime clock, in ms: libuv's monotonic clock, or the manual one. */
double act__now(act_runtime *rt) {
  if (rt->manual) return rt->manual_now;
  return (double)(uv_hrtime() - rt->origin) / 1e6;
}

/* {====================================================================
** Finding the runtime
** ===================================================================== */

static act_runtime *checkopen(lua_State *L, act_runtime *rt) {
  if (rt == NULL) luaL_error(L, "actress: no runtime in this state");
  if (rt->closed) luaL_error(L, "actress: the runtime is closed");
  return rt;
}

act_runtime *act__runtime(lua_State *L) {
  act_runtime *rt;
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  rt = luaL_testudata(L, -1, ACT_RUNTIME_MT);
  lua_pop(L, 1);
  return checkopen(L, rt);
}

act_runtime *act__upruntime(lua_State *L) {
  return checkopen(L, lua_touserdata(L, lua_upvalueindex(1)));
}

/* }==================================================================== */

/* {====================================================================
** Creating and closing
** ===================================================================== */

/*
** Closes the runtime: pending tasks are dropped without running, timers
** stop, the libuv handle is closed, C memory is freed. The userdata stays
** (forks point to it); every operation then raises "the runtime is
** closed". No Lua calls: it also runs as a finalizer at lua_close.
*/
void act__close(act_runtime *rt, int finalizing) {
  if (rt->closed) return;
  rt->closed = 1;
  rt->running = NULL;
  act__handles_close(rt, finalizing);
  if (rt->loop != NULL && rt->own_loop) {
    uv_run(rt->loop, UV_RUN_NOWAIT);  /* runs the close callbacks */
    if (uv_loop_close(rt->loop) == 0) free(rt->loop);
  }  /* a host's or luv's loop runs them when it runs */
  rt->loop = NULL;
  act_heap_free(&rt->timers);
  act__free_links(rt);
}

static int l_runtime_gc(lua_State *L) {
  act__close(luaL_checkudata(L, 1, ACT_RUNTIME_MT), 1);
  return 0;
}

/* The host's loop, if actress_use_loop set one before the runtime. */
static const char host_loop_key = 'L';

/* Pushes the state's runtime, making it on first use. */
static act_runtime *push_runtime(lua_State *L) {
  act_runtime *rt;
  uv_loop_t *loop;
  int ref_luv = LUA_NOREF;
  unsigned luv_version = 0;
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  rt = luaL_testudata(L, -1, ACT_RUNTIME_MT);
  if (rt != NULL) return rt;
  lua_pop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &host_loop_key);
  loop = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (loop == NULL)  /* before the runtime: see lact_luv.c */
    loop = act__adopt_luv(L, &ref_luv, &luv_version);
  /* The userdata first, in a closed-safe state, so that an error in a
     later allocation leaves nothing behind that its __gc cannot free. */
  rt = lua_newuserdatauv(L, sizeof *rt, 0);
  memset(rt, 0, sizeof *rt);
  rt->ref_luv = ref_luv;
  rt->luv_version = luv_version;
  rt->wake_at = -1;
  act_list_init(&rt->ready);
  act_heap_init(&rt->timers);
  if (luaL_newmetatable(L, ACT_RUNTIME_MT)) {
    lua_pushcfunction(L, l_runtime_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  rt->ref_pool = rt->ref_on_error = LUA_NOREF;
  lua_newtable(L);
  rt->ref_pool = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushboolean(L, 0);
  rt->ref_on_error = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  rt->L = lua_tothread(L, -1);
  lua_pop(L, 1);
  rt->loop = loop;
  if (rt->loop == NULL) {
    rt->loop = malloc(sizeof *rt->loop);
    if (rt->loop == NULL || uv_loop_init(rt->loop) != 0) {
      free(rt->loop);
      rt->loop = NULL;
      luaL_error(L, "actress: cannot create the event loop");
    }
    rt->own_loop = 1;
  }
  act__handles_open(L, rt);
  rt->origin = uv_hrtime();
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  return rt;
}

/* }==================================================================== */

/* {====================================================================
** Driving the loop
** ===================================================================== */

void act__begin_driving(lua_State *L, act_runtime *rt, const char *op) {
  if (rt->running != NULL)
    luaL_error(L, "actress: %s cannot be called from inside a task", op);
  if (rt->driving)
    luaL_error(L, "actress: %s cannot be called while the loop is being "
                  "driven", op);
  if (act__luv_running(L, rt))
    luaL_error(L, "actress: %s cannot be called while uv.run() drives the "
                  "loop (actress's tasks run from it already)", op);
  rt->driving = 1;
}

/* A driver returns: the handles take over for whoever runs the loop next. */
void act__end_driving(act_runtime *rt) {
  rt->driving = 0;
  act__sync_handles(rt);
}

/* Waits in libuv for I/O or the next timer (system clock). */
static void wait_for_events(act_runtime *rt, const act_timer *next) {
  if (next != NULL) act__set_wake(rt, next->deadline);
  uv_run(rt->loop, UV_RUN_ONCE);
  act__set_wake(rt, -1);
}

/*
** Drives the loop until `until` has finished, or, with until == NULL,
** until no task is ready, no timer is pending and no I/O is active.
** Raises if `until` can never finish.
*/
void act__drive(lua_State *L, act_runtime *rt, act_fork *until) {
  for (;;) {
    const act_timer *next;
    int io;
    act__run_ready(L, rt, -1, until);
    if (until != NULL && until->state == ACT_FINISHED) break;
    if (act__fire_due(rt, act__now(rt)) > 0) continue;
    next = act_heap_top(&rt->timers);
    act__quiet_handles(rt);
    io = uv_loop_alive(rt->loop);  /* others' handles and requests */
    if (next == NULL && !io) {
      if (until == NULL) break;
      act__end_driving(rt);
      luaL_error(L, "actress: the task can never finish: it waits, but no "
                    "task is ready, no timer is pending and no I/O is active");
    }
    if (!rt->manual) {
      wait_for_events(rt, next);
    } else {
      if (io) uv_run(rt->loop, next != NULL ? UV_RUN_NOWAIT : UV_RUN_ONCE);
      if (next != NULL && rt->nready == 0 && next->deadline > rt->manual_now)
        rt->manual_now = next->deadline;  /* never wait in real time */
    }
  }
}

static int work_remains(act_runtime *rt) {
  return rt->nready > 0 || rt->timers.n > 0 || uv_loop_alive(rt->loop);
}

/* At most `budget` resumes (budget < 0: no limit), and at most the tasks
   ready now: a task that queues itself again (task.wait()) waits for the
   next pass, so that a pass always ends. */
static int run_pass(lua_State *L, act_runtime *rt, int budget) {
  int n = (int)rt->nready;
  return act__run_ready(L, rt, budget >= 0 && budget < n ? budget : n, NULL);
}

/*
** One step of poll, which never blocks: the tasks ready now, then due
** timers and I/O callbacks, then the tasks ready after them; at most
** `budget` resumes in all (budget < 0: no limit).
*/
int act__poll(lua_State *L, act_runtime *rt, int budget) {
  int n;
  act__begin_driving(L, rt, "poll");
  n = run_pass(L, rt, budget);
  if (n != budget) {
    act__fire_due(rt, act__now(rt));
    uv_run(rt->loop, UV_RUN_NOWAIT);
    run_pass(L, rt, budget < 0 ? -1 : budget - n);
  }
  act__end_driving(rt);
  return work_remains(rt);
}

/*
** Manual clock: moves it forward by ms, firing due timers in time order,
** with at most `budget` resumes (budget < 0: no limit, and every task they
** wake runs before the next timer fires). When the budget runs out, the
** timers due by then are queued, in time order, for later polls.
*/
int act__advance_budget(lua_State *L, act_runtime *rt, double ms,
                        int budget) {
  double target;
  const act_timer *next;
  int n = 0;
  if (!rt->manual)
    luaL_error(L, "actress: advance needs the manual clock "
                  "(task.set_clock(\"manual\"))");
  act__begin_driving(L, rt, "advance");
  target = rt->manual_now + ms;
  n += act__run_ready(L, rt, budget < 0 ? -1 : budget - n, NULL);
  while ((next = act_heap_top(&rt->timers)) != NULL &&
         next->deadline <= target && n != budget) {
    if (next->deadline > rt->manual_now) rt->manual_now = next->deadline;
    act__fire_due(rt, rt->manual_now);
    n += act__run_ready(L, rt, budget < 0 ? -1 : budget - n, NULL);
  }
  if (target > rt->manual_now) rt->manual_now = target;
  act__fire_due(rt, rt->manual_now);  /* what the budget left: queued */
  act__end_driving(rt);
  return work_remains(rt);
}

void act__advance(lua_State *L, act_runtime *rt, double ms) {
  act__advance_budget(L, rt, ms, -1);
}

/* }==================================================================== */

/* {====================================================================
** Reporting failures of spawned and top-level tasks
** ===================================================================== */

/* The default error handler: one line, then the traceback, to stderr. */
int act__default_on_error(lua_State *L) {
  act_fork *f = act__testfork(L, 2);
  const char *msg = luaL_tolstring(L, 1, NULL);
  const char *name = "";
  const char *traceback = NULL;
  lua_Integer id = 0;
  if (f != NULL) {
    id = f->id;
    if (lua_getiuservalue(L, 2, ACT_UV_EXTRA) == LUA_TTABLE) {
      if (lua_getfield(L, -1, "name") == LUA_TSTRING) name = lua_tostring(L, -1);
      if (lua_getfield(L, -2, "traceback") == LUA_TSTRING)
        traceback = lua_tostring(L, -1);
    }
  }
  fprintf(stderr, "actress: task %lld \"%s\" failed: %s\n", (long long)id,
          name, msg);
  if (traceback != NULL) fprintf(stderr, "%s\n", traceback);
  fflush(stderr);
  return 0;
}

/*
** Calls the error handler with (the error at errindex, the fork at
** forkindex), outside any task. An error in the handler goes to the
** default handler. Never raises.
*/
void act__report(lua_State *L, act_runtime *rt, int errindex, int forkindex) {
  act_fork *running = rt->running;
  int top = lua_gettop(L);
  errindex = lua_absindex(L, errindex);
  forkindex = lua_absindex(L, forkindex);
  if (!lua_checkstack(L, 6)) return;
  rt->running = NULL;  /* the handler runs outside any task */
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_on_error);
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    lua_pushcfunction(L, act__default_on_error);
  }
  lua_pushvalue(L, errindex);
  lua_pushvalue(L, forkindex);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    lua_pushcfunction(L, act__default_on_error);
    lua_insert(L, -2);
    lua_pushvalue(L, forkindex);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK)
      fprintf(stderr, "actress: the error handler failed\n");
  }
  rt->running = running;
  lua_settop(L, top);
}

/* }==================================================================== */

/* {====================================================================
** The C embedding API (actress.h)
** ===================================================================== */

ACTRESS_API int luaopen_actress_core(lua_State *L) {
  luaL_checkversion(L);
  act__guard_luv(L, push_runtime(L), -1);
  act__open_ops(L);  /* [runtime] -> [runtime, module] */
  lua_remove(L, -2);
  return 1;
}

int actress_poll(lua_State *L) {
  return act__poll(L, act__runtime(L), -1);
}

int actress_poll_budget(lua_State *L, int max) {
  if (max < 1) max = 1;
  return act__poll(L, act__runtime(L), max);
}

void actress_advance(lua_State *L, double ms) {
  if (!(ms >= 0)) luaL_error(L, "actress: advance needs ms >= 0");
  act__advance(L, act__runtime(L), ms);
}

int actress_advance_budget(lua_State *L, double ms, int max) {
  if (!(ms >= 0)) luaL_error(L, "actress: advance needs ms >= 0");
  return act__advance_budget(L, act__runtime(L), ms, max < 0 ? 0 : max);
}

int actress_resume(lua_State *L, int idx) {
  act_fork *f = act__checkanyfork(L, idx, "resume");
  if (f->state == ACT_WAITING && f->wait == ACT_W_SUSPEND) {
    act__enqueue(f->rt, f);
    return 1;
  }
  return 0;
}

uv_loop_t *actress_loop(lua_State *L) {
  return act__runtime(L)->loop;
}

int actress_use_loop(lua_State *L, uv_loop_t *loop) {
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return -1;  /* too late: the runtime has its loop */
  }
  lua_pop(L, 1);
  lua_pushlightuserdata(L, loop);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &host_loop_key);
  return 0;
}

void actress_close(lua_State *L) {
  act_runtime *rt;
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  rt = luaL_testudata(L, -1, ACT_RUNTIME_MT);
  lua_pop(L, 1);
  if (rt != NULL) {
    if (rt->driving || rt->running != NULL)
      luaL_error(L, "actress: cannot close the runtime while it runs");
    act__close(rt, 0);
  }
}

double actress_timeout(lua_State *L) {
  act_runtime *rt = act__runtime(L);
  const act_timer *next = act_heap_top(&rt->timers);
  double delay;
  if (rt->nready > 0) return 0;
  if (next == NULL) return -1;
  delay = next->deadline - act__now(rt);
  return delay > 0 ? delay : 0;
}

/* }==================================================================== */
