/*
** lact_luv.c: one libuv loop shared with luv (libuv for Lua) in the same
** lua_State. If luv can be loaded when the runtime is made, actress loads
** it first and drives luv's loop instead of making its own, so luv
** callbacks fire while actress drives the loop and actress timers fire
** while uv.run() does. Loading luv first also orders the finalizers at
** lua_close: the runtime (made after luv's loop) is finalized first.
**
** Only the first two fields of luv's context are read (luv.h: the loop,
** then the main thread); they have stayed first across luv's versions.
*/

#include <string.h>

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
** returns luv's loop and pins luv's module table with a registry
** reference in *ref, so that its loop cannot be collected (busted's
** insulation drops package.loaded.luv between files). Otherwise returns
** NULL; *version tells luv's libuv version (0: no luv).
*/
uv_loop_t *act__adopt_luv(lua_State *L, int *ref, unsigned *version) {
  luv_ctx_prefix *ctx;
  *ref = LUA_NOREF;
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
  *ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return ctx->loop;
}

/* Is luv's uv.run() driving the loop? (set by guarded_run, so that a
   driver's check costs no call into luv) */
int act__luv_running(lua_State *L, act_runtime *rt) {
  (void)L;
  return rt->luv_running;
}

/* Runs the original uv.run: [run, args...] -> results. */
static int call_run(lua_State *L) {
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/*
** uv.run, guarded: libuv's loop is not reentrant, so running it from a
** task, or from a callback while actress drives it, raises instead; and
** while it runs, actress's drivers refuse.
*/
static int guarded_run(lua_State *L) {
  act_runtime *rt = lua_touserdata(L, lua_upvalueindex(2));
  unsigned char was_running;
  int status;
  if (!rt->closed && (rt->running != NULL || rt->driving))
    return luaL_error(L, "actress: uv.run cannot be called from inside a "
                         "task or while actress drives the loop");
  lua_pushcfunction(L, call_run);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_rotate(L, 1, 2);  /* call_run, run, args... */
  was_running = rt->luv_running;
  rt->luv_running = 1;
  status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  rt->luv_running = was_running;
  if (status != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}

/* Replaces t.run by guarded_run, for the luv table t at index t. */
static void guard_run(lua_State *L, int t, int rtidx) {
  lua_getfield(L, t, "run");
  if (lua_tocfunction(L, -1) != guarded_run && lua_isfunction(L, -1)) {
    lua_pushvalue(L, rtidx);
    lua_pushcclosure(L, guarded_run, 2);
    lua_setfield(L, t, "run");
  } else {
    lua_pop(L, 1);
  }
}

static int preload_luv(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  return 1;
}

/*
** Keeps one guarded luv table in the state: guards the pinned table's
** run, makes a later `require "luv"` (after package.loaded.luv was
** cleared, as busted does for each file) return that table through
** package.preload, and guards the run of any other luv table already in
** package.loaded. Called each time the module is opened.
*/
void act__guard_luv(lua_State *L, act_runtime *rt, int rtidx) {
  int top = lua_gettop(L);
  if (rt->ref_luv == LUA_NOREF) return;
  rtidx = lua_absindex(L, rtidx);
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_luv);
  guard_run(L, top + 1, rtidx);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  if (lua_istable(L, -1)) {
    lua_pushvalue(L, top + 1);
    lua_pushcclosure(L, preload_luv, 1);
    lua_setfield(L, -2, "luv");
  }
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_istable(L, -1) && lua_getfield(L, -1, "luv") == LUA_TTABLE)
    guard_run(L, lua_gettop(L), rtidx);
  lua_settop(L, top);
}
