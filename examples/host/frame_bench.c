/*
** frame_bench.c: what a frame costs a host that owns the loop.
**
**   idle_frame: actress_poll with N tasks in task.suspend() and nothing
**     due, in ns per call, for N = 1,000, 10,000 and 100,000 (it should
**     not grow with N); also a whole idle frame, actress_advance plus
**     actress_poll_budget.
**   busy_frame: a poll that resumes 10,000 ready tasks, in ns per task:
**     tasks looping on task.suspend() that C wakes with actress_resume
**     each frame (the resume calls are timed apart), and tasks looping on
**     task.wait() polled with a budget of 10,000.
**
** Each figure is the median of RUNS timed runs. Build Release; not a test.
*/

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "actress.h"

#define RUNS 11              /* timed runs per figure; the median is shown */
#define IDLE_POLLS 100000    /* polls per idle run */
#define IDLE_FRAMES 100000   /* frames per idle-frame run */
#define BUSY_TASKS 10000     /* ready tasks per busy frame */
#define BUSY_FRAMES 20       /* frames per busy run */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void run(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    fprintf(stderr, "frame_bench: %s\n", lua_tostring(L, -1));
    exit(1);
  }
}

/* A state with the core as global `core`, on the manual clock. */
static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  if (L == NULL) exit(1);
  luaL_openlibs(L);
  luaL_requiref(L, "actress.core", luaopen_actress_core, 0);
  lua_setglobal(L, "core");
  run(L, "core.set_clock('manual')");
  return L;
}

static lua_Integer stats_field(lua_State *L, const char *key) {
  lua_Integer v;
  lua_getglobal(L, "core");
  lua_getfield(L, -1, "stats");
  lua_call(L, 0, 1);
  lua_getfield(L, -1, key);
  v = lua_tointeger(L, -1);
  lua_pop(L, 3);
  return v;
}

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "frame_bench: %s\n", what);
    exit(1);
  }
}

/*
** idle_frame: for each n of sizes[], a state with n suspended tasks and
** nothing due. The runs of the sizes are interleaved, so that a change in
** the machine's speed during the benchmark hits every size alike.
*/
#define IDLE_SIZES 3

static void bench_idle(void) {
  static const int sizes[IDLE_SIZES] = {1000, 10000, 100000};
  lua_State *states[IDLE_SIZES];
  double poll[IDLE_SIZES][RUNS], frame[IDLE_SIZES][RUNS];
  int s, r, i;
  for (s = 0; s < IDLE_SIZES; s++) {
    lua_State *L = states[s] = new_state();
    lua_pushinteger(L, sizes[s]);
    lua_setglobal(L, "N");
    run(L, "for i = 1, N do core.main(function() core.suspend() end) end");
    check(stats_field(L, "suspended") == sizes[s] &&
          stats_field(L, "ready") == 0, "idle setup");
    lua_gc(L, LUA_GCCOLLECT);
    for (i = 0; i < IDLE_POLLS; i++) actress_poll(L);  /* warm up */
  }
  for (r = 0; r < RUNS; r++) {
    for (s = 0; s < IDLE_SIZES; s++) {
      lua_State *L = states[s];
      double t0 = now_ns();
      for (i = 0; i < IDLE_POLLS; i++) actress_poll(L);
      poll[s][r] = (now_ns() - t0) / IDLE_POLLS;
      t0 = now_ns();
      for (i = 0; i < IDLE_FRAMES; i++) {
        actress_advance(L, 1000.0 / 60);
        actress_poll_budget(L, 200);
      }
      frame[s][r] = (now_ns() - t0) / IDLE_FRAMES;
    }
  }
  for (s = 0; s < IDLE_SIZES; s++) {
    check(stats_field(states[s], "suspended") == sizes[s],
          "idle tasks stayed suspended");
    printf("idle_frame suspended=%d ns_per_poll=%.1f ns_per_frame=%.1f\n",
           sizes[s], median(poll[s], RUNS), median(frame[s], RUNS));
    lua_close(states[s]);
  }
}

/*
** busy_frame, woken from C: BUSY_TASKS tasks loop on task.suspend(); each
** frame the host resumes them all with actress_resume, then polls once.
*/
static void bench_busy_resume(void) {
  lua_State *L = new_state();
  double per_task[RUNS], per_resume[RUNS];
  int r, f, i, forks;
  lua_Integer switches;
  lua_pushinteger(L, BUSY_TASKS);
  lua_setglobal(L, "N");
  run(L, "forks = {}\n"
         "for i = 1, N do\n"
         "  forks[i] = core.fork(function() while true do core.suspend() end end)\n"
         "  forks[i]:start()\n"
         "end\n"
         "core.poll()");
  check(stats_field(L, "suspended") == BUSY_TASKS, "busy setup");
  lua_getglobal(L, "forks");
  forks = lua_gettop(L);
  lua_gc(L, LUA_GCCOLLECT);
  for (r = -1; r < RUNS; r++) {  /* run -1 warms up */
    double resume_ns = 0, poll_ns = 0;
    for (f = 0; f < BUSY_FRAMES; f++) {
      double t0 = now_ns(), t1;
      for (i = 1; i <= BUSY_TASKS; i++) {
        lua_rawgeti(L, forks, i);
        actress_resume(L, -1);
        lua_pop(L, 1);
      }
      t1 = now_ns();
      actress_poll(L);
      poll_ns += now_ns() - t1;
      resume_ns += t1 - t0;
    }
    if (r >= 0) {
      per_task[r] = poll_ns / ((double)BUSY_FRAMES * BUSY_TASKS);
      per_resume[r] = resume_ns / ((double)BUSY_FRAMES * BUSY_TASKS);
    }
  }
  switches = stats_field(L, "switches");
  actress_poll(L);
  check(stats_field(L, "switches") == switches && stats_field(L, "suspended") == BUSY_TASKS,
        "busy tasks ran once per frame");
  printf("busy_frame ready=%d wake=actress_resume ns_per_task=%.1f "
         "ns_per_resume_call=%.1f\n",
         BUSY_TASKS, median(per_task, RUNS), median(per_resume, RUNS));
  lua_close(L);
}

/*
** busy_frame, cooperative: BUSY_TASKS tasks loop on task.wait(), so all
** are always ready; a poll with a budget of BUSY_TASKS resumes each once.
*/
static void bench_busy_wait(void) {
  lua_State *L = new_state();
  double per_task[RUNS];
  int r, f;
  lua_Integer s0;
  lua_pushinteger(L, BUSY_TASKS);
  lua_setglobal(L, "N");
  run(L, "for i = 1, N do\n"
         "  core.fork(function() while true do core.wait() end end):start()\n"
         "end");
  actress_poll_budget(L, BUSY_TASKS);  /* each task reaches its loop */
  check(stats_field(L, "ready") == BUSY_TASKS, "wait setup");
  lua_gc(L, LUA_GCCOLLECT);
  for (r = -1; r < RUNS; r++) {
    double t0 = now_ns();
    for (f = 0; f < BUSY_FRAMES; f++) actress_poll_budget(L, BUSY_TASKS);
    if (r >= 0)
      per_task[r] = (now_ns() - t0) / ((double)BUSY_FRAMES * BUSY_TASKS);
  }
  s0 = stats_field(L, "switches");
  actress_poll_budget(L, BUSY_TASKS);
  check(stats_field(L, "switches") - s0 == BUSY_TASKS, "a budgeted poll resumed N");
  printf("busy_frame ready=%d wake=task.wait ns_per_task=%.1f\n", BUSY_TASKS,
         median(per_task, RUNS));
  lua_close(L);
}

int main(void) {
  bench_idle();
  bench_busy_resume();
  bench_busy_wait();
  return 0;
}
