/*
** test.h: the assertions of the C tests (after libuv's test/task.h).
** A failed assertion prints where and what, and exits with status 1.
*/
#ifndef ACTRESS_TEST_H
#define ACTRESS_TEST_H

#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>

#define ASSERT(expr)                                                    \
  do {                                                                  \
    if (!(expr)) {                                                      \
      fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__,        \
              __LINE__, #expr);                                         \
      exit(1);                                                          \
    }                                                                   \
  } while (0)

#define ASSERT_EQ(a, b)                                                 \
  do {                                                                  \
    long long a_ = (long long)(a), b_ = (long long)(b);                 \
    if (a_ != b_) {                                                     \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",         \
              __FILE__, __LINE__, #a, #b, a_, b_);                      \
      exit(1);                                                          \
    }                                                                   \
  } while (0)

/* Runs a chunk of Lua; fails the test on an error. */
static inline void run(lua_State *L, const char *chunk) {
  if (luaL_dostring(L, chunk) != LUA_OK) {
    fprintf(stderr, "lua error: %s\n", lua_tostring(L, -1));
    exit(1);
  }
}

/* The integer value of a global. */
static inline lua_Integer global_int(lua_State *L, const char *name) {
  lua_Integer v;
  lua_getglobal(L, name);
  v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

#endif
