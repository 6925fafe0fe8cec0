/*
** act_runtime.c: the per-state runtime. It is a userdata kept in the
** registry under ACTRESS_CONTEXT_KEY; it owns the libuv loop (or shares
** the host's or luv's), the clock, and, in its owned table, every Lua
** object it keeps: live forks, pooled coroutines, the error handler,
** luv's module and the loop bridge. Closing drops them all at once.
*/

#include <stdlib.h>
#include <string.h>

#include "act_int.h"

/* The runtime clock, in ms: libuv's monotonic clock, or the manual one. */
double act__now(act_runtime *rt) {
  if (rt->manual) return rt->manual_now;
  return (double)(uv_hrtime() - rt->origin) / 1e6;
}

/* {====================================================================
** Finding the runtime
** ===================================================================== */

act_runtime *act__getruntime(lua_State *L) {
  act_runtime *rt;
  if (!lua_checkstack(L, 2)) return NULL;
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  rt = luaL_testudata(L, -1, ACT_RUNTIME_MT);
  lua_pop(L, 1);
  return rt;
}

static act_runtime *checkopen(lua_State *L, act_runtime *rt) {
  if (rt == NULL) luaL_error(L, "actress: no runtime in this state");
  if (rt->closed) luaL_error(L, "actress: the runtime is closed");
  return rt;
}

act_runtime *act__runtime(lua_State *L) {
  return checkopen(L, act__getruntime(L));
}

act_runtime *act__upruntime(lua_State *L) {
  return checkopen(L, lua_touserdata(L, lua_upvalueindex(1)));
}

/* }==================================================================== */

/* {====================================================================
** What the runtime owns
** ===================================================================== */

void act__pushowned(lua_State *L, act_runtime *rt) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_owned);
}

/*
** A live (started, unfinished) fork is held in the owned table, so that
** a spawned task nobody holds keeps running, and so that the scheduler
** can push a fork it only has a pointer to.
*/
void act__anchor(lua_State *L, act_fork *f, int idx) {
  if (f->ref != LUA_NOREF) return;
  idx = lua_absindex(L, idx);
  act__pushowned(L, f->rt);
  lua_pushvalue(L, idx);
  f->ref = luaL_ref(L, -2);
  lua_pop(L, 1);
  f->rt->live++;
}

/* Lets f go; `owned` is the stack index of the owned table, or 0. */
void act__unanchor(lua_State *L, act_fork *f, int owned) {
  if (f->ref == LUA_NOREF) return;
  if (owned == 0) {
    act__pushowned(L, f->rt);
    luaL_unref(L, -1, f->ref);
    lua_pop(L, 1);
  } else {
    luaL_unref(L, owned, f->ref);
  }
  f->ref = LUA_NOREF;
  f->rt->live--;
}

/* Pushes the userdata of a live (held) fork; nil for any other. */
void act__pushfork(lua_State *L, act_fork *f) {
  if (f->ref == LUA_NOREF) {
    lua_pushnil(L);
    return;
  }
  act__pushowned(L, f->rt);
  lua_rawgeti(L, -1, f->ref);
  lua_remove(L, -2);
}

/* As act__pushfork, with the owned table at stack index `owned`. */
void act__pushfork_in(lua_State *L, act_fork *f, int owned) {
  if (f->ref == LUA_NOREF) lua_pushnil(L);
  else lua_rawgeti(L, owned, f->ref);
}

/* }==================================================================== */

/* {====================================================================
** Creating and closing
** ===================================================================== */

/* Drops the owned table: the runtime's user value and its reference. */
static void release_owned(lua_State *L, act_runtime *rt) {
  if (rt->ref_owned == LUA_NOREF || !lua_checkstack(L, 2)) return;
  luaL_unref(L, LUA_REGISTRYINDEX, rt->ref_owned);
  rt->ref_owned = LUA_NOREF;
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  if (lua_touserdata(L, -1) == rt) {
    lua_pushnil(L);
    lua_setiuservalue(L, -2, 1);
  }
  lua_pop(L, 1);
}

/*
** Closes the runtime: pending tasks are dropped without running, timers
** stop, the libuv handles are closed, C memory is freed, and the owned
** table goes, with every fork, coroutine and handler in it. The userdata
** stays (forks point to it); every operation then raises "the runtime is
** closed". Allocates nothing and calls no Lua function, so that it can
** run as a finalizer at lua_close.
*/
void act__close(lua_State *L, act_runtime *rt) {
  int finalizing = (L == NULL);
  if (rt->closed) return;
  act__loop_close(L, rt);
  rt->closed = 1;
  rt->running = NULL;
  if (rt->loop != NULL && rt->own_loop) {
    uv_run(rt->loop, UV_RUN_NOWAIT);  /* runs the close callbacks */
    if (uv_loop_close(rt->loop) == 0) free(rt->loop);
  }  /* a host's or luv's loop runs them when it runs */
  rt->loop = NULL;
  act_heap_free(&rt->timers);
  act_list_init(&rt->ready);  /* its nodes are in forks about to go */
  rt->nready = rt->live = rt->waiting = 0;
  rt->npool = 0;
  act__free_links(rt);
  if (!finalizing) release_owned(L, rt);
}

static int l_runtime_gc(lua_State *L) {
  act_runtime *rt = luaL_checkudata(L, 1, ACT_RUNTIME_MT);
  act__close(NULL, rt);
  return 0;
}

/* The host's loop, if actress_use_loop set one before the runtime. */
static const char host_loop_key = 'L';

/* Stores what the runtime made, so that close can undo it. */
static void make_loop(lua_State *L, act_runtime *rt) {
  rt->loop = malloc(sizeof *rt->loop);
  if (rt->loop == NULL || uv_loop_init(rt->loop) != 0) {
    free(rt->loop);
    rt->loop = NULL;
    luaL_error(L, "actress: cannot create the event loop");
  }
  rt->own_loop = 1;
}

/* The loop to drive: the host's, luv's (pinned in owned.luv), or none. */
static uv_loop_t *find_loop(lua_State *L, act_runtime *rt, int owned) {
  uv_loop_t *loop;
  int pinned = 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &host_loop_key);
  loop = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (loop != NULL) return loop;
  loop = act__adopt_luv(L, &pinned, &rt->luv_version);
  if (pinned) {  /* luv's module table is on the stack */
    lua_setfield(L, owned, "luv");
    rt->on_luv = 1;
  }
  return loop;
}

/*
** Pushes the state's runtime, making it on first use. The userdata
** comes first, in a state its __gc can always undo, so that an error in a
** later allocation leaves nothing behind.
*/
act_runtime *act__pushruntime(lua_State *L) {
  act_runtime *rt;
  int owned;
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  rt = luaL_testudata(L, -1, ACT_RUNTIME_MT);
  if (rt != NULL) return rt;
  lua_pop(L, 1);
  rt = lua_newuserdatauv(L, sizeof *rt, 1);
  memset(rt, 0, sizeof *rt);
  rt->wake_at = -1;
  rt->ref_owned = LUA_NOREF;
  act_list_init(&rt->ready);
  act_heap_init(&rt->timers);
  if (luaL_newmetatable(L, ACT_RUNTIME_MT)) {
    lua_pushcfunction(L, l_runtime_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_newtable(L);  /* the owned table */
  owned = lua_gettop(L);
  lua_pushvalue(L, owned);
  lua_setiuservalue(L, owned - 1, 1);
  lua_pushvalue(L, owned);
  rt->ref_owned = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  rt->L = lua_tothread(L, -1);
  lua_pop(L, 1);
  rt->loop = find_loop(L, rt, owned);
  if (rt->loop == NULL) make_loop(L, rt);
  act__loop_open(L, rt);
  rt->origin = uv_hrtime();
  lua_settop(L, owned - 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  return rt;
}

/* }==================================================================== */

/* Remembers a host loop for the runtime made next (actress_use_loop). */
int act__use_loop(lua_State *L, uv_loop_t *loop) {
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return -1;  /* too late: the runtime has its loop */
  }
  lua_pop(L, 1);
  lua_pushlightuserdata(L, loop);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &host_loop_key);
  return 0;
}
