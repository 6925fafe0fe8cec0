/*
** act_sched.c: the run queue and resuming. Ready tasks wait in the
** runtime's queue, in order; act__run_ready resumes them one after the
** other. Resuming a task gives it a coroutine on its first run (from the
** runtime's pool if one is there), resumes it until one of our operations
** suspends it (a raw coroutine.yield() sends a message or takes a turn),
** and settles it when its body has returned or failed.
**
** Every task body runs under a protected call made on the task's own
** coroutine (body), so an error unwinds inside that coroutine and its
** to-be-closed variables may still suspend and send while it does.
*/

#include "act_int.h"

#define POOL_MAX 1024  /* finished coroutines kept for new tasks */

/* {====================================================================
** The run queue
** ===================================================================== */

void act__enqueue(act_runtime *rt, act_fork *f) {
  if (f->state == ACT_WAITING) rt->waiting--;
  f->state = ACT_QUEUED;
  act_list_push(&rt->ready, &f->qnode);
  rt->nready++;
}

void act__dequeue(act_runtime *rt, act_fork *f) {
  act_list_remove(&f->qnode);
  rt->nready--;
}

void act__set_waiting(act_fork *f, int wait) {
  f->rt->waiting++;
  f->state = ACT_WAITING;
  f->wait = (unsigned char)wait;
}

/*
** Resumes ready tasks in order until the queue is empty, `budget` resumes
** were made (budget < 0: no limit), or `until` has finished.
*/
int act__run_ready(lua_State *L, act_runtime *rt, int budget, act_fork *until) {
  int n = 0;
  while (!act_list_empty(&rt->ready) && n != budget) {
    act_fork *f;
    if (until != NULL && until->state == ACT_FINISHED) break;
    f = act_container_of(rt->ready.next, act_fork, qnode);
    act__dequeue(rt, f);
    act__resume(L, f);
    n++;
  }
  return n;
}

/* }==================================================================== */

/* {====================================================================
** The task body
** ===================================================================== */

/*
** Message handler of the body's protected call: keeps the traceback of
** where the error was raised in f.traceback, and returns the very error
** value, so that join re-raises it unchanged.
*/
static int body_msgh(lua_State *co) {
  act_runtime *rt = act__getruntime(co);
  if (rt != NULL && !rt->closed && rt->running != NULL &&
      rt->running->co == co && lua_checkstack(co, 4)) {
    const char *msg = lua_type(co, 1) == LUA_TSTRING ? lua_tostring(co, 1)
                                                      : NULL;
    luaL_traceback(co, co, msg, 1);
    act__pushfork(co, rt->running);
    act__pushextra(co, -1);
    lua_pushvalue(co, -3);
    lua_setfield(co, -2, "traceback");
  }
  lua_settop(co, 1);
  return 1;
}

static int body_k(lua_State *co, int status, lua_KContext ctx) {
  (void)ctx;
  lua_pushboolean(co, status == LUA_OK || status == LUA_YIELD);
  lua_replace(co, 1);  /* over the message handler */
  return lua_gettop(co);
}

/* The coroutine's main function: [fn, args...] -> ok, results... */
static int body(lua_State *co) {
  int nargs = lua_gettop(co) - 1;
  lua_pushcfunction(co, body_msgh);
  lua_insert(co, 1);
  return body_k(co, lua_pcallk(co, nargs, LUA_MULTRET, 1, 0, body_k), 0);
}

/* }==================================================================== */

/* {====================================================================
** Coroutines: taken from the pool (owned[-1..-npool]) or made
** ===================================================================== */

/* Pushes a coroutine: the pool's last, or a new one. */
static lua_State *take_coroutine(lua_State *L, act_runtime *rt, int owned) {
  lua_State *co;
  if (rt->npool == 0) return lua_newthread(L);
  lua_rawgeti(L, owned, -rt->npool);
  co = lua_tothread(L, -1);
  lua_pushnil(L);
  lua_rawseti(L, owned, -rt->npool);
  rt->npool--;
  return co;
}

/*
** Gives f, which is about to run for the first time, a coroutine holding
** `body`, then the body and its arguments, taken out of f's user values.
** Returns the number of values above `body`, which lua_resume passes on.
*/
static int acquire_coroutine(lua_State *L, act_fork *f) {
  lua_State *co;
  int i, fidx, owned, nargs = f->nargs;
  luaL_checkstack(L, 5, "starting a task");
  act__pushowned(L, f->rt);
  owned = lua_gettop(L);
  act__pushfork_in(L, f, owned);
  fidx = owned + 1;
  co = take_coroutine(L, f->rt, owned);
  if (!lua_checkstack(co, nargs + 3)) luaL_error(L, "too many arguments");
  lua_getiuservalue(L, fidx, ACT_UV_BODY);
  lua_pushvalue(L, -2);
  lua_setiuservalue(L, fidx, ACT_UV_CO);  /* the thread, over the body */
  lua_pushcfunction(co, body);
  lua_xmove(L, co, 1);  /* the body */
  for (i = 0; i < nargs; i++) {  /* and its arguments */
    lua_getiuservalue(L, fidx, ACT_UV_ARGS + i);
    lua_xmove(L, co, 1);
    lua_pushnil(L);
    lua_setiuservalue(L, fidx, ACT_UV_ARGS + i);
  }
  lua_settop(L, owned - 1);
  f->co = co;
  f->nargs = 0;
  return nargs + 1;
}

/*
** Takes the coroutine from a finished task, into the pool if it is
** reusable; `owned` is the stack index of the owned table.
*/
void act__release_coroutine(lua_State *L, act_fork *f, int owned) {
  act_runtime *rt = f->rt;
  lua_State *co = f->co;
  f->co = NULL;
  if (co == NULL) return;
  if (rt->npool < POOL_MAX && lua_status(co) == LUA_OK) {
    lua_settop(co, 0);
    lua_sethook(co, NULL, 0, 0);
    lua_pushthread(co);
    lua_xmove(co, L, 1);
    lua_rawseti(L, owned, -(rt->npool + 1));
    rt->npool++;
  }
}

/* }==================================================================== */

/* {====================================================================
** Raising in a suspended task
** ===================================================================== */

/*
** Hook set on a task stopped in a raw coroutine.yield() that is aborted:
** raises the abort error as soon as the task runs Lua code again.
*/
static void raise_hook(lua_State *co, lua_Debug *ar) {
  act_runtime *rt = act__getruntime(co);
  (void)ar;
  lua_sethook(co, NULL, 0, 0);
  if (rt == NULL || rt->closed || rt->running == NULL ||
      rt->running->co != co)
    return;
  act__pushfork(co, rt->running);
  lua_getiuservalue(co, -1, ACT_UV_VALUE);
  lua_pushnil(co);
  lua_setiuservalue(co, -3, ACT_UV_VALUE);
  lua_error(co);
}

/*
** Makes f raise the value at the top of L as soon as it runs Lua code
** again (pops the value): for a task stopped where no continuation of
** ours runs, or one running C code (uv.run()) that must fail.
*/
void act__raise_soon(lua_State *L, act_fork *f) {
  act__pushfork(L, f);
  lua_insert(L, -2);
  lua_setiuservalue(L, -2, ACT_UV_VALUE);
  lua_pop(L, 1);
  lua_sethook(f->co, raise_hook, LUA_MASKCOUNT, 1);
}

/*
** Makes f raise the value at the top of L at the point where it stopped
** when it next runs (pops the value).
*/
void act__arm_raise(lua_State *L, act_fork *f) {
  if (f->wait == ACT_W_RAW) {  /* no continuation of ours runs there */
    act__raise_soon(L, f);
  } else {
    lua_xmove(L, f->co, 1);
    f->nresume = 1;
    f->flags |= ACT_F_RAISE;
  }
}

/* }==================================================================== */

/* {====================================================================
** Resuming
** ===================================================================== */

/* Routes a value yielded by a raw coroutine.yield(v); 0 if it worked. */
static int route_raw(lua_State *L) {
  act__route(L, lua_touserdata(L, 1));
  return 0;
}

/*
** f stopped in a raw coroutine.yield() with nres values. yield() is
** task.wait(): f is queued, and 0 returned. yield(v) sends v, and 1
** asks for f to be resumed again at once (an error sending it is raised
** where it yielded).
*/
static int raw_yield(lua_State *L, act_fork *f, int nres) {
  lua_State *co = f->co;
  if (nres == 0) {
    f->wait = ACT_W_RAW;
    act__enqueue(f->rt, f);
    return 0;
  }
  lua_settop(co, lua_gettop(co) - nres + 1);  /* yield(v) sends v */
  lua_checkstack(L, 3);
  lua_pushcfunction(L, route_raw);
  lua_pushlightuserdata(L, f);
  lua_xmove(co, L, 1);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    f->wait = ACT_W_RAW;
    act__arm_raise(L, f);
  }
  return 1;
}

/*
** Resumes f's coroutine with nargs values until one of our operations
** suspends it or its body ends. Returns lua_resume's status; *nres tells
** how many values it left.
*/
static int run_coroutine(lua_State *L, act_fork *f, int nargs, int *nres) {
  act_runtime *rt = f->rt;
  int status;
  for (;;) {
    f->state = ACT_RUNNING;
    f->wait = ACT_W_NONE;
    rt->switches++;
    status = lua_resume(f->co, L, nargs, nres);
    nargs = 0;
    if (status != LUA_YIELD || f->state != ACT_RUNNING) return status;
    if (!raw_yield(L, f, *nres)) return status;  /* no op of ours: raw */
  }
}

/* Stack slots settle needs on top of the results. */
#define ACT_SETTLE_STACK 8

/* f's body returned (ok, results...) or failed: settles f. */
static void finish(lua_State *L, act_fork *f, int status, int nres) {
  lua_State *co = f->co;
  int ok = 0, n = 1;
  if (status == LUA_OK) {  /* body returned: ok, results... */
    ok = lua_toboolean(co, lua_gettop(co) - nres + 1);
    n = nres - 1;
    if (!lua_checkstack(L, n + ACT_SETTLE_STACK)) {
      /* No room for them here: the task fails, rather than this resume
         raising in the middle of the scheduler (inside a driver, say). */
      lua_settop(co, 0);
      lua_pushfstring(co, "actress: %d results do not fit on the Lua "
                          "stack of the task's resumer", n);
      ok = 0;
      n = 1;
    }
  }  /* else the coroutine itself failed (out of memory, say): its error */
  luaL_checkstack(L, ACT_SETTLE_STACK, "settling a task");
  lua_xmove(co, L, n);
  lua_settop(co, 0);
  act__settle(L, f, ok, lua_gettop(L) - n + 1, n);
  lua_pop(L, n);
}

/*
** Resumes f, which is queued (and was just dequeued) or being aborted,
** with the f->nresume values already pushed on its coroutine. Returns when
** f suspends again or has finished and been settled.
*/
void act__resume(lua_State *L, act_fork *f) {
  act_runtime *rt = f->rt;
  act_fork *resumer = rt->running;  /* the running chain is on the C stack */
  int nargs, nres, status;
  if (!(f->flags & ACT_F_STARTED)) {
    nargs = acquire_coroutine(L, f);  /* the body and its arguments */
    f->flags |= ACT_F_STARTED;
  } else {
    nargs = f->nresume;
  }
  f->nresume = 0;
  rt->running = f;
  status = run_coroutine(L, f, nargs, &nres);
  rt->running = resumer;
  if (status != LUA_YIELD) finish(L, f, status, nres);
}

/* }==================================================================== */

/* The running task, which must be the one running on L. */
act_fork *act__self(lua_State *L, act_runtime *rt, const char *op) {
  act_fork *f = rt->running;
  if (f == NULL || f->co != L)
    luaL_error(L, "actress: %s must be called from inside a task", op);
  return f;
}

/* As act__self, for an operation that suspends the task. */
act_fork *act__self_suspend(lua_State *L, act_runtime *rt, const char *op) {
  act_fork *f = act__self(L, rt, op);
  if (f->state == ACT_CLOSING)
    luaL_error(L, "actress: %s cannot suspend a task that is exiting", op);
  if (!lua_isyieldable(L))
    luaL_error(L, "actress: %s cannot suspend here (across a C call)", op);
  return f;
}
