/*
** lact_task.c: the operations inside a task (API §2): current, suspend,
** sleep, wait, send, join, group, and the grounds of the Lua combinators
** (gather, adopt, check_task). Operations that suspend yield with
** lua_yieldk; their continuation first raises the error the task was
** resumed with, if any (an abort, or a failed member), and otherwise
** returns its results.
*/

#include <math.h>

#include "act_int.h"

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
  if (act__timer_arm(rt, f, ms) != 0) luaL_error(L, "not enough memory");
  act__set_waiting(f, ACT_W_SLEEP);
  return lua_yieldk(L, 0, 0, nothing_k);
}

/* {====================================================================
** wait
** ===================================================================== */

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

/* on_ok / on_err given to a foreign awaitable's then_; they may be
   called from anywhere, so they end by bringing the loop up to date. */
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
  act__loop_touch(L, f->rt);
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

/* wait(m) on a fork: like join, but its messages do not flow here. */
static int wait_fork(lua_State *L, act_fork *f, act_fork *m) {
  if (m == f) luaL_error(L, "actress: a task cannot wait for itself");
  if (m->state == ACT_FINISHED) return yield_turn(L, f, WAIT_FORK);
  if (m->state == ACT_IDLE) act__start(L, m, 1);
  f->flags |= ACT_F_FAILFAST;
  act__link(L, f, m);
  act__set_waiting(f, ACT_W_MEMBERS);
  return lua_yieldk(L, 0, WAIT_FORK, wait_k);
}

/* Does the value at index 1 have a callable then_? (pushes it if so) */
static int has_then(lua_State *L) {
  int t = lua_type(L, 1);
  if (t != LUA_TTABLE && t != LUA_TUSERDATA) return 0;
  lua_getfield(L, 1, "then_");
  if (lua_type(L, 2) == LUA_TFUNCTION ||
      luaL_getmetafield(L, 2, "__call") != LUA_TNIL) {
    lua_settop(L, 2);
    return 1;
  }
  lua_settop(L, 1);
  return 0;
}

static int l_wait(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f = act__self_suspend(L, rt, "wait");
  act_fork *m;
  if (lua_gettop(L) == 0) return yield_turn(L, f, WAIT_NOTHING);
  lua_settop(L, 1);
  if ((m = act__upfork(L, 1)) != NULL) return wait_fork(L, f, m);
  if (has_then(L)) return wait_awaitable(L, f);
  return yield_turn(L, f, WAIT_VALUE);
}

/* }==================================================================== */

/* {====================================================================
** Messages, joins and groups
** ===================================================================== */

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
** Waits for every fork of the array at index 1, their messages flowing
** through the caller, or through the transform at index 2 if `transform`.
*/
static int wait_members(lua_State *L, const char *fname, int transform) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f = act__self(L, rt, fname);
  int failed, n = check_forks(L, f, fname);
  if ((failed = act__failed_member(L, 1, n)) != 0)
    return act__fail_early(L, 1, n, failed);
  act__self_suspend(L, rt, fname);
  if (!act__join_members(L, f, 1, n, transform)) return 0;  /* all done */
  return lua_yieldk(L, 0, 0, nothing_k);
}

static int l_group(lua_State *L) {
  lua_settop(L, 1);
  return wait_members(L, "group", 0);
}

/*
** gather(forks, fn): group whose members' messages pass through fn on
** their way up (fn(m) returns the message to pass on, or nil to drop
** it). The ground for task.map and the effect combinators.
*/
static int l_gather(lua_State *L) {
  lua_settop(L, 2);
  act__checkcallable(L, 2, "gather");
  return wait_members(L, "gather", 1);
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
  act__adopt(L, owner, m, 2);
  return 0;
}

/* check_task(name): raises unless called from a running task's coroutine,
** for the operations written in Lua. */
static int l_check_task(lua_State *L) {
  act__self(L, act__upruntime(L), luaL_checkstring(L, 1));
  return 0;
}

/* }==================================================================== */

const luaL_Reg act__task_functions[] = {
  {"current", l_current}, {"suspend", l_suspend}, {"sleep", l_sleep},
  {"wait", l_wait}, {"send", l_send}, {"join", l_join},
  {"group", l_group}, {"gather", l_gather}, {"adopt", l_adopt},
  {"check_task", l_check_task},
  {NULL, NULL}
};
