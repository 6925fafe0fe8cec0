/*
** test_api.c: every function of actress.h, one case at a time:
**   - normal use, with the results and the stack effect ([-o, +p, x]) of
**     each call checked with lua_gettop around it;
**   - the same calls on a state with no runtime, and after the runtime
**     was closed by actress_close or by core.close() from Lua;
**   - the calls made from a libuv callback, while actress drives the loop
**     (core.drain, core.run, actress_poll: they refuse with ACTRESS_ERROR
**     and a message) and while the host runs uv_run itself (they work),
**     and from inside a task;
**   - failures reaching the C error handler (advance on the wrong clock,
**     failing tasks, errors in a Lua on_error), and stderr once it is unset;
**   - actress_use_loop, actress_resume on what is not a suspended Fork of
**     this runtime, actress_timeout on the manual clock.
** Nothing here may raise into C: a panic handler fails the test.
*/

#include <math.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "actress.h"
#include "test.h"

/* {====================================================================
** Helpers
** ===================================================================== */

/* A call with stack effect [-0, +0]: the stack is left as it was. */
#define EXPECT_KEEPS(L, stmt)                                           \
  do {                                                                  \
    int top_ = lua_gettop(L);                                           \
    stmt;                                                               \
    ASSERT_EQ(lua_gettop(L), top_);                                     \
  } while (0)

/* A call that ran: it returns `want` and pushes nothing. */
#define EXPECT_RAN(L, call, want)                                       \
  do {                                                                  \
    int top_ = lua_gettop(L);                                           \
    int r_ = (call);                                                    \
    ASSERT_EQ(r_, want);                                                \
    ASSERT_EQ(lua_gettop(L), top_);                                     \
  } while (0)

/* A call that may not run now: ACTRESS_ERROR, one message pushed. */
#define EXPECT_REFUSED(L, call, what)                                   \
  do {                                                                  \
    int top_ = lua_gettop(L);                                           \
    int r_ = (call);                                                    \
    ASSERT_EQ(r_, ACTRESS_ERROR);                                       \
    ASSERT_EQ(lua_gettop(L), top_ + 1);                                 \
    ASSERT(lua_type(L, -1) == LUA_TSTRING);                             \
    if (strstr(lua_tostring(L, -1), what) == NULL) {                    \
      fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, \
              __LINE__, lua_tostring(L, -1), what);                     \
      exit(1);                                                          \
    }                                                                   \
    lua_pop(L, 1);                                                      \
  } while (0)

#define CONTAINS(s, part) ((s) != NULL && strstr((s), (part)) != NULL)

/* A raise with no protected call around it: the test fails. */
static int panics = 0;
static int on_panic(lua_State *L) {
  panics++;
  fprintf(stderr, "PANIC: %s\n", lua_tostring(L, -1));
  exit(1);
}


/* A state with the panic handler, where luv cannot be found. */
static lua_State *bare_state(void) {
  lua_State *L = luaL_newstate();
  ASSERT(L != NULL);
  lua_atpanic(L, on_panic);
  luaL_openlibs(L);
  run(L, "package.cpath = ''");
  return L;
}

static void open_core(lua_State *L) {
  luaL_requiref(L, "actress.core", luaopen_actress_core, 0);
  lua_setglobal(L, "core");
}

static lua_State *new_state(void) {
  lua_State *L = bare_state();
  open_core(L);
  return L;
}

/* luaopen_actress_core under lua_pcall: it must succeed, [-0, +0]. */
static void reopen_protected(lua_State *L) {
  int top = lua_gettop(L);
  ASSERT(lua_checkstack(L, 20));
  lua_pushcfunction(L, luaopen_actress_core);
  ASSERT_EQ(lua_pcall(L, 0, 1, 0), LUA_OK);
  ASSERT(lua_istable(L, -1));
  ASSERT_EQ(lua_gettop(L), top + 1);
  lua_pop(L, 1);
}

/* What the C error handler received. */
typedef struct errlog {
  int n;
  lua_Integer id;
  char name[64], message[512], traceback[4096];
  int has_traceback;
} errlog;

static void record_error(void *ud, lua_Integer id, const char *name,
                         const char *message, const char *traceback) {
  errlog *log = ud;
  ASSERT(name != NULL && message != NULL);
  log->n++;
  log->id = id;
  snprintf(log->name, sizeof log->name, "%s", name);
  snprintf(log->message, sizeof log->message, "%s", message);
  log->has_traceback = traceback != NULL;
  snprintf(log->traceback, sizeof log->traceback, "%s",
           traceback != NULL ? traceback : "");
}

static void set_recorder(lua_State *L, errlog *log) {
  memset(log, 0, sizeof *log);
  EXPECT_RAN(L, actress_set_error_handler(L, record_error, log), 0);
}

/* Runs chunk with stderr going to a file; returns what it wrote. */
static const char *stderr_of(lua_State *L, const char *chunk) {
  static char out[8192];
  FILE *tmp = tmpfile();
  int saved;
  size_t n;
  ASSERT(tmp != NULL);
  fflush(stderr);
  saved = dup(2);
  ASSERT(saved >= 0);
  ASSERT(dup2(fileno(tmp), 2) >= 0);
  run(L, chunk);
  fflush(stderr);
  ASSERT(dup2(saved, 2) >= 0);
  close(saved);
  rewind(tmp);
  n = fread(out, 1, sizeof out - 1, tmp);
  out[n] = '\0';
  fclose(tmp);
  return out;
}

/*
** A Lua function capi(op [, fork]) that makes the C call `op` on the
** calling thread (a task's coroutine, say) and returns its result, then
** the message it pushed if any.
*/
static int l_capi(lua_State *L) {
  const char *op = luaL_checkstring(L, 1);
  int top = lua_gettop(L), r = 0, steps = 1;  /* -1 comes with a message */
  if (strcmp(op, "poll") == 0) r = actress_poll(L);
  else if (strcmp(op, "poll_budget") == 0) r = actress_poll_budget(L, 1);
  else if (strcmp(op, "advance_budget") == 0)
    r = actress_advance_budget(L, 1, 1);
  else if (strcmp(op, "close") == 0) r = actress_close(L);
  else {
    steps = 0;
    if (strcmp(op, "advance") == 0) actress_advance(L, 1);
    else if (strcmp(op, "resume") == 0) r = actress_resume(L, 2);
    else if (strcmp(op, "loop") == 0) r = actress_loop(L) != NULL;
    else if (strcmp(op, "timeout") == 0) r = (int)actress_timeout(L);
    else if (strcmp(op, "use_loop") == 0) r = actress_use_loop(L, NULL);
    else return luaL_error(L, "capi: unknown op %s", op);
  }
  ASSERT_EQ(lua_gettop(L), top + (steps && r == ACTRESS_ERROR));
  lua_pushinteger(L, r);
  lua_insert(L, top + 1);
  return lua_gettop(L) - top;
}

/* A suspended task in global `waiter`; it counts its wake-ups. */
static void make_waiter(lua_State *L) {
  run(L, "resumed = 0\n"
         "waiter = core.fork(function() core.suspend(); resumed = resumed + 1 end)\n"
         "waiter:start(); core.poll()\n"
         "assert(waiter.status == 'active' and resumed == 0)");
}

/* A libuv timer whose callback probes the API. */
typedef struct probe {
  uv_timer_t timer;
  lua_State *L;
  uv_loop_t *loop;
  int fired;
  errlog log;
} probe;

static void start_probe(probe *p, lua_State *L, uv_loop_t *loop,
                        uv_timer_cb cb) {
  p->L = L;
  p->loop = loop;
  p->fired = 0;
  ASSERT_EQ(uv_timer_init(loop, &p->timer), 0);
  ASSERT_EQ(uv_timer_start(&p->timer, cb, 0, 0), 0);
}

/* }==================================================================== */

/* {====================================================================
** Normal use
** ===================================================================== */

/* luaopen_actress_core: [-0, +1]; opening again reuses the runtime. */
static void test_open(void) {
  lua_State *L = bare_state();
  uv_loop_t *loop;
  int top = lua_gettop(L);
  lua_pushcfunction(L, luaopen_actress_core);
  lua_call(L, 0, 1);
  ASSERT_EQ(lua_gettop(L), top + 1);
  ASSERT(lua_istable(L, -1));
  lua_getfield(L, -1, "_VERSION");
  ASSERT(strcmp(lua_tostring(L, -1), ACTRESS_VERSION) == 0);
  lua_pop(L, 1);
  lua_getfield(L, -1, "poll");
  ASSERT(lua_iscfunction(L, -1));
  lua_pop(L, 2);
  loop = actress_loop(L);
  ASSERT(loop != NULL);
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  ASSERT(lua_type(L, -1) == LUA_TUSERDATA);
  open_core(L);  /* again, through luaL_requiref */
  reopen_protected(L);
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  ASSERT(lua_rawequal(L, -1, -2));  /* the same runtime */
  lua_pop(L, 2);
  ASSERT(actress_loop(L) == loop);
  run(L, "assert(core.run(function() return 42 end) == 42)");
  lua_close(L);
}

/* actress_poll and actress_poll_budget: [-0, +0] when they run. */
static void test_poll(void) {
  lua_State *L = new_state();
  run(L, "core.set_clock('manual'); ran = 0\n"
         "core.main(function()\n"
         "  for i = 1, 3 do core.fork(function() ran = ran * 10 + i end) end\n"
         "  core.suspend()\n"
         "end)");
  lua_pushliteral(L, "below");  /* something under the calls */
  EXPECT_RAN(L, actress_poll_budget(L, 0), 1);  /* max < 1 counts as 1 */
  ASSERT_EQ(global_int(L, "ran"), 1);
  EXPECT_RAN(L, actress_poll_budget(L, -7), 1);
  ASSERT_EQ(global_int(L, "ran"), 12);
  EXPECT_RAN(L, actress_poll_budget(L, 10), 0);  /* only a suspend left */
  ASSERT_EQ(global_int(L, "ran"), 123);
  EXPECT_RAN(L, actress_poll(L), 0);
  run(L, "core.main(function() core.sleep(10); ran = -1 end)");
  EXPECT_RAN(L, actress_poll(L), 1);  /* a timer is pending */
  actress_advance(L, 10);
  ASSERT_EQ(global_int(L, "ran"), -1);
  EXPECT_RAN(L, actress_poll(L), 0);
  ASSERT(strcmp(lua_tostring(L, -1), "below") == 0);
  lua_close(L);
}

/* actress_advance: timers fire in time order; [-0, +0], no report. */
static void test_advance(void) {
  lua_State *L = new_state();
  errlog log;
  set_recorder(L, &log);
  run(L, "core.set_clock('manual'); order = 0\n"
         "core.main(function() core.sleep(30); order = order * 10 + 3 end)\n"
         "core.main(function() core.sleep(10); order = order * 10 + 1 end)\n"
         "core.main(function() core.sleep(20); order = order * 10 + 2 end)");
  EXPECT_KEEPS(L, actress_advance(L, 5));
  ASSERT_EQ(global_int(L, "order"), 0);
  EXPECT_KEEPS(L, actress_advance(L, 20));
  ASSERT_EQ(global_int(L, "order"), 12);
  EXPECT_KEEPS(L, actress_advance(L, 0));
  ASSERT_EQ(global_int(L, "order"), 12);
  EXPECT_KEEPS(L, actress_advance(L, 5));
  ASSERT_EQ(global_int(L, "order"), 123);
  run(L, "assert(core.now() == 30)");
  ASSERT_EQ(log.n, 0);
  lua_close(L);
}

/* actress_advance_budget: time moves, at most max tasks run. */
static void test_advance_budget(void) {
  lua_State *L = new_state();
  run(L, "core.set_clock('manual'); woke = 0\n"
         "for i = 1, 3 do core.main(function() core.sleep(10); woke = woke + 1 end) end");
  EXPECT_RAN(L, actress_advance_budget(L, 10, 0), 1);  /* time only */
  ASSERT_EQ(global_int(L, "woke"), 0);
  run(L, "assert(core.now() == 10 and core.stats().ready == 3)");
  EXPECT_RAN(L, actress_advance_budget(L, 0, -4), 1);  /* max < 0: 0 */
  ASSERT_EQ(global_int(L, "woke"), 0);
  EXPECT_RAN(L, actress_advance_budget(L, 5, 2), 1);
  ASSERT_EQ(global_int(L, "woke"), 2);
  EXPECT_RAN(L, actress_advance_budget(L, 5, 2), 0);
  ASSERT_EQ(global_int(L, "woke"), 3);
  run(L, "assert(core.now() == 20)");
  lua_close(L);
}

/* actress_loop: the runtime's own loop, [-0, +0], stable. */
static void test_loop(void) {
  lua_State *A = new_state(), *B = new_state(), *co;
  uv_loop_t *a;
  EXPECT_KEEPS(A, a = actress_loop(A));
  ASSERT(a != NULL && a != actress_loop(B));
  co = lua_newthread(A);  /* any thread of the state */
  ASSERT(actress_loop(co) == a);
  lua_pop(A, 1);
  lua_close(A);
  lua_close(B);
}

/* actress_close: [-0, +0] and 0, again 0; pending work is dropped. */
static void test_close(void) {
  lua_State *L = new_state();
  run(L, "core.set_clock('manual'); ran = 0\n"
         "core.main(function() core.sleep(10); ran = 1 end)\n"
         "f = core.fork(function() ran = 2 end); f:start()");
  EXPECT_RAN(L, actress_close(L), 0);
  EXPECT_RAN(L, actress_close(L), 0);
  ASSERT_EQ(global_int(L, "ran"), 0);
  run(L, "assert(f.status == 'active')\n"
         "local ok, err = pcall(core.poll)\n"
         "assert(not ok and err:match('runtime is closed'), err)");
  lua_close(L);
}

/* }==================================================================== */

/* {====================================================================
** No runtime, closed runtime
** ===================================================================== */

/* A state where luaopen never ran: "no work", nothing raised. */
static void test_no_runtime(void) {
  lua_State *L = bare_state();
  uv_loop_t host;
  errlog log;
  memset(&log, 0, sizeof log);
  lua_pushinteger(L, 1);
  EXPECT_RAN(L, actress_poll(L), 0);
  EXPECT_RAN(L, actress_poll_budget(L, 3), 0);
  EXPECT_RAN(L, actress_advance_budget(L, 3, 3), 0);
  EXPECT_KEEPS(L, actress_advance(L, 3));
  EXPECT_RAN(L, actress_resume(L, -1), 0);
  EXPECT_KEEPS(L, ASSERT(actress_loop(L) == NULL));
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == -1));
  EXPECT_RAN(L, actress_set_error_handler(L, record_error, &log), -1);
  EXPECT_RAN(L, actress_close(L), 0);
  lua_pop(L, 1);
  ASSERT_EQ(uv_loop_init(&host), 0);
  EXPECT_RAN(L, actress_use_loop(L, &host), 0);  /* still possible */
  open_core(L);
  ASSERT(actress_loop(L) == &host);
  lua_close(L);
  uv_run(&host, UV_RUN_DEFAULT);
  ASSERT_EQ(uv_loop_close(&host), 0);
}

/* Every function on a closed runtime: the documented results. */
static void expect_closed(lua_State *L, errlog *log) {
  uv_loop_t other;
  int n = log->n;
  lua_getglobal(L, "waiter");  /* suspended when the runtime closed */
  EXPECT_RAN(L, actress_poll(L), 0);
  EXPECT_RAN(L, actress_poll_budget(L, 2), 0);
  EXPECT_RAN(L, actress_advance_budget(L, 10, 1), 0);
  EXPECT_RAN(L, actress_advance_budget(L, -1, 1), 0);
  EXPECT_KEEPS(L, actress_advance(L, 10));
  EXPECT_KEEPS(L, actress_advance(L, NAN));
  ASSERT_EQ(log->n, n);  /* advance did nothing, reported nothing */
  EXPECT_RAN(L, actress_resume(L, -1), 0);
  EXPECT_KEEPS(L, ASSERT(actress_loop(L) == NULL));
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == -1));
  EXPECT_RAN(L, actress_set_error_handler(L, record_error, log), -1);
  EXPECT_RAN(L, actress_set_error_handler(L, NULL, NULL), -1);
  EXPECT_RAN(L, actress_close(L), 0);
  EXPECT_RAN(L, actress_use_loop(L, &other), -1);  /* it exists, closed */
  reopen_protected(L);
  lua_pop(L, 1);
  ASSERT_EQ(global_int(L, "resumed"), 0);
  run(L, "assert(waiter.status == 'active')\n"
         "local ok, err = pcall(core.resume, waiter)\n"
         "assert(not ok and err:match('runtime is closed'), err)");
}

static void test_after_actress_close(void) {
  lua_State *L = new_state();
  errlog log;
  set_recorder(L, &log);
  run(L, "core.set_clock('manual'); core.main(function() core.sleep(5) end)");
  make_waiter(L);
  EXPECT_RAN(L, actress_close(L), 0);
  expect_closed(L, &log);
  lua_close(L);
}

static void test_after_lua_close(void) {
  lua_State *L = new_state();
  errlog log;
  set_recorder(L, &log);
  run(L, "core.set_clock('manual'); core.main(function() core.sleep(5) end)");
  make_waiter(L);
  run(L, "core.close(); core.close()");
  expect_closed(L, &log);
  lua_close(L);
}

/* }==================================================================== */

/* {====================================================================
** From a libuv callback, and from inside a task
** ===================================================================== */

/*
** While actress drives the loop: the stepping functions and close refuse
** with a message, advance reports to the handler, the rest work.
*/
static void driven_cb(uv_timer_t *t) {
  probe *p = (probe *)t;
  lua_State *L = p->L;
  uv_loop_t other;
  int n = p->log.n;
  p->fired++;
  ASSERT(lua_checkstack(L, 10));
  EXPECT_REFUSED(L, actress_poll(L), "being driven");
  EXPECT_REFUSED(L, actress_poll_budget(L, 1), "being driven");
  EXPECT_REFUSED(L, actress_advance_budget(L, 1, 1), "being driven");
  EXPECT_KEEPS(L, actress_advance(L, 1));
  ASSERT_EQ(p->log.n, n + 1);
  ASSERT(CONTAINS(p->log.message, "being driven"));
  EXPECT_REFUSED(L, actress_close(L), "while it runs");
  lua_getglobal(L, "waiter");
  EXPECT_RAN(L, actress_resume(L, -1), 1);
  EXPECT_RAN(L, actress_resume(L, -1), 0);  /* queued now */
  lua_pop(L, 1);
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == 0));
  EXPECT_KEEPS(L, ASSERT(actress_loop(L) == p->loop));
  EXPECT_RAN(L, actress_set_error_handler(L, record_error, &p->log), 0);
  EXPECT_RAN(L, actress_use_loop(L, &other), -1);
  reopen_protected(L);
  ASSERT_EQ(global_int(L, "resumed"), 0);  /* runs after the callback */
}

static void test_callback_while_driven(void) {
  lua_State *L = new_state();
  probe p;
  set_recorder(L, &p.log);
  run(L, "core.set_clock('manual')");
  make_waiter(L);  /* 1. task.drain */
  start_probe(&p, L, actress_loop(L), driven_cb);
  run(L, "core.drain()");
  ASSERT_EQ(p.fired, 1);
  ASSERT_EQ(global_int(L, "resumed"), 1);
  make_waiter(L);  /* 2. task.run */
  ASSERT_EQ(uv_timer_start(&p.timer, driven_cb, 0, 0), 0);
  run(L, "assert(core.run(function() core.sleep(5); return 7 end) == 7)");
  ASSERT_EQ(p.fired, 2);
  ASSERT_EQ(global_int(L, "resumed"), 1);
  make_waiter(L);  /* 3. actress_poll */
  ASSERT_EQ(uv_timer_start(&p.timer, driven_cb, 0, 0), 0);
  EXPECT_RAN(L, actress_poll(L), 0);
  ASSERT_EQ(p.fired, 3);
  ASSERT_EQ(global_int(L, "resumed"), 1);
  ASSERT_EQ(p.log.n, 3);  /* one advance report per callback */
  uv_close((uv_handle_t *)&p.timer, NULL);
  lua_close(L);
}

/* While the host runs uv_run itself and no driver runs: all work. */
static void hosted_cb(uv_timer_t *t) {
  probe *p = (probe *)t;
  lua_State *L = p->L;
  uv_loop_t other;
  p->fired++;
  ASSERT(lua_checkstack(L, 10));
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == 50));
  lua_getglobal(L, "waiter");
  EXPECT_RAN(L, actress_resume(L, -1), 1);
  lua_pop(L, 1);
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == 0));
  EXPECT_RAN(L, actress_poll_budget(L, 1), 1);  /* the sleeper is left */
  ASSERT_EQ(global_int(L, "resumed"), 1);
  EXPECT_KEEPS(L, actress_advance(L, 20));
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == 30));
  EXPECT_RAN(L, actress_advance_budget(L, 30, 0), 1);
  ASSERT_EQ(global_int(L, "woke"), 0);
  EXPECT_RAN(L, actress_poll(L), 0);
  ASSERT_EQ(global_int(L, "woke"), 1);
  EXPECT_KEEPS(L, ASSERT(actress_loop(L) == p->loop));
  EXPECT_RAN(L, actress_set_error_handler(L, record_error, &p->log), 0);
  EXPECT_RAN(L, actress_use_loop(L, &other), -1);
  reopen_protected(L);
  ASSERT_EQ(p->log.n, 0);
}

/* On the runtime's own loop (host NULL) or on a host loop. */
static void host_runs(uv_loop_t *host) {
  lua_State *L = bare_state();
  probe p;
  if (host != NULL) ASSERT_EQ(actress_use_loop(L, host), 0);
  open_core(L);
  set_recorder(L, &p.log);
  run(L, "core.set_clock('manual'); woke = 0\n"
         "core.main(function() core.sleep(50); woke = 1 end)");
  make_waiter(L);
  start_probe(&p, L, actress_loop(L), hosted_cb);
  ASSERT_EQ(uv_run(actress_loop(L), UV_RUN_DEFAULT), 0);
  ASSERT_EQ(p.fired, 1);
  uv_close((uv_handle_t *)&p.timer, NULL);
  lua_close(L);
}

static void test_callback_host_runs(void) {
  uv_loop_t host;
  host_runs(NULL);
  ASSERT_EQ(uv_loop_init(&host), 0);
  host_runs(&host);
  uv_run(&host, UV_RUN_DEFAULT);
  ASSERT_EQ(uv_loop_close(&host), 0);
}

/* actress_close from the host's loop callback; the runtime is gone then. */
static void closing_cb(uv_timer_t *t) {
  probe *p = (probe *)t;
  p->fired++;
  EXPECT_RAN(p->L, actress_close(p->L), 0);
  expect_closed(p->L, &p->log);
}

static void test_close_in_callback(void) {
  uv_loop_t host;
  lua_State *L = bare_state();
  probe p;
  ASSERT_EQ(uv_loop_init(&host), 0);
  ASSERT_EQ(actress_use_loop(L, &host), 0);
  open_core(L);
  set_recorder(L, &p.log);
  run(L, "core.set_clock('manual'); core.main(function() core.sleep(5) end)");
  make_waiter(L);
  start_probe(&p, L, &host, closing_cb);
  ASSERT_EQ(uv_run(&host, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(p.fired, 1);
  uv_close((uv_handle_t *)&p.timer, NULL);
  lua_close(L);
  uv_run(&host, UV_RUN_DEFAULT);
  ASSERT_EQ(uv_loop_close(&host), 0);
}

/*
** The same on actress's own loop: the host runs it and closes the runtime
** from one of its callbacks; the loop goes on until uv_run returns, and
** lua_close frees it (it used to be freed at once, under uv_run: SEGV).
*/
static void own_closing_cb(uv_timer_t *t) {
  probe *p = (probe *)t;
  p->fired++;
  uv_close((uv_handle_t *)t, NULL);
  EXPECT_RAN(p->L, actress_close(p->L), 0);
  expect_closed(p->L, &p->log);
}

static void test_close_in_own_loop_callback(void) {
  lua_State *L = bare_state();
  uv_loop_t *loop;
  probe p;
  open_core(L);
  set_recorder(L, &p.log);
  run(L, "core.set_clock('manual'); core.main(function() core.sleep(5) end)");
  make_waiter(L);
  loop = actress_loop(L);
  start_probe(&p, L, loop, own_closing_cb);
  ASSERT_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(p.fired, 1);
  lua_close(L);
}

/* From inside a task (on its coroutine): drivers and close refuse. */
static void test_inside_task(void) {
  lua_State *L = new_state();
  errlog log;
  set_recorder(L, &log);
  lua_register(L, "capi", l_capi);
  run(L, "core.set_clock('manual')\n"
         "local function refused(what, r, msg)\n"
         "  assert(r == -1 and msg:find(what, 1, true), msg)\n"
         "end\n"
         "core.run(function()\n"
         "  refused('inside a task', capi('poll'))\n"
         "  refused('inside a task', capi('poll_budget'))\n"
         "  refused('inside a task', capi('advance_budget'))\n"
         "  refused('while it runs', capi('close'))\n"
         "  assert(capi('resume', core.current()) == 0)\n"
         "  assert(capi('loop') == 1 and capi('timeout') == -1)\n"
         "  assert(capi('use_loop') == -1)\n"
         "  assert(select('#', capi('advance')) == 1)\n"
         "end)");
  ASSERT_EQ(log.n, 1);
  ASSERT(CONTAINS(log.message, "inside a task"));
  lua_close(L);
}

/* }==================================================================== */

/* {====================================================================
** Errors to the C handler
** ===================================================================== */

/* advance on the system clock or with a bad ms: reported, not raised. */
static void test_advance_errors(void) {
  lua_State *L = new_state();
  errlog log;
  set_recorder(L, &log);
  EXPECT_KEEPS(L, actress_advance(L, 10));  /* the system clock */
  ASSERT_EQ(log.n, 1);
  ASSERT_EQ(log.id, 0);
  ASSERT(strcmp(log.name, "") == 0);
  ASSERT(CONTAINS(log.message, "manual clock"));
  ASSERT(!log.has_traceback);
  EXPECT_REFUSED(L, actress_advance_budget(L, 10, 1), "manual clock");
  run(L, "core.set_clock('manual')");
  EXPECT_KEEPS(L, actress_advance(L, -1));
  EXPECT_KEEPS(L, actress_advance(L, NAN));
  EXPECT_KEEPS(L, actress_advance(L, HUGE_VAL));
  ASSERT_EQ(log.n, 4);
  ASSERT(CONTAINS(log.message, "non-negative finite"));
  EXPECT_REFUSED(L, actress_advance_budget(L, -1, 1), "non-negative finite");
  EXPECT_REFUSED(L, actress_advance_budget(L, NAN, 0), "non-negative finite");
  ASSERT_EQ(log.n, 4);  /* advance_budget returns its errors */
  run(L, "assert(core.now() == 0)");
  lua_close(L);
}

/* Failing tasks reach the C handler with id, name and traceback. */
static void test_task_errors(void) {
  lua_State *L = new_state();
  errlog log, other;
  set_recorder(L, &log);
  ASSERT(*stderr_of(L, "core.main(function()\n"
                       "  core.current().name = 'worker'; fid = core.current().id\n"
                       "  error('boom')\n"
                       "end)") == '\0');  /* nothing on stderr */
  ASSERT_EQ(log.n, 1);
  ASSERT_EQ(log.id, global_int(L, "fid"));
  ASSERT(strcmp(log.name, "worker") == 0);
  ASSERT(CONTAINS(log.message, "boom"));
  ASSERT(log.has_traceback && CONTAINS(log.traceback, "boom"));
  ASSERT(CONTAINS(log.traceback, "stack traceback"));
  run(L, "core.spawn(function() sid = core.current().id; error('bang') end)");
  ASSERT_EQ(log.n, 2);
  ASSERT_EQ(log.id, global_int(L, "sid"));
  ASSERT(strcmp(log.name, "") == 0 && CONTAINS(log.message, "bang"));
  run(L, "core.run(function()\n"  /* spawned from inside a task */
         "  core.spawn(function() core.current().name = 'inner'; error('deep') end)\n"
         "  core.wait()\n"
         "end)");
  ASSERT_EQ(log.n, 3);
  ASSERT(strcmp(log.name, "inner") == 0 && CONTAINS(log.traceback, "deep"));
  run(L, "f = core.fork(function() end)\n"  /* the then_ callback path */
         "core.callback(f, function() error('callback broke') end)");
  ASSERT_EQ(log.n, 4);
  ASSERT(CONTAINS(log.message, "callback broke"));
  run(L, "fid = f.id");
  ASSERT_EQ(log.id, global_int(L, "fid"));
  set_recorder(L, &other);  /* a new handler replaces the old one */
  run(L, "core.main(function() error('to other') end)");
  ASSERT_EQ(log.n, 4);
  ASSERT_EQ(other.n, 1);
  ASSERT(CONTAINS(other.message, "to other"));
  lua_close(L);
}

/* A Lua on_error comes first; its own errors go to the C handler. */
static void test_lua_handler(void) {
  lua_State *L = new_state();
  errlog log;
  set_recorder(L, &log);
  run(L, "got = nil\n"
         "core.on_error(function(err, f) got = tostring(err) .. '@' .. f.id end)\n"
         "core.main(function() fid = core.current().id; error('boom') end)\n"
         "assert(got:find('boom', 1, true) and got:find('@' .. fid, 1, true), got)");
  ASSERT_EQ(log.n, 0);  /* the Lua handler won */
  run(L, "core.on_error(function() error('handler broke') end)\n"
         "core.main(function() core.current().name = 'w'; fid = core.current().id\n"
         "  error('boom') end)");
  ASSERT_EQ(log.n, 1);
  ASSERT(CONTAINS(log.message, "handler broke"));
  ASSERT_EQ(log.id, global_int(L, "fid"));
  ASSERT(strcmp(log.name, "w") == 0);
  run(L, "core.on_error(nil); core.main(function() error('boom again') end)");
  ASSERT_EQ(log.n, 2);  /* the default handler: to C again */
  ASSERT(CONTAINS(log.message, "boom again"));
  lua_close(L);
}

/* actress_set_error_handler(L, NULL, NULL): stderr again. */
static void test_handler_reset(void) {
  lua_State *L = new_state();
  errlog log;
  const char *out;
  set_recorder(L, &log);
  EXPECT_RAN(L, actress_set_error_handler(L, NULL, &log), 0);
  out = stderr_of(L, "core.main(function()\n"
                     "  core.current().name = 'worker'; fid = core.current().id\n"
                     "  error('boom')\n"
                     "end)");
  ASSERT_EQ(log.n, 0);
  {
    char head[128];
    snprintf(head, sizeof head, "actress: task %lld \"worker\" failed: ",
             (long long)global_int(L, "fid"));
    ASSERT(CONTAINS(out, head));
  }
  ASSERT(CONTAINS(out, "boom") && CONTAINS(out, "stack traceback"));
  lua_close(L);
}

/* }==================================================================== */

/* {====================================================================
** actress_use_loop, actress_resume, actress_timeout
** ===================================================================== */

static void count_cb(uv_timer_t *t) {
  ((probe *)t)->fired++;
}

/* A host loop: before luaopen 0, after it -1; the runtime drives it. */
static void test_use_loop(void) {
  uv_loop_t host, other;
  lua_State *L = bare_state();
  probe p;
  ASSERT_EQ(uv_loop_init(&host), 0);
  EXPECT_RAN(L, actress_use_loop(L, &host), 0);
  open_core(L);
  EXPECT_KEEPS(L, ASSERT(actress_loop(L) == &host));
  EXPECT_RAN(L, actress_use_loop(L, &other), -1);
  ASSERT(actress_loop(L) == &host);  /* nothing changed */
  start_probe(&p, L, &host, count_cb);  /* actress drives the host loop */
  run(L, "core.set_clock('manual'); core.drain()");
  ASSERT_EQ(p.fired, 1);
  run(L, "core.set_clock('system'); done = 0\n"  /* the host drives it */
         "core.main(function() core.wait(); core.sleep(1); done = 1 end)");
  ASSERT_EQ(global_int(L, "done"), 0);
  ASSERT_EQ(uv_run(&host, UV_RUN_DEFAULT), 0);
  ASSERT_EQ(global_int(L, "done"), 1);
  uv_close((uv_handle_t *)&p.timer, NULL);
  lua_close(L);
  uv_run(&host, UV_RUN_DEFAULT);  /* the close callbacks */
  ASSERT_EQ(uv_loop_close(&host), 0);
}

/* Pushes a suspended Fork of another runtime of this Lua universe. */
static void push_foreign_fork(lua_State *L) {
  make_waiter(L);
  run(L, "foreign = waiter");
  lua_getfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  lua_setfield(L, LUA_REGISTRYINDEX, "test.old_runtime");  /* kept alive */
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  lua_pushcfunction(L, luaopen_actress_core);  /* a new runtime */
  lua_call(L, 0, 1);
  lua_setglobal(L, "core");
  lua_getglobal(L, "foreign");
}

/* actress_resume: 1 only for a suspended Fork of this runtime. */
static void test_resume(void) {
  lua_State *L = new_state();
  int top;
  run(L, "core.set_clock('manual')\n"
         "sleeper = core.fork(function() core.sleep(10) end); sleeper:start()\n"
         "idle = core.fork(function() end); done = core.fork(function() end)\n"
         "done:start(); core.poll()");
  make_waiter(L);
  top = lua_gettop(L);
  lua_pushinteger(L, 7);
  EXPECT_RAN(L, actress_resume(L, -1), 0);
  lua_pushnil(L);
  EXPECT_RAN(L, actress_resume(L, -1), 0);
  EXPECT_RAN(L, actress_resume(L, top + 10), 0);  /* no value there */
  run(L, "return setmetatable({}, getmetatable(waiter))");
  EXPECT_RAN(L, actress_resume(L, -1), 0);  /* a table, Fork metatable */
  lua_pushlightuserdata(L, L);
  EXPECT_RAN(L, actress_resume(L, -1), 0);
  lua_getglobal(L, "io");
  lua_getfield(L, -1, "stdout");  /* a userdata, not a Fork */
  EXPECT_RAN(L, actress_resume(L, -1), 0);
  lua_settop(L, top);
  lua_getglobal(L, "sleeper");
  lua_getglobal(L, "idle");
  lua_getglobal(L, "done");
  EXPECT_RAN(L, actress_resume(L, -1), 0);  /* finished */
  EXPECT_RAN(L, actress_resume(L, -2), 0);  /* idle */
  EXPECT_RAN(L, actress_resume(L, -3), 0);  /* sleeping */
  lua_getglobal(L, "waiter");
  EXPECT_RAN(L, actress_resume(L, top + 4), 1);  /* absolute index */
  EXPECT_RAN(L, actress_resume(L, -1), 0);  /* queued already */
  ASSERT_EQ(global_int(L, "resumed"), 0);
  EXPECT_RAN(L, actress_poll(L), 1);  /* the sleeper is left */
  ASSERT_EQ(global_int(L, "resumed"), 1);
  lua_settop(L, top);
  push_foreign_fork(L);
  EXPECT_RAN(L, actress_resume(L, -1), 0);
  lua_pop(L, 1);
  make_waiter(L);  /* one of the new runtime */
  lua_getglobal(L, "waiter");
  EXPECT_RAN(L, actress_resume(L, -1), 1);
  EXPECT_RAN(L, actress_poll(L), 0);
  ASSERT_EQ(global_int(L, "resumed"), 1);
  lua_pop(L, 1);
  lua_close(L);
}

/* actress_timeout: 0 with ready tasks, the next deadline, -1 for none. */
static void test_timeout(void) {
  lua_State *L = new_state();
  run(L, "core.set_clock('manual')");
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == -1));
  run(L, "core.main(function() core.sleep(math.huge) end)\n"
         "core.main(function() core.suspend() end)");
  ASSERT(actress_timeout(L) == -1);  /* no timer: forever, suspended */
  run(L, "core.main(function() core.sleep(50); core.sleep(5) end)");
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == 50));
  actress_advance(L, 20);
  EXPECT_KEEPS(L, ASSERT(actress_timeout(L) == 30));
  run(L, "f = core.fork(function() end); f:start()");
  ASSERT(actress_timeout(L) == 0);
  actress_poll(L);
  ASSERT(actress_timeout(L) == 30);
  actress_advance_budget(L, 30, 0);  /* due, queued, not run */
  ASSERT(actress_timeout(L) == 0);
  actress_poll(L);
  ASSERT(actress_timeout(L) == 5);
  actress_advance(L, 5);
  ASSERT(actress_timeout(L) == -1);
  lua_close(L);
}

/* }==================================================================== */

int main(void) {
  test_open();
  test_poll();
  test_advance();
  test_advance_budget();
  test_loop();
  test_close();
  test_no_runtime();
  test_after_actress_close();
  test_after_lua_close();
  test_callback_while_driven();
  test_callback_host_runs();
  test_close_in_callback();
  test_close_in_own_loop_callback();
  test_inside_task();
  test_advance_errors();
  test_task_errors();
  test_lua_handler();
  test_handler_reset();
  test_use_loop();
  test_resume();
  test_timeout();
  ASSERT_EQ(panics, 0);
  printf("test_api: ok\n");
  return 0;
}
