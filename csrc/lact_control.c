/*
** lact_control.c: the operations that work from anywhere (API §2, §4):
** fork, spawn, main, resume, abort, exit, terminate, start, and
** callback (for then_). Called from plain code or a loop callback, each
** ends by letting whoever runs the loop see the work it made
** (act__loop_touch).
*/

#include "act_int.h"

/* Is L the coroutine of the running task? */
static int in_task(act_runtime *rt, lua_State *L) {
  return rt->running != NULL && rt->running->co == L;
}

static int l_fork(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f;
  act__checkcallable(L, 1, "fork");
  f = act__newfork(L, rt, 1, lua_gettop(L) - 1, lua_upvalueindex(2));
  if (in_task(rt, L)) act__start(L, f, -1);
  return 1;
}

/* Detached: its failure goes to the error handler. */
static int detached(lua_State *L, const char *fname) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f;
  act__checkcallable(L, 1, fname);
  f = act__newfork(L, rt, 1, lua_gettop(L) - 1, lua_upvalueindex(2));
  f->flags |= ACT_F_REPORT;
  act__anchor(L, f, -1);
  if (in_task(rt, L)) {
    act__enqueue(rt, f);
  } else {  /* top-level: runs to its first suspension now */
    act__resume(L, f);
    act__loop_touch(L, rt);
  }
  return 0;
}

static int l_spawn(lua_State *L) { return detached(L, "spawn"); }
static int l_main(lua_State *L) { return detached(L, "main"); }

static int l_resume(lua_State *L) {
  act_fork *f = act__checkfork(L, 1, "resume");
  if (f->state == ACT_WAITING && f->wait == ACT_W_SUSPEND) {
    act__enqueue(f->rt, f);
    act__loop_touch(L, f->rt);
  }
  return 0;
}

/* Refuses to stop the running task or one up its resume chain. */
static act_fork *check_stoppable(lua_State *L, const char *fname,
                                 const char *instead) {
  act_fork *f = act__checkfork(L, 1, fname);
  if (f->state == ACT_RUNNING || f->state == ACT_CLOSING)
    luaL_error(L, "actress: %s cannot stop the running task (or a task "
                  "resuming it): %s instead", fname, instead);
  if (f->state == ACT_IDLE) act__anchor(L, f, 1);
  return f;
}

static int l_abort(lua_State *L) {
  act_fork *f;
  act__checkfork(L, 1, "abort");
  if (lua_isnoneornil(L, 2)) act__typeerror(L, 2, "abort", "non-nil value");
  f = check_stoppable(L, "abort", "raise an error");
  lua_settop(L, 2);
  act__abort(L, f, 2);
  act__loop_touch(L, f->rt);
  return 0;
}

static int stop_with(lua_State *L, const char *fname, int nvalues) {
  act_fork *f = check_stoppable(L, fname, "return");
  act__exit(L, f, 2, nvalues < 0 ? lua_gettop(L) - 1 : nvalues);
  act__loop_touch(L, f->rt);
  return 0;
}

static int l_exit(lua_State *L) { return stop_with(L, "exit", -1); }

static int l_terminate(lua_State *L) {
  lua_settop(L, 1);
  return stop_with(L, "terminate", 0);
}

static int l_start(lua_State *L) {
  act_fork *f = act__checkfork(L, 1, "start");
  lua_settop(L, 1);
  if (f->state == ACT_IDLE) {
    act__start(L, f, 1);
    act__loop_touch(L, f->rt);
  }
  return 1;
}

/*
** callback(f, fn, ...): calls fn(...) outside any task, as a promise
** callback is (f:then_ uses it); an error in fn goes to the error handler
** with f. Never raises.
*/
static int l_callback(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *running = rt->running;
  int status;
  act__checkfork(L, 1, "callback");
  act__checkcallable(L, 2, "callback");
  rt->running = NULL;
  status = lua_pcall(L, lua_gettop(L) - 2, 0, 0);
  rt->running = running;
  if (status != LUA_OK) act__report(L, rt, -1, 1);
  return 0;
}

const luaL_Reg act__control_functions[] = {
  {"fork", l_fork}, {"spawn", l_spawn}, {"main", l_main},
  {"resume", l_resume}, {"abort", l_abort}, {"exit", l_exit},
  {"terminate", l_terminate}, {"start", l_start},
  {"callback", l_callback},
  {NULL, NULL}
};
