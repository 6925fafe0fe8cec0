/*
** lact_ops.c: the functions of the Lua module "actress.core" and the
** methods of Fork. Operations that suspend yield with lua_yieldk; their
** continuation first raises the error the task was resumed with, if any
** (an abort, or a failed member), and otherwise returns its results.
*/

#include <math.h>
#include <string.h>

#include "act_int.h"

/* Is L the coroutine of the running task? */
static int in_task(act_runtime *rt, lua_State *L) {
  return rt->running != NULL && rt->running->co == L;
}

/* In a continuation: raises what the task was resumed with, if asked. */
static void raise_if_asked(lua_State *L) {
  act_fork *f = act__upruntime(L)->running;
  if (f->flags & ACT_F_RAISE) {
    f->flags &= (unsigned char)~ACT_F_RAISE;
    lua_error(L);
  }
}

/* Continuation that returns nothing. */
static int nothing_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  raise_if_asked(L);
  return 0;
}

/* {====================================================================
** Inside a task
** ===================================================================== */

static int l_current(lua_State *L) {
  act_fork *f = act__self(L, act__upruntime(L), "current");
  act__pushfork(L, f);
  return 1;
}

static int l_suspend(lua_State *L) {
  act_fork *f = act__self_suspend(L, act__upruntime(L), "suspend");
  act__set_waiting(f, ACT_W_SUSPEND);
  return lua_yieldk(L, 0, 0, nothing_k);
}

static int l_sleep(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  double ms = 0;
  act_fork *f;
  if (!lua_isnoneornil(L, 1)) {
    if (lua_type(L, 1) != LUA_TNUMBER) act__typeerror(L, 1, "sleep", "number");
    ms = lua_tonumber(L, 1);
    if (!(ms >= 0))
      act__argerror(L, 1, "sleep", "non-negative number expected");
  }
  f = act__self_suspend(L, rt, "sleep");
  if (ms < HUGE_VAL) {  /* math.huge: until aborted or exited */
    if (act_heap_reserve(&rt->timers, rt->timers.n + 1) != 0)
      luaL_error(L, "actress: not enough memory");
    f->timer.deadline = act__now(rt) + ms;
    f->timer.seq = rt->timer_seq++;
    act_heap_push(&rt->timers, &f->timer);
  }
  act__set_waiting(f, ACT_W_SLEEP);
  return lua_yieldk(L, 0, 0, nothing_k);
}

/* What a task.wait continuation returns. */
enum { WAIT_NOTHING, WAIT_VALUE, WAIT_FORK, WAIT_AWAITABLE };

/* Pushes the values a foreign awaitable settled with, or raises. */
static int push_settled(lua_State *L, act_fork *f) {
  int i, n;
  act__pushfork(L, f);
  lua_getiuservalue(L, -1, ACT_UV_VALUE);
  lua_pushnil(L);
  lua_setiuservalue(L, -3, ACT_UV_VALUE);
  lua_getfield(L, -1, "n");
  n = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, -1, "ok"), !lua_toboolean(L, -1)) {
    lua_rawgeti(L, -2, 1);
    return lua_error(L);
  }
  lua_pop(L, 1);
  luaL_checkstack(L, n, "too many results");
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  return n;
}

static int wait_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  raise_if_asked(L);
  switch (ctx) {
    case WAIT_NOTHING: return 0;
    case WAIT_VALUE: lua_settop(L, 1); return 1;
    case WAIT_FORK: return act__pushresults(L, lua_touserdata(L, 1), 1);
    default: return push_settled(L, act__upruntime(L)->running);
  }
}

/* Lets the tasks already queued run, then returns what `what` says. */
static int yield_turn(lua_State *L, act_fork *f, int what) {
  act__enqueue(f->rt, f);
  f->wait = ACT_W_TURN;
  return lua_yieldk(L, 0, what, wait_k);
}

/* on_ok / on_err given to a foreign awaitable's then_. */
static int awaitable_settled(lua_State *L, int ok) {
  act_fork *f = lua_touserdata(L, lua_upvalueindex(1));
  unsigned seq = (unsigned)lua_tointeger(L, lua_upvalueindex(2));
  int i, n = ok ? lua_gettop(L) : 1;
  if (f->rt->closed || f->state == ACT_FINISHED || f->wait != ACT_W_AWAIT ||
      f->await_seq != seq || (f->flags & ACT_F_SETTLED))
    return 0;  /* late, stale or repeated: ignored */
  lua_settop(L, n);
  lua_createtable(L, n, 2);
  for (i = 1; i <= n; i++) {
    lua_pushvalue(L, i);
    lua_rawseti(L, -2, i);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_pushboolean(L, ok);
  lua_setfield(L, -2, "ok");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, ACT_UV_VALUE);
  f->flags |= ACT_F_SETTLED;
  if (f->state == ACT_WAITING) act__enqueue(f->rt, f);
  return 0;
}

static int awaitable_ok(lua_State *L) { return awaitable_settled(L, 1); }
static int awaitable_err(lua_State *L) { return awaitable_settled(L, 0); }

/* wait(v) where v has a callable then_ (at index 2). */
static int wait_awaitable(lua_State *L, act_fork *f) {
  int i;
  lua_CFunction callbacks[2] = {awaitable_ok, awaitable_err};
  f->await_seq++;
  f->flags &= (unsigned char)~ACT_F_SETTLED;
  lua_pushvalue(L, 1);
  for (i = 0; i < 2; i++) {
    act__pushfork(L, f);
    lua_pushinteger(L, (lua_Integer)f->await_seq);
    lua_pushcclosure(L, callbacks[i], 2);
  }
  f->wait = ACT_W_AWAIT;
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
    f->wait = ACT_W_NONE;
    f->await_seq++;
    return lua_error(L);
  }
  if (f->flags & ACT_F_SETTLED)  /* settled at once: still take a turn */
    return yield_turn(L, f, WAIT_AWAITABLE);
  act__set_waiting(f, ACT_W_AWAIT);
  return lua_yieldk(L, 0, WAIT_AWAITABLE, wait_k);
}

static int l_wait(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f = act__self_suspend(L, rt, "wait");
  act_fork *m;
  int t;
  if (lua_gettop(L) == 0) return yield_turn(L, f, WAIT_NOTHING);
  lua_settop(L, 1);
  if ((m = act__upfork(L, 1)) != NULL) {
    if (m == f) luaL_error(L, "actress: a task cannot wait for itself");
    if (m->state == ACT_FINISHED) return yield_turn(L, f, WAIT_FORK);
    if (m->state == ACT_IDLE) act__start(L, m, 1);
    f->flags |= ACT_F_FAILFAST;  /* but its messages do not flow here */
    act__link(L, f, m);
    act__set_waiting(f, ACT_W_MEMBERS);
    return lua_yieldk(L, 0, WAIT_FORK, wait_k);
  }
  t = lua_type(L, 1);
  if (t == LUA_TTABLE || t == LUA_TUSERDATA) {
    lua_getfield(L, 1, "then_");
    if (lua_type(L, 2) == LUA_TFUNCTION ||
        luaL_getmetafield(L, 2, "__call") != LUA_TNIL) {
      lua_settop(L, 2);
      return wait_awaitable(L, f);
    }
    lua_settop(L, 1);
  }
  return yield_turn(L, f, WAIT_VALUE);
}

static int l_send(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f;
  if (lua_isnoneornil(L, 1)) act__typeerror(L, 1, "send", "non-nil value");
  f = act__self(L, rt, "send");
  if (lua_gettop(L) != 1) lua_settop(L, 1);
  act__route(L, f);
  return 0;
}

static int l_join(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *m = act__checkfork(L, 1, "join");
  act_fork *f = act__self(L, rt, "join");
  if (m == f) luaL_error(L, "actress: a task cannot join itself");
  lua_settop(L, 1);
  if (m->state == ACT_FINISHED) return act__pushresults(L, m, 1);
  act__self_suspend(L, rt, "join");
  if (m->state == ACT_IDLE) act__start(L, m, 1);
  f->flags |= ACT_F_PIPES | ACT_F_FAILFAST;
  act__link(L, f, m);
  act__set_waiting(f, ACT_W_MEMBERS);
  return lua_yieldk(L, 0, WAIT_FORK, wait_k);
}

/* Checks that the table at index 1 is an array of forks; returns #t. */
static int check_forks(lua_State *L, act_fork *self, const char *fname) {
  int i, n;
  act__checktable(L, 1, fname);
  n = (int)lua_rawlen(L, 1);
  for (i = 1; i <= n; i++) {
    act_fork *m;
    lua_rawgeti(L, 1, i);
    m = act__upfork(L, -1);
    if (m == NULL)
      act__argerror(L, 1, fname, lua_pushfstring(L, "array of forks expected,"
                    " got %s at index %d", luaL_typename(L, -1), i));
    if (m == self) luaL_error(L, "actress: a task cannot join itself");
    lua_pop(L, 1);
  }
  return n;
}

/*
** A member failed before the call: abort the others with its error and
** raise it.
*/
static int fail_early(lua_State *L, int n, act_fork *failed) {
  int i;
  lua_pushnil(L);  /* where the error goes, at index `err` */
  for (i = 1; i <= n; i++) {
    act_fork *m;
    lua_rawgeti(L, 1, i);
    m = act__upfork(L, -1);
    if (m == failed) lua_getiuservalue(L, -1, ACT_UV_VALUE), lua_replace(L, -3);
    lua_pop(L, 1);
  }
  for (i = 1; i <= n; i++) {
    act_fork *m;
    lua_rawgeti(L, 1, i);
    m = act__upfork(L, -1);
    if (m->state == ACT_IDLE) act__anchor(L, m, -1);
    act__abort(L, m, -2);
    lua_pop(L, 1);
  }
  return lua_error(L);
}

/*
** Waits for every fork of the array at index 1, their messages flowing
** through the caller, or through the transform at index 2 if `transform`.
*/
static int join_members(lua_State *L, const char *fname, int transform) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f = act__self(L, rt, fname);
  int i, n = check_forks(L, f, fname);
  for (i = 1; i <= n; i++) {
    act_fork *m;
    lua_rawgeti(L, 1, i);
    m = act__upfork(L, -1);
    lua_pop(L, 1);
    if (m->state == ACT_FINISHED && !(m->flags & ACT_F_OK))
      return fail_early(L, n, m);
  }
  act__self_suspend(L, rt, fname);
  for (i = 1; i <= n; i++) {
    act_fork *m;
    lua_rawgeti(L, 1, i);
    m = act__upfork(L, -1);
    if (m->state != ACT_FINISHED) {
      if (m->state == ACT_IDLE) act__start(L, m, -1);
      act__link(L, f, m);
    }
    lua_pop(L, 1);
  }
  if (f->npending == 0) return 0;  /* all had finished */
  f->flags |= ACT_F_PIPES | ACT_F_FAILFAST;
  if (transform) {
    act__pushfork(L, f);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, ACT_UV_VALUE);
    lua_pop(L, 1);
    f->transform = 1;
  }
  act__set_waiting(f, ACT_W_MEMBERS);
  return lua_yieldk(L, 0, 0, nothing_k);
}

static int l_group(lua_State *L) {
  lua_settop(L, 1);
  return join_members(L, "group", 0);
}

/*
** gather(forks, fn): group whose members' messages pass through fn on
** their way up (fn(m) returns the message to pass on, or nil to drop
** it). The ground for task.map and the effect combinators.
*/
static int l_gather(lua_State *L) {
  lua_settop(L, 2);
  act__checkcallable(L, 2, "gather");
  return join_members(L, "gather", 1);
}

/*
** adopt(owner, f): f joins the members `owner` waits for in gather or
** group, as if it had been in the array (task.loop adds members so).
*/
static int l_adopt(lua_State *L) {
  act_fork *owner = act__checkfork(L, 1, "adopt");
  act_fork *m = act__checkfork(L, 2, "adopt");
  if (owner->state != ACT_WAITING || owner->wait != ACT_W_MEMBERS ||
      !(owner->flags & ACT_F_PIPES))
    return luaL_error(L, "actress: adopt: the owner is not waiting in a group");
  if (m == owner) return luaL_error(L, "actress: a task cannot join itself");
  if (m->state == ACT_FINISHED) {
    if (m->flags & ACT_F_OK) return 0;
    return luaL_error(L, "actress: adopt: the fork has failed already");
  }
  if (m->state == ACT_IDLE) act__start(L, m, 2);
  act__link(L, owner, m);
  return 0;
}

/* }==================================================================== */

/* {====================================================================
** From anywhere
** ===================================================================== */

static int l_fork(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f;
  act__checkcallable(L, 1, "fork");
  f = act__newfork(L, rt, 1, lua_gettop(L) - 1);
  if (in_task(rt, L)) act__start(L, f, -1);
  return 1;
}

/* Detached: its failure goes to the error handler. */
static int detached(lua_State *L, const char *fname) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f;
  act__checkcallable(L, 1, fname);
  f = act__newfork(L, rt, 1, lua_gettop(L) - 1);
  f->flags |= ACT_F_REPORT;
  act__anchor(L, f, -1);
  if (in_task(rt, L)) {
    act__enqueue(rt, f);
  } else {  /* top-level: runs to its first suspension now */
    act__resume(L, f);
  }
  return 0;
}

static int l_spawn(lua_State *L) { return detached(L, "spawn"); }
static int l_main(lua_State *L) { return detached(L, "main"); }

static int l_resume(lua_State *L) {
  act_fork *f = act__checkfork(L, 1, "resume");
  if (f->state == ACT_WAITING && f->wait == ACT_W_SUSPEND)
    act__enqueue(f->rt, f);
  return 0;
}

/* Refuses to stop the running task or one up its resume chain. */
static act_fork *check_stoppable(lua_State *L, const char *fname,
                                 const char *instead) {
  act_fork *f = act__checkfork(L, 1, fname);
  if (f->state == ACT_RUNNING || f->state == ACT_CLOSING)
    luaL_error(L, "actress: %s cannot stop the running task (or a task "
                  "resuming it): %s instead", fname, instead);
  if (f->state == ACT_IDLE) act__anchor(L, f, 1);
  return f;
}

static int l_abort(lua_State *L) {
  act_fork *f;
  act__checkfork(L, 1, "abort");
  if (lua_isnoneornil(L, 2)) act__typeerror(L, 2, "abort", "non-nil value");
  f = check_stoppable(L, "abort", "raise an error");
  lua_settop(L, 2);
  act__abort(L, f, 2);
  return 0;
}

static int l_exit(lua_State *L) {
  act_fork *f = check_stoppable(L, "exit", "return");
  act__exit(L, f, 2, lua_gettop(L) - 1);
  return 0;
}

static int l_terminate(lua_State *L) {
  act_fork *f = check_stoppable(L, "terminate", "return");
  lua_settop(L, 1);
  act__exit(L, f, 2, 0);
  return 0;
}

static int l_start(lua_State *L) {
  act_fork *f = act__checkfork(L, 1, "start");
  lua_settop(L, 1);
  if (f->state == ACT_IDLE) act__start(L, f, 1);
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Driving the loop (outside tasks)
** ===================================================================== */

/* Drives the loop until the fork at idx finishes; returns its results. */
static int drive_fork(lua_State *L, act_runtime *rt, act_fork *f, int idx) {
  if (f->state == ACT_IDLE) act__start(L, f, idx);
  act__drive(L, rt, f);
  act__end_driving(rt);
  return act__pushresults(L, f, idx);
}

static int l_run(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f;
  act__checkcallable(L, 1, "run");
  f = act__newfork(L, rt, 1, lua_gettop(L) - 1);
  act__begin_driving(L, rt, "run");
  return drive_fork(L, rt, f, lua_gettop(L));
}

static int l_await(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f = act__checkfork(L, 1, "await");
  lua_settop(L, 1);
  act__begin_driving(L, rt, "await");
  return drive_fork(L, rt, f, 1);
}

static int l_drain(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act__begin_driving(L, rt, "drain");
  act__drive(L, rt, NULL);
  act__end_driving(rt);
  return 0;
}

static int l_poll(lua_State *L) {
  lua_pushboolean(L, act__poll(L, act__upruntime(L), -1));
  return 1;
}

static int l_now(lua_State *L) {
  lua_pushnumber(L, act__now(act__upruntime(L)));
  return 1;
}

static int l_set_clock(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  const char *mode = lua_tostring(L, 1);
  int manual;
  if (lua_type(L, 1) != LUA_TSTRING) act__typeerror(L, 1, "set_clock", "string");
  if (strcmp(mode, "manual") == 0) manual = 1;
  else if (strcmp(mode, "system") == 0) manual = 0;
  else
    return act__argerror(L, 1, "set_clock", lua_pushfstring(L,
                         "invalid option '%s' (\"manual\" or \"system\")", mode));
  if (rt->timers.n > 0)
    return luaL_error(L, "actress: cannot switch clocks while a timer is "
                         "pending");
  rt->manual = (unsigned char)manual;
  rt->manual_now = 0;
  return 0;
}

static int l_advance(lua_State *L) {
  double ms;
  if (lua_type(L, 1) != LUA_TNUMBER) act__typeerror(L, 1, "advance", "number");
  ms = lua_tonumber(L, 1);
  if (!(ms >= 0) || ms == HUGE_VAL)
    act__argerror(L, 1, "advance", "non-negative finite number expected");
  act__advance(L, act__upruntime(L), ms);
  return 0;
}

/* }==================================================================== */

/* {====================================================================
** Diagnostics
** ===================================================================== */

static void setint(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static int l_stats(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  lua_createtable(L, 0, 6);
  setint(L, "tasks", (lua_Integer)rt->live);
  setint(L, "ready", (lua_Integer)rt->nready);
  setint(L, "suspended", (lua_Integer)rt->waiting);
  setint(L, "timers", (lua_Integer)rt->timers.n);
  setint(L, "switches", (lua_Integer)rt->switches);
  setint(L, "pooled", rt->npool);
  return 1;
}

/*
** callback(f, fn, ...): calls fn(...) outside any task, as a promise
** callback is (f:then_ uses it); an error in fn goes to the error handler
** with f. Never raises.
*/
static int l_callback(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *running = rt->running;
  int status;
  act__checkfork(L, 1, "callback");
  act__checkcallable(L, 2, "callback");
  rt->running = NULL;
  status = lua_pcall(L, lua_gettop(L) - 2, 0, 0);
  rt->running = running;
  if (status != LUA_OK) act__report(L, rt, -1, 1);
  return 0;
}

/*
** luv_status(): "shared" (actress drives luv's loop), "absent" (luv could
** not be loaded when the runtime was made) or "separate" (luv runs on
** another copy of libuv, so each has its loop); then luv's libuv version
** and actress's, as strings ("1.44.2").
*/
static void push_version(lua_State *L, unsigned v) {
  if (v == 0) lua_pushnil(L);
  else lua_pushfstring(L, "%d.%d.%d", (int)(v >> 16) & 0xff,
                       (int)(v >> 8) & 0xff, (int)v & 0xff);
}

static int l_luv_status(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  if (rt->ref_luv != LUA_NOREF) lua_pushliteral(L, "shared");
  else if (rt->luv_version == 0) lua_pushliteral(L, "absent");
  else lua_pushliteral(L, "separate");
  push_version(L, rt->luv_version);
  push_version(L, uv_version());
  return 3;
}

/*
** close(): closes the runtime for good, as actress_close does (for hosts
** and tests; not part of the module `actress`).
*/
static int l_close(lua_State *L) {
  actress_close(L);
  return 0;
}

/* check_task(name): raises unless called from a running task's coroutine,
** for the operations written in Lua. */
static int l_check_task(lua_State *L) {
  act__self(L, act__upruntime(L), luaL_checkstring(L, 1));
  return 0;
}

static int l_on_error(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  if (!lua_isnoneornil(L, 1)) act__checkcallable(L, 1, "on_error");
  lua_settop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_on_error);
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    lua_pushcfunction(L, act__default_on_error);
  }
  if (lua_isnil(L, 1)) lua_pushboolean(L, 0);  /* the default */
  else lua_pushvalue(L, 1);
  lua_rawseti(L, LUA_REGISTRYINDEX, rt->ref_on_error);
  return 1;
}

/* }==================================================================== */

/* [runtime] -> [runtime, module] */
void act__open_ops(lua_State *L) {
  static const luaL_Reg functions[] = {
    {"current", l_current}, {"suspend", l_suspend}, {"sleep", l_sleep},
    {"wait", l_wait}, {"send", l_send}, {"join", l_join},
    {"group", l_group}, {"fork", l_fork}, {"spawn", l_spawn},
    {"main", l_main}, {"resume", l_resume}, {"abort", l_abort},
    {"exit", l_exit}, {"terminate", l_terminate}, {"run", l_run},
    {"drain", l_drain}, {"poll", l_poll}, {"now", l_now},
    {"set_clock", l_set_clock}, {"advance", l_advance}, {"stats", l_stats},
    {"on_error", l_on_error}, {"gather", l_gather}, {"adopt", l_adopt},
    {"check_task", l_check_task}, {"callback", l_callback},
    {"luv_status", l_luv_status}, {"close", l_close},
    {NULL, NULL}
  };
  static const luaL_Reg methods[] = {
    {"join", l_join}, {"abort", l_abort}, {"exit", l_exit},
    {"resume", l_resume}, {"start", l_start}, {"await", l_await},
    {NULL, NULL}
  };
  int rt = lua_gettop(L);
  lua_newtable(L);  /* the module */
  lua_newtable(L);  /* Fork methods */
  act__open_fork(L, rt);  /* the metatable, whose __index has the methods */
  lua_pushvalue(L, rt);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &act__fork_mt_key);
  luaL_setfuncs(L, methods, 2);  /* upvalues: the runtime, the metatable */
  lua_setfield(L, -2, "Fork");
  lua_pushvalue(L, rt);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &act__fork_mt_key);
  luaL_setfuncs(L, functions, 2);
  lua_pushliteral(L, ACTRESS_VERSION);
  lua_setfield(L, -2, "_VERSION");
}
