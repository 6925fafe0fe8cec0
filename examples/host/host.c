/*
** host.c: a C program that embeds Lua 5.4 and actress and owns the frame
** loop. It loads a world script (world.lua) with the full module
** (require "actress"), selects the manual clock, and runs a fixed 60 Hz
** loop: each frame advances the clock by 1000/60 ms, calls the world's
** frame hook, and polls the scheduler with a budget of task resumes.
** It prints a summary every 60th frame, and when a frame ends with tasks
** still queued (the budget ran out): at the first such frame, every 10th
** while it lasts, and at the frame that empties the queue. Then it prints
** the world's digest. Any Lua error, a
** failed task included, is printed and makes the exit status 1.
**
** Usage: actress_host [world.lua [frames [budget]]]
** (defaults: the world.lua next to this file, 600 frames, budget 200; an
** empty path selects the default world).
*/

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "actress.h"

#ifndef ACTRESS_HOST_WORLD
#define ACTRESS_HOST_WORLD "world.lua"
#endif

#define FRAME_MS (1000.0 / 60)  /* a fixed 60 Hz step */
#define SUMMARY_EVERY 60        /* frames between summary lines */
#define BACKLOG_EVERY 10        /* the same while tasks stay queued */

typedef struct host {
  const char *world;  /* path of the world script */
  int frames;         /* frames to run */
  int budget;         /* task resumes per frame */
  int task_failed;    /* set by the error handler */
} host;

/* Message handler of lua_pcall: the error with a traceback. */
static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) msg = luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/*
** The task.on_error handler, fn(err, fork): a task that nobody joins has
** failed. Prints the error and the fork's traceback, and marks the run as
** failed (the host stops after the frame).
*/
static int on_task_error(lua_State *L) {
  host *h = (host *)lua_touserdata(L, lua_upvalueindex(1));
  const char *msg = luaL_tolstring(L, 1, NULL);
  const char *fork = luaL_tolstring(L, 2, NULL);
  fflush(stdout);
  fprintf(stderr, "actress_host: %s failed: %s\n", fork, msg);
  if (lua_type(L, 2) == LUA_TUSERDATA &&
      lua_getfield(L, 2, "traceback") == LUA_TSTRING)
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
  h->task_failed = 1;
  return 0;
}

/* Lets require find the Lua modules in the source tree (lua/). */
static void set_package_path(lua_State *L) {
#ifdef ACTRESS_LUA_DIR
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", ACTRESS_LUA_DIR,
                  ACTRESS_LUA_DIR, lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
#else
  (void)L;  /* LUA_PATH_5_4 must then find actress */
#endif
}

/* Calls world[name](frame); leaves its result (a string or nil) on top. */
static const char *call_world(lua_State *L, int world, const char *name,
                              int frame) {
  lua_getfield(L, world, name);
  lua_pushinteger(L, frame);
  lua_call(L, 1, 1);
  return lua_tostring(L, -1);
}

/*
** The host, run under lua_pcall with the host struct as a light
** userdata: sets up the state, loads the world, runs the frames.
*/
static int run(lua_State *L) {
  host *h = (host *)lua_touserdata(L, 1);
  int task, world, frame, backlog = 0;

  luaL_openlibs(L);
  set_package_path(L);
  /* The core is linked in: preload it, so that init.lua's
     require "actress.core" finds it in package.loaded. */
  luaL_requiref(L, "actress.core", luaopen_actress_core, 0);
  lua_pop(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "actress");
  lua_call(L, 1, 1);
  task = lua_gettop(L);

  lua_getfield(L, task, "set_clock");
  lua_pushliteral(L, "manual");
  lua_call(L, 1, 0);
  lua_getfield(L, task, "on_error");
  lua_pushlightuserdata(L, h);
  lua_pushcclosure(L, on_task_error, 1);
  lua_call(L, 1, 0);

  if (luaL_loadfile(L, h->world) != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  if (!lua_istable(L, -1))
    return luaL_error(L, "%s must return a table, got %s", h->world,
                      luaL_typename(L, -1));
  world = lua_gettop(L);

  printf("actress_host: %d frames of %.3f ms, budget %d resumes per frame\n",
         h->frames, FRAME_MS, h->budget);
  for (frame = 1; frame <= h->frames; frame++) {
    const char *event;
    int was_backlog = backlog;
    actress_advance_budget(L, FRAME_MS, 0);  /* moves time, queues due timers */
    event = call_world(L, world, "frame", frame);
    if (event != NULL) printf("frame %3d %s\n", frame, event);
    lua_pop(L, 1);
    actress_poll_budget(L, h->budget);
    backlog = actress_timeout(L) == 0;  /* tasks still queued */
    if (frame % SUMMARY_EVERY == 0 || backlog != was_backlog ||
        (backlog && frame % BACKLOG_EVERY == 0)) {
      printf("%s\n", call_world(L, world, "summary", frame));
      lua_pop(L, 1);
    }
    if (h->task_failed)
      return luaL_error(L, "a task failed in frame %d", frame);
  }
  lua_getfield(L, world, "digest");
  lua_call(L, 0, 1);
  printf("%s\n", lua_tostring(L, -1));
  return 0;
}

/* Parses a decimal int >= min; returns 0 if s is not one. */
static int parse_int(const char *s, int min, int *out) {
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > 1000000000)
    return 0;
  *out = (int)v;
  return 1;
}

int main(int argc, char **argv) {
  host h = {ACTRESS_HOST_WORLD, 600, 200, 0};
  lua_State *L;
  int status;

  if (argc > 4 || (argc > 2 && !parse_int(argv[2], 0, &h.frames)) ||
      (argc > 3 && !parse_int(argv[3], 1, &h.budget))) {
    fprintf(stderr, "usage: %s [world.lua [frames [budget]]]\n", argv[0]);
    return 2;
  }
  if (argc > 1 && argv[1][0] != '\0') h.world = argv[1];  /* "": default */

  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "actress_host: cannot create a Lua state\n");
    return 1;
  }
  lua_pushcfunction(L, traceback);
  lua_pushcfunction(L, run);
  lua_pushlightuserdata(L, &h);
  status = lua_pcall(L, 1, 0, 1);
  fflush(stdout);
  if (status != LUA_OK)
    fprintf(stderr, "actress_host: %s\n", lua_tostring(L, -1));
  lua_close(L);  /* closes the runtime: pending tasks are dropped */
  return status == LUA_OK ? 0 : 1;
}
