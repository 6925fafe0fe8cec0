/*
** test_embed.c: a C host drives actress through actress.h: it steps the
** scheduler with actress_poll/actress_poll_budget on the manual clock,
** resumes a suspended task from C, and closes the state with tasks,
** timers and joins still pending (the sanitizer build checks for leaks).
*/

#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "actress.h"
#include "test.h"


/* A state where luv cannot be found: actress uses a loop of its own. */
static void hide_luv(lua_State *L) {
  run(L, "package.cpath = ''");
}

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  ASSERT(L != NULL);
  luaL_openlibs(L);
  hide_luv(L);
  luaL_requiref(L, "actress.core", luaopen_actress_core, 0);
  lua_setglobal(L, "core");
  return L;
}

/* Timers fire when the host advances the manual clock, in time order. */
static void test_advance(void) {
  lua_State *L = new_state();
  run(L, "core.set_clock('manual'); order = 0; a, b = 0, 0\n"
         "core.main(function() core.sleep(100); order = order * 10 + 2 end)\n"
         "core.main(function() core.sleep(50); order = order * 10 + 1 end)");
  ASSERT_EQ(global_int(L, "order"), 0);
  actress_advance(L, 60);
  ASSERT_EQ(global_int(L, "order"), 1);
  actress_advance(L, 40);
  ASSERT_EQ(global_int(L, "order"), 12);
  ASSERT_EQ(actress_poll(L), 0);  /* nothing left */
  ASSERT(actress_loop(L) != NULL);
  lua_close(L);
}

/* poll_budget resumes at most max tasks per call, in queue order. */
static void test_budget(void) {
  lua_State *L = new_state();
  run(L, "ran = 0\n"
         "core.main(function()\n"
         "  for i = 1, 5 do core.fork(function() ran = ran * 10 + i end) end\n"
         "  core.suspend()\n"
         "end)");
  ASSERT_EQ(global_int(L, "ran"), 0);
  ASSERT_EQ(actress_poll_budget(L, 2), 1);
  ASSERT_EQ(global_int(L, "ran"), 12);
  ASSERT_EQ(actress_poll_budget(L, 2), 1);
  ASSERT_EQ(global_int(L, "ran"), 1234);
  ASSERT_EQ(actress_poll_budget(L, 2), 0);
  ASSERT_EQ(global_int(L, "ran"), 12345);
  lua_close(L);
}

/* actress_resume queues a task suspended in suspend(), and only that. */
static void test_resume(void) {
  lua_State *L = new_state();
  run(L, "woke = 0\n"
         "sleeper = core.fork(function() core.sleep(math.huge) end)\n"
         "waiter = core.fork(function() core.suspend(); woke = woke + 1 end)\n"
         "sleeper:start(); waiter:start(); core.poll()");
  lua_getglobal(L, "sleeper");
  ASSERT_EQ(actress_resume(L, -1), 0);  /* sleeping: left alone */
  lua_getglobal(L, "waiter");
  ASSERT_EQ(actress_resume(L, -1), 1);
  lua_pop(L, 2);
  ASSERT_EQ(global_int(L, "woke"), 0);  /* queued, not run */
  actress_poll(L);
  ASSERT_EQ(global_int(L, "woke"), 1);
  lua_close(L);
}

/* Closing a state with every kind of pending work frees everything. */
static void test_close_pending(void) {
  lua_State *L = new_state();
  run(L, "core.main(function()\n"
         "  local a = core.fork(function() core.sleep(1e6) end)\n"
         "  local b = core.fork(function() core.suspend() end)\n"
         "  core.fork(function() core.group({a, b}) end)\n"
         "  core.fork(function() core.wait({then_ = function() end}) end)\n"
         "  core.sleep(5e5)\n"
         "end)\n"
         "core.poll()\n"
         "idle = core.fork(function() end)");
  run(L, "assert(core.stats().tasks == 5, core.stats().tasks)");
  lua_close(L);
}

/* Two states have two runtimes: nothing is shared. */
static void test_two_states(void) {
  lua_State *A = new_state(), *B = new_state();
  run(A, "core.set_clock('manual')");
  run(B, "assert(pcall(core.advance, 1) == false)");  /* B: system clock */
  ASSERT(actress_loop(A) != actress_loop(B));
  lua_close(A);
  lua_close(B);
}

/* A host loop: actress drives it, closes only its own handle on it. */
static void test_host_loop(void) {
  uv_loop_t loop;
  lua_State *L = luaL_newstate();
  ASSERT_EQ(uv_loop_init(&loop), 0);
  luaL_openlibs(L);
  hide_luv(L);
  ASSERT_EQ(actress_use_loop(L, &loop), 0);
  luaL_requiref(L, "actress.core", luaopen_actress_core, 0);
  lua_setglobal(L, "core");
  ASSERT(actress_loop(L) == &loop);
  ASSERT_EQ(actress_use_loop(L, &loop), -1);  /* too late now */
  run(L, "done = core.run(function() core.sleep(2); return 7 end)");
  ASSERT_EQ(global_int(L, "done"), 7);
  actress_close(L);
  lua_close(L);
  uv_run(&loop, UV_RUN_DEFAULT);  /* the runtime's close callback */
  ASSERT_EQ(uv_loop_close(&loop), 0);
}

/* actress_close drops pending work; forks stay safe to touch. */
static void test_close(void) {
  lua_State *L = new_state();
  run(L, "core.set_clock('manual')\n"
         "core.main(function() f = core.fork(function() core.sleep(10) end)\n"
         "  core.sleep(5) end)\n"
         "idle = core.fork(function() end)");
  actress_close(L);
  actress_close(L);  /* idempotent */
  run(L, "assert(f.status == 'active' and idle.status == 'idle')\n"
         "assert(tostring(f):match('^Fork'))\n"
         "local ok, err = pcall(core.abort, f, 'x')\n"
         "assert(not ok and err:match('runtime is closed'), err)\n"
         "ok, err = pcall(core.run, function() end)\n"
         "assert(not ok and err:match('runtime is closed'), err)");
  lua_close(L);
}

/* actress_timeout: 0 with ready tasks, the next deadline, -1 with none. */
static void test_timeout(void) {
  lua_State *L = new_state();
  run(L, "core.set_clock('manual')");
  ASSERT(actress_timeout(L) == -1);
  run(L, "core.main(function() core.sleep(25); core.suspend() end)");
  ASSERT(actress_timeout(L) == 25);
  actress_advance(L, 10);
  ASSERT(actress_timeout(L) == 15);
  run(L, "f = core.fork(function() end); f:start()");
  ASSERT(actress_timeout(L) == 0);
  lua_close(L);
}

/* advance_budget bounds a frame; poll returns despite a wait() loop. */
static void test_frame_bounds(void) {
  lua_State *L = new_state();
  run(L, "core.set_clock('manual'); ran, spins, woke = 0, 0, 0\n"
         "core.main(function() while true do spins = spins + 1; core.wait() end end)\n"
         "core.main(function()\n"
         "  for i = 1, 1000 do core.fork(function() ran = ran + 1 end) end\n"
         "  for i = 1, 10 do core.fork(function() core.sleep(5); woke = woke + 1 end) end\n"
         "  core.suspend()\n"
         "end)");
  ASSERT_EQ(actress_poll_budget(L, 100), 1);  /* a wait() loop: work remains */
  ASSERT(global_int(L, "ran") + global_int(L, "spins") <= 100 + 2);
  ASSERT_EQ(actress_advance_budget(L, 16, 0), 1);  /* time only */
  ASSERT_EQ(global_int(L, "woke"), 0);
  while (global_int(L, "ran") < 1000 || global_int(L, "woke") < 10) {
    actress_advance_budget(L, 16, 0);  /* a frame: time moves, */
    actress_poll_budget(L, 100);       /* then a bounded poll returns */
  }
  ASSERT_EQ(global_int(L, "woke"), 10);
  lua_close(L);
}

int main(void) {
  test_advance();
  test_budget();
  test_resume();
  test_close_pending();
  test_two_states();
  test_host_loop();
  test_close();
  test_timeout();
  test_frame_bounds();
  printf("test_embed: ok\n");
  return 0;
}
