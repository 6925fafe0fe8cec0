/*
** act_task.c: a task's life outside its runs. A task is created idle
** (act__newfork), started (queued, and held by the runtime), and settled
** once its body has ended, or it was aborted or exited: it keeps its
** result, wakes its waiters, reports a failure nobody waits for, and is
** let go by the runtime.
*/

#include <string.h>

#include "act_int.h"

/*
** Creates a fork of fn (at index fn) with the nargs values after it and
** pushes it. It is idle: nothing is queued or held yet. `mt` is the stack
** index of the Fork metatable.
*/
act_fork *act__newfork(lua_State *L, act_runtime *rt, int fn, int nargs,
                       int mt) {
  act_fork *f;
  int i;
  fn = lua_absindex(L, fn);
  mt = lua_absindex(L, mt);
  if (nargs > ACT_MAX_ARGS)
    luaL_error(L, "actress: too many arguments for a task (at most %d)",
               ACT_MAX_ARGS);
  f = lua_newuserdatauv(L, sizeof *f, ACT_FORK_NUV + nargs);
  memset(f, 0, sizeof *f);
  f->rt = rt;
  f->ref = LUA_NOREF;
  f->state = ACT_IDLE;
  f->timer.index = ACT_NOT_IN_HEAP;
  act_list_init(&f->qnode);
  act_list_init(&f->waiters);
  act_list_init(&f->members);
  f->id = ++rt->next_id;
  f->nargs = (unsigned short)nargs;
  lua_pushvalue(L, mt);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, fn);
  lua_setiuservalue(L, -2, ACT_UV_BODY);
  for (i = 1; i <= nargs; i++) {
    lua_pushvalue(L, fn + i);
    lua_setiuservalue(L, -2, ACT_UV_ARGS + i - 1);
  }
  return f;
}

/* Starts an idle fork (at stack index idx): it is held and queued. */
void act__start(lua_State *L, act_fork *f, int idx) {
  act__anchor(L, f, idx);
  act__enqueue(f->rt, f);
}

/* Pushes the extras table of the fork at idx, making it if needed. */
void act__pushextra(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, ACT_UV_EXTRA) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, idx, ACT_UV_EXTRA);
  }
}

/*
** Pushes the results of the finished fork at idx and returns how many,
** or raises its error.
*/
int act__pushresults(lua_State *L, act_fork *f, int idx) {
  idx = lua_absindex(L, idx);
  if (!(f->flags & ACT_F_OK)) {
    lua_getiuservalue(L, idx, ACT_UV_VALUE);
    return lua_error(L);
  }
  if (f->nresults == 1) {
    lua_getiuservalue(L, idx, ACT_UV_VALUE);
  } else if (f->nresults > 1) {
    int i;
    luaL_checkstack(L, f->nresults + 2, "too many results");
    lua_getiuservalue(L, idx, ACT_UV_EXTRA);
    lua_getfield(L, -1, "values");
    for (i = 1; i <= f->nresults; i++) lua_rawgeti(L, -i, i);
    lua_rotate(L, -(f->nresults + 2), f->nresults);
    lua_pop(L, 2);
  }
  return f->nresults;
}

/* Keeps the n values at L[first..] as f's result (fork at fidx). */
static void keep_result(lua_State *L, act_fork *f, int fidx, int ok,
                        int first, int n) {
  f->nresults = ok ? n : 1;
  if (n > 0) {
    lua_pushvalue(L, first);
    lua_setiuservalue(L, fidx, ACT_UV_VALUE);
  }
  if (ok && n > 1) {
    int i;
    act__pushextra(L, fidx);
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
      lua_pushvalue(L, first + i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "values");
    lua_pop(L, 1);
  }
}

/*
** f finished: ok with the n values at L[first..], or failed with the error
** at L[first]. Keeps the result in f, wakes its waiters, reports the
** failure of a spawned or top-level task, and lets f go.
*/
void act__settle(lua_State *L, act_fork *f, int ok, int first, int n) {
  act_runtime *rt = f->rt;
  int owned, fidx;
  act__pushowned(L, rt);
  owned = lua_gettop(L);
  act__pushfork_in(L, f, owned);
  fidx = owned + 1;
  keep_result(L, f, fidx, ok, first, n);
  act__release_coroutine(L, f, owned);
  lua_pushnil(L);
  lua_setiuservalue(L, fidx, ACT_UV_CO);
  f->state = ACT_FINISHED;
  f->wait = ACT_W_NONE;
  if (ok) f->flags |= ACT_F_OK;
  act__notify_waiters(L, f, ok, first);
  if (!ok && (f->flags & ACT_F_REPORT)) act__report(L, rt, first, fidx);
  act__unanchor(L, f, owned);
  lua_settop(L, owned - 1);
}

/*
** Settles a task that never started (aborted or exited before), without
** running its body. An idle one must have been held by the caller.
*/
void act__settle_unstarted(lua_State *L, act_fork *f, int ok, int first,
                           int n) {
  int i;
  first = lua_absindex(L, first);
  if (f->state == ACT_QUEUED) act__dequeue(f->rt, f);
  f->flags |= ACT_F_STARTED;
  act__pushfork(L, f);
  lua_pushnil(L);  /* let the body and its arguments go */
  lua_setiuservalue(L, -2, ACT_UV_BODY);
  for (i = 0; i < f->nargs; i++) {
    lua_pushnil(L);
    lua_setiuservalue(L, -2, ACT_UV_ARGS + i);
  }
  lua_pop(L, 1);
  f->nargs = 0;
  act__settle(L, f, ok, first, n);
}
