/*
** act_report.c: failures with nowhere to go (a spawned or top-level task
** that fails, an error in a then_ callback). They go to the error handler
** (task.on_error, kept in the owned table), else to the host's C handler
** (actress_set_error_handler), else to stderr. Reporting never raises
** and never stops the scheduler: an error in a handler is reported the
** default way.
*/

#include <stdio.h>

#include "act_int.h"

/*
** The default error handler, (err, fork): gives the failure to the host's
** C handler if it set one, else writes one line, then the traceback, to
** stderr.
*/
int act__default_on_error(lua_State *L) {
  act_runtime *rt = act__getruntime(L);
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
  if (rt != NULL && rt->on_error_c != NULL) {
    rt->on_error_c(rt->on_error_ud, id, name, msg, traceback);
    return 0;
  }
  fprintf(stderr, "actress: task %lld \"%s\" failed: %s\n", (long long)id,
          name, msg);
  if (traceback != NULL) fprintf(stderr, "%s\n", traceback);
  fflush(stderr);
  return 0;
}

/* Pushes the error handler in force (the default one as a function). */
void act__push_on_error(lua_State *L, act_runtime *rt) {
  act__pushowned(L, rt);
  if (lua_getfield(L, -1, "on_error") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushcfunction(L, act__default_on_error);
  }
  lua_remove(L, -2);
}

/* Sets the handler to the value at idx; nil restores the default. */
void act__set_on_error(lua_State *L, act_runtime *rt, int idx) {
  idx = lua_absindex(L, idx);
  act__pushowned(L, rt);
  lua_pushvalue(L, idx);
  lua_setfield(L, -2, "on_error");
  lua_pop(L, 1);
}

/*
** Calls the error handler with (the error at errindex, the fork at
** forkindex, or nil if forkindex is 0), outside any task. An error in the
** handler goes to the default handler. Never raises.
*/
void act__report(lua_State *L, act_runtime *rt, int errindex, int forkindex) {
  act_fork *running = rt->running;
  int top = lua_gettop(L);
  errindex = lua_absindex(L, errindex);
  if (forkindex != 0) forkindex = lua_absindex(L, forkindex);
  if (!lua_checkstack(L, 8) || rt->closed) return;
  rt->running = NULL;  /* the handler runs outside any task */
  act__push_on_error(L, rt);
  lua_pushvalue(L, errindex);
  if (forkindex != 0) lua_pushvalue(L, forkindex);
  else lua_pushnil(L);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    lua_pushcfunction(L, act__default_on_error);
    lua_insert(L, -2);
    if (forkindex != 0) lua_pushvalue(L, forkindex);
    else lua_pushnil(L);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK)
      fprintf(stderr, "actress: the error handler failed\n");
  }
  rt->running = running;
  lua_settop(L, top);
}
