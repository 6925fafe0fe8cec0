/*
** lact_fork.c: the Fork's Lua face. A Fork is a full userdata that is the
** task itself (struct act_fork, act_task.c); its fields are read through
** __index (id, name, status, result, traceback, and the methods); only
** `name` is writable. It owns no C memory (its links live in chunks the
** runtime frees), so it has no __gc.
*/

#include <string.h>

#include "act_int.h"

/*
** As act__testfork, for the module's functions and Fork methods, which
** all hold the Fork metatable as their upvalue 2: no registry look-up.
*/
act_fork *act__upfork(lua_State *L, int idx) {
  void *p = lua_touserdata(L, idx);
  int same;
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  same = lua_rawequal(L, -1, lua_upvalueindex(2));
  lua_pop(L, 1);
  return same ? p : NULL;
}

static act_fork *checkopen(lua_State *L, act_fork *f, int arg,
                           const char *fname) {
  if (f == NULL) act__typeerror(L, arg, fname, "Fork");
  if (f->rt->closed) luaL_error(L, "actress: the runtime is closed");
  return f;
}

/* A Fork argument of a module function (see act__upfork). */
act_fork *act__checkfork(lua_State *L, int arg, const char *fname) {
  return checkopen(L, act__upfork(L, arg), arg, fname);
}

static const char *status_name(const act_fork *f) {
  switch (f->state) {
    case ACT_IDLE: return "idle";
    case ACT_FINISHED: return "finished";
    default: return "active";
  }
}

/* Pushes f.name: "" unless set. */
static void push_name(lua_State *L, int idx) {
  int top = lua_gettop(L);
  if (lua_getiuservalue(L, idx, ACT_UV_EXTRA) == LUA_TTABLE &&
      lua_getfield(L, -1, "name") == LUA_TSTRING) {
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return;
  }
  lua_settop(L, top);
  lua_pushliteral(L, "");
}

static void push_result(lua_State *L, act_fork *f, int idx) {
  if (f->state != ACT_FINISHED) {
    lua_pushnil(L);
    return;
  }
  lua_createtable(L, 0, 2);
  lua_pushboolean(L, f->flags & ACT_F_OK);
  lua_setfield(L, -2, "ok");
  if (f->nresults > 0) lua_getiuservalue(L, idx, ACT_UV_VALUE);
  else lua_pushnil(L);
  lua_setfield(L, -2, (f->flags & ACT_F_OK) ? "value" : "error");
}

/* The Fork a metamethod is called on (upvalue 2 is the metatable). */
static act_fork *checkself(lua_State *L) {
  act_fork *f = act__upfork(L, 1);
  if (f == NULL) act__typeerror(L, 1, "Fork metamethod", "Fork");
  return f;
}

static int l_fork_index(lua_State *L) {
  act_fork *f = checkself(L);
  const char *key;
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(3)) != LUA_TNIL) return 1;  /* method */
  key = lua_tostring(L, 2);
  if (key == NULL || lua_type(L, 2) != LUA_TSTRING) return 0;
  if (strcmp(key, "id") == 0) {
    lua_pushinteger(L, f->id);
  } else if (strcmp(key, "name") == 0) {
    push_name(L, 1);
  } else if (strcmp(key, "status") == 0) {
    lua_pushstring(L, status_name(f));
  } else if (strcmp(key, "result") == 0) {
    push_result(L, f, 1);
  } else if (strcmp(key, "traceback") == 0) {
    if (lua_getiuservalue(L, 1, ACT_UV_EXTRA) == LUA_TTABLE)
      lua_getfield(L, -1, "traceback");
    else
      lua_pushnil(L);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

static int l_fork_newindex(lua_State *L) {
  checkself(L);
  if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "name") == 0) {
    if (lua_type(L, 3) != LUA_TSTRING)
      return luaL_error(L, "actress: Fork.name must be a string, got %s",
                        luaL_typename(L, 3));
    act__pushextra(L, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "name");
    return 0;
  }
  lua_pushvalue(L, 2);
  return luaL_error(L, "actress: Fork field '%s' is read-only",
                    luaL_tolstring(L, -1, NULL));
}

static int l_fork_tostring(lua_State *L) {
  act_fork *f = checkself(L);
  push_name(L, 1);
  lua_pushfstring(L, "Fork %I \"%s\" (%s): %p", (LUAI_UACINT)f->id,
                  lua_tostring(L, -1), status_name(f), (void *)f);
  return 1;
}

/*
** Builds the Fork metatable, [runtime, ..., methods] -> same. Its
** metamethods hold upvalues like the module's functions: 1 the runtime,
** 2 the metatable (and __index also 3, the methods).
*/
void act__open_fork(lua_State *L, int rt) {
  static const luaL_Reg metamethods[] = {
    {"__newindex", l_fork_newindex},
    {"__tostring", l_fork_tostring},
    {NULL, NULL}
  };
  int methods = lua_gettop(L);
  luaL_newmetatable(L, ACT_FORK_MT);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &act__fork_mt_key);
  lua_pushvalue(L, rt);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, metamethods, 2);
  lua_pushvalue(L, rt);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, methods);
  lua_pushcclosure(L, l_fork_index, 3);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
