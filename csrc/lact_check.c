/*
** lact_check.c: argument errors in Lua's standard form.
** luaL_argerror takes the function's name from the call site, which is
** "?" or "actress.sleep" under pcall(task.sleep, ...). These helpers name
** the public function instead, so the message always reads
** "bad argument #1 to 'sleep' (number expected, got string)".
*/

#include "act_int.h"

int act__argerror(lua_State *L, int arg, const char *fname, const char *msg) {
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar)) {  /* a method call does not count self */
    lua_getinfo(L, "n", &ar);
    if (ar.namewhat != NULL && ar.namewhat[0] == 'm' && arg > 1) arg--;
  }
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

int act__typeerror(lua_State *L, int arg, const char *fname,
                   const char *expected) {
  const char *got;
  if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING)
    got = lua_tostring(L, -1);
  else if (lua_type(L, arg) == LUA_TLIGHTUSERDATA)
    got = "light userdata";
  else
    got = luaL_typename(L, arg);
  return act__argerror(L, arg, fname,
                       lua_pushfstring(L, "%s expected, got %s", expected, got));
}

/* A function, or a value whose metatable has __call. */
void act__checkcallable(lua_State *L, int arg, const char *fname) {
  if (lua_type(L, arg) == LUA_TFUNCTION) return;
  if (luaL_getmetafield(L, arg, "__call") != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  act__typeerror(L, arg, fname, "function");
}

void act__checktable(lua_State *L, int arg, const char *fname) {
  if (lua_type(L, arg) != LUA_TTABLE) act__typeerror(L, arg, fname, "table");
}
