/*
** act_runtime.c: the per-state runtime, a userdata kept in the registry
** under ACTRESS_CONTEXT_KEY: creating it (with its loop: its own, the
** host's or luv's), driving the loop from outside tasks (run and await
** until a fork finishes, drain until nothing is left, poll what is ready
** now, advance the manual clock), and closing it, which releases all it
** owns (act_own.c) at once. Drivers refuse to nest, to run inside a
** task, and to run while luv's uv.run() drives the loop.
*/

#include <stdlib.h>
#include <string.h>

#include "act_int.h"


/* {====================================================================
** Creating and closing
** ===================================================================== */

/* Drops the owned table: the runtime's user value and its reference. */
static void release_owned(lua_State *L, act_runtime *rt) {
  if (rt->ref_owned == LUA_NOREF || !lua_checkstack(L, 2)) return;
  luaL_unref(L, LUA_REGISTRYINDEX, rt->ref_owned);
  rt->ref_owned = LUA_NOREF;
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  if (lua_touserdata(L, -1) == rt) {
    lua_pushnil(L);
    lua_setiuservalue(L, -2, 1);
  }
  lua_pop(L, 1);
}

/*
** Closes the runtime: pending tasks are dropped without running, timers
** stop, the libuv handles are closed, C memory is freed, and the owned
** table goes, with every fork, coroutine and handler in it. The userdata
** stays (forks point to it); every operation then raises "the runtime is
** closed". Calls no Lua function, so that it can run as a finalizer at
** lua_close (L NULL). The runtime's own loop is closed and freed only
** then: a host may close the runtime from a callback of that very loop,
** which must go on running until uv_run returns.
*/
void act__close(lua_State *L, act_runtime *rt) {
  if (!rt->closed) {
    act__loop_close(L, rt);
    rt->closed = 1;
    rt->running = NULL;
    act_heap_free(&rt->timers);
    act_list_init(&rt->ready);  /* its nodes are in forks about to go */
    rt->nready = rt->live = rt->waiting = 0;
    rt->npool = 0;
    act__free_links(rt);
    if (L != NULL) release_owned(L, rt);
  }
  if (L == NULL && rt->loop != NULL) {
    if (rt->own_loop) {
      uv_run(rt->loop, UV_RUN_NOWAIT);  /* runs the close callbacks */
      if (uv_loop_close(rt->loop) == 0) free(rt->loop);
    }  /* a host's or luv's loop runs them when it runs */
    rt->loop = NULL;
  }
}

static int l_runtime_gc(lua_State *L) {
  act_runtime *rt = luaL_checkudata(L, 1, ACT_RUNTIME_MT);
  act__close(NULL, rt);
  return 0;
}

/* The host's loop, if actress_use_loop set one before the runtime. */
static const char host_loop_key = 'L';

/* Stores what the runtime made, so that close can undo it. */
static void make_loop(lua_State *L, act_runtime *rt) {
  rt->loop = malloc(sizeof *rt->loop);
  if (rt->loop == NULL || uv_loop_init(rt->loop) != 0) {
    free(rt->loop);
    rt->loop = NULL;
    luaL_error(L, "actress: cannot create the event loop");
  }
  rt->own_loop = 1;
}

/* The loop to drive: the host's, luv's (pinned in owned.luv), or none. */
static uv_loop_t *find_loop(lua_State *L, act_runtime *rt, int owned) {
  uv_loop_t *loop;
  int pinned = 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &host_loop_key);
  loop = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (loop != NULL) return loop;
  loop = act__adopt_luv(L, &pinned, &rt->luv_version);
  if (pinned) {  /* luv's module table is on the stack */
    lua_setfield(L, owned, "luv");
    rt->on_luv = 1;
  }
  return loop;
}

/*
** Pushes the state's runtime, making it on first use. The userdata
** comes first, in a state its __gc can always undo, so that an error in a
** later allocation leaves nothing behind.
*/
act_runtime *act__pushruntime(lua_State *L) {
  act_runtime *rt;
  int owned;
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  rt = luaL_testudata(L, -1, ACT_RUNTIME_MT);
  if (rt != NULL) return rt;
  lua_pop(L, 1);
  rt = lua_newuserdatauv(L, sizeof *rt, 1);
  memset(rt, 0, sizeof *rt);
  rt->wake_at = -1;
  rt->ref_owned = LUA_NOREF;
  act_list_init(&rt->ready);
  act_heap_init(&rt->timers);
  if (luaL_newmetatable(L, ACT_RUNTIME_MT)) {
    lua_pushcfunction(L, l_runtime_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_newtable(L);  /* the owned table */
  owned = lua_gettop(L);
  lua_pushvalue(L, owned);
  lua_setiuservalue(L, owned - 1, 1);
  lua_pushvalue(L, owned);
  rt->ref_owned = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  rt->L = lua_tothread(L, -1);
  lua_pop(L, 1);
  rt->loop = find_loop(L, rt, owned);
  if (rt->loop == NULL) make_loop(L, rt);
  act__loop_open(L, rt);
  rt->origin = uv_hrtime();
  lua_settop(L, owned - 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  return rt;
}

/* }==================================================================== */

/* Remembers a host loop for the runtime made next (actress_use_loop). */
int act__use_loop(lua_State *L, uv_loop_t *loop) {
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

/* {====================================================================
** Driving the loop
** ===================================================================== */


void act__begin_driving(lua_State *L, act_runtime *rt, const char *op) {
  if (rt->running != NULL)
    luaL_error(L, "actress: %s cannot be called from inside a task", op);
  if (rt->driving)
    luaL_error(L, "actress: %s cannot be called while the loop is being "
                  "driven", op);
  if (rt->on_luv && act__luv_driving(L, rt))
    luaL_error(L, "actress: %s cannot be called while uv.run() drives the "
                  "loop (actress's tasks run from it already)", op);
  act__loop_quiet(L, rt);
  rt->driving = 1;
}

/* A driver returns: the handles take over for whoever runs the loop next. */
void act__end_driving(lua_State *L, act_runtime *rt) {
  rt->driving = 0;
  act__loop_touch(L, rt);
}

int act__work_remains(act_runtime *rt) {
  return rt->nready > 0 || rt->timers.n > 0 || uv_loop_alive(rt->loop);
}

/* Waits in libuv for I/O or the next timer (system clock). */
static void wait_for_events(lua_State *L, act_runtime *rt,
                            const act_timer *next) {
  if (next != NULL) act__loop_wake_at(L, rt, next->deadline);
  uv_run(rt->loop, UV_RUN_ONCE);
  act__loop_quiet(L, rt);
}

/* Manual clock: I/O without waiting while a timer is pending, and time
   jumps to the next timer when nothing is ready. */
static void step_manual(act_runtime *rt, const act_timer *next, int io) {
  if (io) uv_run(rt->loop, next != NULL ? UV_RUN_NOWAIT : UV_RUN_ONCE);
  if (next != NULL && rt->nready == 0 && next->deadline > rt->manual_now)
    rt->manual_now = next->deadline;  /* never wait in real time */
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
    if (act__timer_fire_due(rt, act__now(rt)) > 0) continue;
    next = act__timer_next(rt);
    io = uv_loop_alive(rt->loop);  /* others' handles and requests */
    if (next == NULL && !io) {
      if (until == NULL) break;
      act__end_driving(L, rt);
      luaL_error(L, "actress: the task can never finish: it waits, but no "
                    "task is ready, no timer is pending and no I/O is active");
    }
    if (!rt->manual) wait_for_events(L, rt, next);
    else step_manual(rt, next, io);
  }
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
    act__timer_fire_due(rt, act__now(rt));
    uv_run(rt->loop, UV_RUN_NOWAIT);
    run_pass(L, rt, budget < 0 ? -1 : budget - n);
  }
  act__end_driving(L, rt);
  return act__work_remains(rt);
}

/*
** Manual clock: moves it forward by ms, firing due timers in time order,
** with at most `budget` resumes (budget < 0: no limit, and every task they
** wake runs before the next timer fires). When the budget runs out, the
** timers due by then are queued, in time order, for later polls.
*/
int act__advance(lua_State *L, act_runtime *rt, double ms, int budget) {
  double target;
  const act_timer *next;
  int n = 0;
  if (!rt->manual)
    luaL_error(L, "actress: advance needs the manual clock "
                  "(task.set_clock(\"manual\"))");
  act__begin_driving(L, rt, "advance");
  target = rt->manual_now + ms;
  n += act__run_ready(L, rt, budget < 0 ? -1 : budget - n, NULL);
  while ((next = act__timer_next(rt)) != NULL && next->deadline <= target &&
         n != budget) {
    if (next->deadline > rt->manual_now) rt->manual_now = next->deadline;
    act__timer_fire_due(rt, rt->manual_now);
    n += act__run_ready(L, rt, budget < 0 ? -1 : budget - n, NULL);
  }
  if (target > rt->manual_now) rt->manual_now = target;
  act__timer_fire_due(rt, rt->manual_now);  /* what the budget left: queued */
  act__end_driving(L, rt);
  return act__work_remains(rt);
}

/*
** How long a host may wait before the next poll, in ms: 0 if tasks are
** ready, the time to the next timer, or -1 if no timer is pending.
*/
double act__timeout(act_runtime *rt) {
  const act_timer *next = act__timer_next(rt);
  double delay;
  if (rt->nready > 0) return 0;
  if (next == NULL) return -1;
  delay = next->deadline - act__now(rt);
  return delay > 0 ? delay : 0;
}

/* }==================================================================== */
