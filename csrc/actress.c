/*
** actress.c: the C embedding API (actress.h). Every function but
** luaopen_actress_core runs its work under a protected call, so that a
** host may call it from anywhere (a frame loop, a libuv callback, after
** the runtime was closed) without a Lua error escaping into C: what goes
** wrong comes back as a result.
*/

#include <math.h>

#include "act_int.h"

/* The state's runtime if it is open, else NULL. Never raises. */
static act_runtime *open_runtime(lua_State *L) {
  act_runtime *rt = act__getruntime(L);
  return rt != NULL && !rt->closed ? rt : NULL;
}

/* Runs fn(rt, n, ms) protected; returns the integer it leaves, or
   ACTRESS_ERROR with the message pushed. */
static int protect(lua_State *L, act_runtime *rt, lua_CFunction fn, int n,
                   double ms) {
  int result;
  if (!lua_checkstack(L, 4)) return ACTRESS_ERROR;
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, rt);
  lua_pushinteger(L, n);
  lua_pushnumber(L, ms);
  if (lua_pcall(L, 3, 1, 0) != LUA_OK) return ACTRESS_ERROR;
  result = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return result;
}

/* [rt, budget, -] -> [work remains] */
static int poll_work(lua_State *L) {
  act_runtime *rt = lua_touserdata(L, 1);
  lua_pushinteger(L, act__poll(L, rt, (int)lua_tointeger(L, 2)));
  return 1;
}

/* [rt, budget, ms] -> [work remains] */
static int advance_work(lua_State *L) {
  act_runtime *rt = lua_touserdata(L, 1);
  double ms = lua_tonumber(L, 3);
  if (!(ms >= 0) || ms == HUGE_VAL)
    luaL_error(L, "actress: advance needs a non-negative finite ms");
  lua_pushinteger(L, act__advance(L, rt, ms, (int)lua_tointeger(L, 2)));
  return 1;
}

/* [rt, -, -] -> [0] */
static int close_work(lua_State *L) {
  act_runtime *rt = lua_touserdata(L, 1);
  if (rt->driving || rt->running != NULL)
    luaL_error(L, "actress: cannot close the runtime while it runs");
  act__close(L, rt);
  lua_pushinteger(L, 0);
  return 1;
}

int actress_poll(lua_State *L) {
  act_runtime *rt = open_runtime(L);
  return rt == NULL ? 0 : protect(L, rt, poll_work, -1, 0);
}

int actress_poll_budget(lua_State *L, int max) {
  act_runtime *rt = open_runtime(L);
  return rt == NULL ? 0 : protect(L, rt, poll_work, max < 1 ? 1 : max, 0);
}

void actress_advance(lua_State *L, double ms) {
  act_runtime *rt = open_runtime(L);
  int top = lua_gettop(L);
  if (rt != NULL && protect(L, rt, advance_work, -1, ms) == ACTRESS_ERROR &&
      lua_gettop(L) > top) {  /* the message: to the error handler */
    act__report(L, rt, -1, 0);
    lua_settop(L, top);
  }
}

int actress_advance_budget(lua_State *L, double ms, int max) {
  act_runtime *rt = open_runtime(L);
  return rt == NULL ? 0 : protect(L, rt, advance_work, max < 0 ? 0 : max, ms);
}

int actress_resume(lua_State *L, int idx) {
  act_runtime *rt = open_runtime(L);
  act_fork *f;
  if (rt == NULL || !lua_checkstack(L, 2)) return 0;
  f = act__testfork(L, idx);
  if (f == NULL || f->rt != rt) return 0;
  if (f->state != ACT_WAITING || f->wait != ACT_W_SUSPEND) return 0;
  act__enqueue(rt, f);
  act__loop_touch(L, rt);
  return 1;
}

uv_loop_t *actress_loop(lua_State *L) {
  act_runtime *rt = open_runtime(L);
  return rt == NULL ? NULL : rt->loop;
}

int actress_use_loop(lua_State *L, uv_loop_t *loop) {
  return act__use_loop(L, loop);
}

int actress_close(lua_State *L) {
  act_runtime *rt = act__getruntime(L);
  if (rt == NULL || rt->closed) return 0;
  return protect(L, rt, close_work, 0, 0);
}

double actress_timeout(lua_State *L) {
  act_runtime *rt = open_runtime(L);
  return rt == NULL ? -1 : act__timeout(rt);
}

int actress_set_error_handler(lua_State *L, actress_ErrorHandler fn,
                              void *ud) {
  act_runtime *rt = open_runtime(L);
  if (rt == NULL) return -1;
  rt->on_error_c = fn;
  rt->on_error_ud = fn != NULL ? ud : NULL;
  return 0;
}
