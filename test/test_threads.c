/*
** test_threads.c: four OS threads, each with its own lua_State and so its
** own runtime, run 10,000 tasks with timers on the system clock at the
** same time. Each must get exactly its own results: nothing is shared
** between runtimes. Built with -DACTRESS_SANITIZE=thread, ThreadSanitizer
** checks that no memory is touched by two threads.
*/

#include <pthread.h>

#include <lauxlib.h>
#include <lualib.h>

#include "actress.h"
#include "test.h"

#define NTHREADS 4
#define NTASKS 10000

typedef struct worker {
  int index;
  long long sum;     /* what the tasks of this thread added up */
  char error[256];
} worker;

/* Each task sleeps 0..4 ms and returns its index times the thread's. */
static const char script[] =
  "local core = require 'actress.core'\n"
  "local k, n = ...\n"
  "return core.run(function()\n"
  "  local forks = {}\n"
  "  for i = 1, n do\n"
  "    forks[i] = core.fork(function() core.sleep(i % 5); return i * k end)\n"
  "  end\n"
  "  local sum = 0\n"
  "  for i = 1, n do sum = sum + core.join(forks[i]) end\n"
  "  assert(core.stats().timers == 0)\n"
  "  return sum\n"
  "end)\n";

static void *run_worker(void *arg) {
  worker *w = arg;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  (void)luaL_dostring(L, "package.cpath = ''");  /* no luv: a loop each */
  luaL_requiref(L, "actress.core", luaopen_actress_core, 0);
  lua_pop(L, 1);
  if (luaL_loadstring(L, script) != LUA_OK) goto fail;
  lua_pushinteger(L, w->index);
  lua_pushinteger(L, NTASKS);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) goto fail;
  w->sum = (long long)lua_tointeger(L, -1);
  lua_close(L);
  return NULL;
fail:
  snprintf(w->error, sizeof w->error, "%s", lua_tostring(L, -1));
  lua_close(L);
  return NULL;
}

int main(void) {
  pthread_t threads[NTHREADS];
  worker workers[NTHREADS];
  long long expected_per_k = (long long)NTASKS * (NTASKS + 1) / 2;
  int i;
  for (i = 0; i < NTHREADS; i++) {
    workers[i].index = i + 1;
    workers[i].sum = 0;
    workers[i].error[0] = '\0';
    ASSERT_EQ(pthread_create(&threads[i], NULL, run_worker, &workers[i]), 0);
  }
  for (i = 0; i < NTHREADS; i++) ASSERT_EQ(pthread_join(threads[i], NULL), 0);
  for (i = 0; i < NTHREADS; i++) {
    if (workers[i].error[0] != '\0') {
      fprintf(stderr, "thread %d: %s\n", i + 1, workers[i].error);
      return 1;
    }
    ASSERT_EQ(workers[i].sum, expected_per_k * workers[i].index);
  }
  printf("test_threads: %d runtimes x %d tasks: ok\n", NTHREADS, NTASKS);
  return 0;
}
