/*
** lact_module.c: opens the Lua module "actress.core": the runtime (made
** on first use), the Fork metatable and methods, and the functions of
** lact_task.c, lact_control.c and lact_drive.c. Every function holds two
** upvalues: the runtime and the Fork metatable.
*/

#include "act_int.h"

/* Fork methods: the module's functions of the same names. */
static const char *const fork_methods[] = {
  "join", "abort", "exit", "resume", "start", "await", NULL
};

/* [runtime, module] -> same: the functions with their upvalues. */
static void set_functions(lua_State *L, int rt, const luaL_Reg *l) {
  lua_pushvalue(L, rt);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &act__fork_mt_key);
  luaL_setfuncs(L, l, 2);
}

ACTRESS_API int luaopen_actress_core(lua_State *L) {
  int rt, module, methods, i;
  luaL_checkversion(L);
  act__pushruntime(L);
  rt = lua_gettop(L);
  lua_newtable(L);
  module = rt + 1;
  lua_newtable(L);
  methods = rt + 2;
  act__open_fork(L, rt);  /* the metatable; its __index has the methods */
  lua_pushvalue(L, module);
  set_functions(L, rt, act__task_functions);
  set_functions(L, rt, act__control_functions);
  set_functions(L, rt, act__drive_functions);
  lua_pop(L, 1);
  for (i = 0; fork_methods[i] != NULL; i++) {
    lua_getfield(L, module, fork_methods[i]);
    lua_setfield(L, methods, fork_methods[i]);
  }
  lua_setfield(L, module, "Fork");  /* the methods */
  lua_pushliteral(L, ACTRESS_VERSION);
  lua_setfield(L, module, "_VERSION");
  lua_remove(L, rt);
  return 1;
}
