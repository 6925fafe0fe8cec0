/*
** act_luv.c: finding luv's loop, so that actress and luv (libuv for Lua)
** share one loop in a state. If luv can be loaded when the runtime is
** made, actress loads it first and drives luv's loop instead of making
** its own, so luv callbacks fire while actress drives the loop, and
** actress's tasks run while uv.run() does (through the Lua bridge,
** lua/actress/loop.lua). Loading luv first also orders the finalizers at
** lua_close: the runtime (made after luv's loop) is finalized first.
**
** Nothing of luv is changed. Only the first two fields of luv's context
** are read (luv.h: the loop, then the main thread); they have stayed
** first across luv's versions.
*/

#include "act_int.h"

typedef struct luv_ctx_prefix {
  uv_loop_t *loop;
  lua_State *L;
} luv_ctx_prefix;

/* require "luv" under pcall; leaves the module table, or nothing. */
static int require_luv(lua_State *L) {
  if (lua_getglobal(L, "require") != LUA_TFUNCTION) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushliteral(L, "luv");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    lua_pop(L, 1);  /* not installed: actress makes its own loop */
    return 0;
  }
  return 1;
}

/* luv's libuv version (luv.version()), or 0. */
static unsigned luv_uv_version(lua_State *L, int luv) {
  unsigned v = 0;
  lua_getfield(L, luv, "version");
  if (lua_isfunction(L, -1) && lua_pcall(L, 0, 1, 0) == LUA_OK)
    v = (unsigned)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

/*
** Loads luv if it is installed. If it runs on the same libuv as actress
** (same version: a luv with a bundled libuv of its own must not share),
** returns luv's loop and leaves luv's module table on the stack with
** *pinned = 1, for the runtime to keep, so that its loop cannot be
** collected (busted's insulation drops package.loaded.luv between files).
** Otherwise returns NULL and leaves nothing; *version tells luv's libuv
** version (0: no luv).
*/
uv_loop_t *act__adopt_luv(lua_State *L, int *pinned, unsigned *version) {
  luv_ctx_prefix *ctx;
  *pinned = 0;
  *version = 0;
  if (!require_luv(L)) return NULL;
  *version = luv_uv_version(L, lua_gettop(L));
  lua_getfield(L, LUA_REGISTRYINDEX, "luv_context");
  ctx = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (*version != uv_version() || ctx == NULL || ctx->loop == NULL) {
    lua_pop(L, 1);
    return NULL;
  }
  *pinned = 1;
  return ctx->loop;
}
