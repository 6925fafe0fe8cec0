/*
** act_own.c: what the runtime owns, and how the rest of the core reaches
** it. Lua objects live in the owned table (the runtime userdata's user
** value, also held by one registry reference for speed): live forks at
** owned[ref], pooled coroutines at owned[-1..-npool], the error handler,
** luv's module and the loop bridge by name. C memory is the links between
** waiting tasks and what they wait for, in chunks that are recycled, so
** joining allocates nothing in the steady state. Closing the runtime
** drops the table and frees the chunks (act_runtime.c).
*/

#include <stdlib.h>

#include "act_int.h"

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

/* Its address is the registry key of the Fork metatable: a light
** userdata key, so a type check costs no string comparison. */
const char act__fork_mt_key = 'F';

act_fork *act__testfork(lua_State *L, int idx) {
  void *p = lua_touserdata(L, idx);
  int same;
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &act__fork_mt_key);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
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


/* }==================================================================== */

/* {====================================================================
** Links
** ===================================================================== */

#define LINK_CHUNK 64

typedef struct link_chunk {
  struct link_chunk *next;
  act_link links[LINK_CHUNK];
} link_chunk;

act_link *act__link_alloc(lua_State *L, act_runtime *rt) {
  act_link *k = rt->free_links;
  if (k == NULL) {
    link_chunk *c = malloc(sizeof *c);
    int i;
    if (c == NULL) luaL_error(L, "not enough memory");
    c->next = rt->link_chunks;
    rt->link_chunks = c;
    for (i = 0; i < LINK_CHUNK; i++) {
      c->links[i].in_member.next = (act_node *)rt->free_links;
      rt->free_links = &c->links[i];
    }
    k = rt->free_links;
  }
  rt->free_links = (act_link *)k->in_member.next;
  return k;
}

void act__link_release(act_runtime *rt, act_link *k) {
  act_list_remove(&k->in_member);
  act_list_remove(&k->in_owner);
  k->in_member.next = (act_node *)rt->free_links;
  rt->free_links = k;
}

void act__free_links(act_runtime *rt) {
  link_chunk *c = rt->link_chunks;
  while (c != NULL) {
    link_chunk *next = c->next;
    free(c);
    c = next;
  }
  rt->link_chunks = NULL;
  rt->free_links = NULL;
}

/* }==================================================================== */
