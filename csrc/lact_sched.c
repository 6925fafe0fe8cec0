/*
** lact_sched.c: the scheduler. It owns the run queue, resumes task
** coroutines, settles finished tasks (results, waiters, error reports),
** aborts and exits tasks, and routes messages up the join chain.
**
** Every task body runs under a protected call made on the task's own
** coroutine (act__body), so an error unwinds inside that coroutine and
** its to-be-closed variables may still suspend and send while it does.
*/

#include <math.h>
#include <stdlib.h>

#include "act_int.h"

#define POOL_MAX 1024  /* finished coroutines kept for new tasks */

static void settle(lua_State *L, act_fork *f, int ok, int first, int n);

/* {====================================================================
** Run queue
** ===================================================================== */

void act__enqueue(act_runtime *rt, act_fork *f) {
  if (f->state == ACT_WAITING) rt->waiting--;
  f->state = ACT_QUEUED;
  act_list_push(&rt->ready, &f->qnode);
  if (++rt->nready == 1 && !rt->driving) act__sync_handles(rt);
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

/* Moves every timer due at `now` to the run queue, in time order. */
int act__fire_due(act_runtime *rt, double now) {
  act_timer *t;
  int n = 0;
  while ((t = act_heap_top(&rt->timers)) != NULL && t->deadline <= now) {
    act_fork *f = act_container_of(t, act_fork, timer);
    act_heap_pop(&rt->timers);
    act__enqueue(rt, f);
    n++;
  }
  return n;
}

/* }==================================================================== */

/* {====================================================================
** Links between waiting tasks and the tasks they wait for. Links come
** from chunks owned by the runtime and are recycled, so joining
** allocates nothing in the steady state.
** ===================================================================== */

#define LINK_CHUNK 64

typedef struct link_chunk {
  struct link_chunk *next;
  act_link links[LINK_CHUNK];
} link_chunk;

static act_link *link_alloc(lua_State *L, act_runtime *rt) {
  act_link *k = rt->free_links;
  if (k == NULL) {
    link_chunk *c = malloc(sizeof *c);
    int i;
    if (c == NULL) luaL_error(L, "actress: not enough memory");
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

static void link_release(act_runtime *rt, act_link *k) {
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

/* `owner` starts waiting for `member` (owner's flags say how). */
void act__link(lua_State *L, act_fork *owner, act_fork *member) {
  act_link *k = link_alloc(L, owner->rt);
  k->owner = owner;
  k->member = member;
  act_list_push(&member->waiters, &k->in_member);
  act_list_push(&owner->members, &k->in_owner);
  owner->npending++;
}

/*
** Unlinks `owner` from all its members. If `list` is not 0, it is the
** stack index of a table: each member that has not finished (they are
** anchored, so they can be pushed) is appended to it, and the function
** returns how many. A table, not the stack: a group may have more
** members than a Lua stack has slots.
*/
static int unlink_members(lua_State *L, act_fork *owner, int list) {
  act_runtime *rt = owner->rt;
  int n = 0;
  while (!act_list_empty(&owner->members)) {
    act_link *k = act_container_of(owner->members.next, act_link, in_owner);
    if (list != 0 && k->member->state != ACT_FINISHED) {
      act__pushfork(L, k->member);
      lua_rawseti(L, list, ++n);
    }
    link_release(rt, k);
  }
  owner->npending = 0;
  owner->flags &= (unsigned char)~(ACT_F_PIPES | ACT_F_FAILFAST);
  owner->transform = 0;
  return n;
}

/* }==================================================================== */

/* {====================================================================
** The task body and resuming
** ===================================================================== */

/*
** Message handler of the body's protected call: keeps the traceback of
** where the error was raised in f.traceback, and returns the very error
** value, so that join re-raises it unchanged.
*/
static int body_msgh(lua_State *co) {
  act_runtime *rt;
  lua_getfield(co, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  rt = lua_touserdata(co, -1);
  lua_pop(co, 1);
  if (rt != NULL && rt->running != NULL && rt->running->co == co &&
      lua_checkstack(co, 4)) {
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

/*
** Gives f, which is about to run for the first time, a coroutine (from the
** pool if it has one) holding `body`, then the body and its arguments,
** taken out of f's user values. Returns the number of values above
** `body` (the body and its arguments), which lua_resume passes to it.
*/
static int acquire_coroutine(lua_State *L, act_fork *f) {
  act_runtime *rt = f->rt;
  lua_State *co;
  int i, fidx, nargs = f->nargs;
  luaL_checkstack(L, 4, "starting a task");
  act__pushfork(L, f);
  fidx = lua_gettop(L);
  if (rt->npool > 0) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_pool);
    lua_rawgeti(L, -1, rt->npool);
    lua_pushnil(L);
    lua_rawseti(L, -3, rt->npool--);
    lua_remove(L, -2);  /* the pool */
    co = lua_tothread(L, -1);
  } else {
    co = lua_newthread(L);
  }
  lua_getiuservalue(L, fidx, ACT_UV_BODY);
  lua_pushvalue(L, -2);
  lua_setiuservalue(L, fidx, ACT_UV_CO);  /* the thread, over the body */
  if (!lua_checkstack(co, nargs + 3)) luaL_error(L, "too many arguments");
  lua_pushcfunction(co, body);
  lua_xmove(L, co, 1);  /* the body */
  for (i = 0; i < nargs; i++) {  /* and its arguments */
    lua_getiuservalue(L, fidx, ACT_UV_ARGS + i);
    lua_xmove(L, co, 1);
    lua_pushnil(L);
    lua_setiuservalue(L, fidx, ACT_UV_ARGS + i);
  }
  lua_settop(L, fidx - 1);
  f->co = co;
  f->nargs = 0;
  return nargs + 1;
}

/* Takes the coroutine from a finished task, into the pool if reusable. */
static void release_coroutine(lua_State *L, act_fork *f, int reusable) {
  act_runtime *rt = f->rt;
  lua_State *co = f->co;
  f->co = NULL;
  if (co == NULL) return;
  if (reusable && rt->npool < POOL_MAX && lua_status(co) == LUA_OK) {
    lua_settop(co, 0);
    lua_sethook(co, NULL, 0, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_pool);
    act__pushfork(L, f);
    lua_getiuservalue(L, -1, ACT_UV_CO);
    lua_rawseti(L, -3, ++rt->npool);
    lua_pop(L, 2);
  }
}

/*
** Hook set on a task stopped in a raw coroutine.yield() that is aborted:
** raises the abort error as soon as the task runs Lua code again.
*/
static void raise_hook(lua_State *co, lua_Debug *ar) {
  act_runtime *rt;
  (void)ar;
  lua_sethook(co, NULL, 0, 0);
  lua_getfield(co, LUA_REGISTRYINDEX, ACTRESS_CONTEXT_KEY);
  rt = lua_touserdata(co, -1);
  lua_pop(co, 1);
  if (rt == NULL || rt->running == NULL || rt->running->co != co) return;
  act__pushfork(co, rt->running);
  lua_getiuservalue(co, -1, ACT_UV_VALUE);
  lua_pushnil(co);
  lua_setiuservalue(co, -3, ACT_UV_VALUE);
  lua_error(co);
}

/* Routes a value yielded by a raw coroutine.yield(v); 0 if it worked. */
static int route_raw(lua_State *L) {
  act__route(L, lua_touserdata(L, 1));
  return 0;
}

/*
** Makes f raise the value at the top of L at the point where it stopped
** when it next runs (pops the value).
*/
static void arm_raise(lua_State *L, act_fork *f) {
  if (f->wait == ACT_W_RAW) {  /* no continuation of ours runs there */
    act__pushfork(L, f);
    lua_insert(L, -2);
    lua_setiuservalue(L, -2, ACT_UV_VALUE);
    lua_pop(L, 1);
    lua_sethook(f->co, raise_hook, LUA_MASKCOUNT, 1);
  } else {
    lua_xmove(L, f->co, 1);
    f->nresume = 1;
    f->flags |= ACT_F_RAISE;
  }
}

/* Stack slots settle needs on top of the results. */
#define ACT_SETTLE_STACK 8

/*
** Resumes f, which is queued (and was just dequeued) or being aborted,
** with the f->nresume values already pushed on its coroutine. Returns when
** f suspends again or has finished and been settled.
*/
void act__resume(lua_State *L, act_fork *f) {
  act_runtime *rt = f->rt;
  act_fork *resumer;
  lua_State *co;
  int nargs, nres, status;
  if (!(f->flags & ACT_F_STARTED)) {
    nargs = acquire_coroutine(L, f);  /* the body and its arguments */
    f->flags |= ACT_F_STARTED;
  } else {
    nargs = f->nresume;
  }
  co = f->co;
  f->nresume = 0;
  resumer = rt->running;  /* the running chain lives on the C stack */
  rt->running = f;
  for (;;) {
    f->state = ACT_RUNNING;
    f->wait = ACT_W_NONE;
    rt->switches++;
    status = lua_resume(co, L, nargs, &nres);
    nargs = 0;
    if (status != LUA_YIELD || f->state != ACT_RUNNING) break;
    /* A raw coroutine.yield(): no operation of ours suspended it. */
    if (nres == 0) {  /* yield() is task.wait() */
      f->wait = ACT_W_RAW;
      act__enqueue(rt, f);
      break;
    }
    lua_settop(co, lua_gettop(co) - nres + 1);  /* yield(v) sends v */
    lua_checkstack(L, 3);
    lua_pushcfunction(L, route_raw);
    lua_pushlightuserdata(L, f);
    lua_xmove(co, L, 1);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {  /* raise it where it yielded */
      f->wait = ACT_W_RAW;
      arm_raise(L, f);
    }
  }
  rt->running = resumer;
  if (status == LUA_YIELD) {
    if (!rt->driving) act__sync_handles(rt);  /* it may have armed a timer */
    return;
  }
  if (status == LUA_OK) {  /* body returned: ok, results... */
    int ok = lua_toboolean(co, lua_gettop(co) - nres + 1);
    int n = nres - 1;
    if (!lua_checkstack(L, n + ACT_SETTLE_STACK)) {
      /* No room for them here: the task fails, rather than this resume
         raising in the middle of the scheduler (inside a driver, say). */
      lua_settop(co, 0);
      lua_pushfstring(co, "actress: %d results do not fit on the Lua "
                          "stack of the task's resumer", n);
      luaL_checkstack(L, ACT_SETTLE_STACK, "settling a task");
      ok = 0;
      n = 1;
    }
    lua_xmove(co, L, n);
    lua_settop(co, 0);
    settle(L, f, ok, lua_gettop(L) - n + 1, n);
    lua_pop(L, n);
  } else {  /* the coroutine itself failed (out of memory, say) */
    lua_xmove(co, L, 1);
    settle(L, f, 0, lua_gettop(L), 1);
    lua_pop(L, 1);
  }
}

/* Starts an idle fork (at stack index idx): it is queued. */
void act__start(lua_State *L, act_fork *f, int idx) {
  act__anchor(L, f, idx);
  act__enqueue(f->rt, f);
}

/* }==================================================================== */

/* {====================================================================
** Settling: a task finishes, its waiters learn of it
** ===================================================================== */

/* The group `owner` waits on failed with the error at `err`. */
static void fail_owner(lua_State *L, act_fork *owner, int err) {
  int i, n, top = lua_gettop(L);
  luaL_checkstack(L, 3, "failing a group");
  lua_newtable(L);
  n = unlink_members(L, owner, top + 1);
  lua_pushvalue(L, err);
  arm_raise(L, owner);
  act__enqueue(owner->rt, owner);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, top + 1, i);
    act__abort(L, lua_touserdata(L, -1), err);
    lua_pop(L, 1);
  }
  lua_settop(L, top);
}

static void notify_waiters(lua_State *L, act_fork *f, int ok, int err) {
  act_runtime *rt = f->rt;
  while (!act_list_empty(&f->waiters)) {
    act_link *k = act_container_of(f->waiters.next, act_link, in_member);
    act_fork *owner = k->owner;
    link_release(rt, k);
    owner->npending--;
    if (!ok && (owner->flags & ACT_F_FAILFAST))
      fail_owner(L, owner, err);
    else if (owner->npending == 0 && owner->state == ACT_WAITING) {
      unlink_members(L, owner, 0);
      act__enqueue(rt, owner);
    }
  }
}

/*
** f finished: ok with the n values at L[first..], or failed with the error
** at L[first]. Keeps the result in f, wakes its waiters, reports the
** failure of a spawned or top-level task, and lets f be collected.
*/
static void settle(lua_State *L, act_fork *f, int ok, int first, int n) {
  act_runtime *rt = f->rt;
  int fidx;
  act__pushfork(L, f);
  fidx = lua_gettop(L);
  f->nresults = ok ? n : 1;
  if (n > 0) {
    lua_pushvalue(L, first);
    lua_setiuservalue(L, fidx, ACT_UV_VALUE);
  }
  if (ok && n > 1) {
    int i;
    act__pushextra(L, fidx);
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
      lua_pushvalue(L, first + i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "values");
    lua_pop(L, 1);
  }
  release_coroutine(L, f, 1);
  lua_pushnil(L);
  lua_setiuservalue(L, fidx, ACT_UV_CO);
  f->state = ACT_FINISHED;
  f->wait = ACT_W_NONE;
  if (ok) f->flags |= ACT_F_OK;
  notify_waiters(L, f, ok, first);
  if (!ok && (f->flags & ACT_F_REPORT)) act__report(L, rt, first, fidx);
  act__unanchor(L, f);
  lua_settop(L, fidx - 1);
}

/*
** Settles a task that never started (aborted or exited before), without
** running its body. An idle one must have been anchored by the caller.
*/
static void settle_unstarted(lua_State *L, act_fork *f, int ok, int first,
                             int n) {
  int i;
  if (f->state == ACT_QUEUED) act__dequeue(f->rt, f);
  f->flags |= ACT_F_STARTED;
  act__pushfork(L, f);
  lua_pushnil(L);  /* let the body and its arguments go */
  lua_setiuservalue(L, -2, ACT_UV_BODY);
  for (i = 0; i < f->nargs; i++) {
    lua_pushnil(L);
    lua_setiuservalue(L, -2, ACT_UV_ARGS + i);
  }
  lua_pop(L, 1);
  f->nargs = 0;
  settle(L, f, ok, first, n);
}

/* }==================================================================== */

/* {====================================================================
** Abort and exit
** ===================================================================== */

/*
** Takes f out of whatever it waits in (queue, timer, members, awaitable)
** and drops the values its next resume would have received.
*/
static void detach(lua_State *L, act_fork *f) {
  act_runtime *rt = f->rt;
  if (f->state == ACT_QUEUED)
    act__dequeue(rt, f);
  else if (f->state == ACT_WAITING)
    rt->waiting--;
  act_heap_remove(&rt->timers, &f->timer);
  unlink_members(L, f, 0);
  f->await_seq++;
  f->flags &= (unsigned char)~(ACT_F_SETTLED | ACT_F_RAISE);
  if (f->nresume > 0) {
    lua_pop(f->co, f->nresume);
    f->nresume = 0;
  }
  if (f->wait == ACT_W_RAW) lua_sethook(f->co, NULL, 0, 0);
}

static int abortable(const act_fork *f) {
  return f != NULL && f->state != ACT_FINISHED && f->state != ACT_RUNNING &&
         f->state != ACT_CLOSING && f->state != ACT_ABORTING;
}

/* Does g own members an abort must pass on to? (join, group and all own
   their members; wait(fork) does not.) */
static int owns_members(const act_fork *g) {
  return abortable(g) && (g->flags & ACT_F_STARTED) &&
         (g->flags & ACT_F_PIPES) && !act_list_empty(&g->members);
}

/* The fork at index i of the table at stack index t, which keeps it. */
static act_fork *fork_at(lua_State *L, int t, lua_Integer i) {
  act_fork *f;
  lua_rawgeti(L, t, i);
  f = (act_fork *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return f;
}

/*
** collect_tree(list): list holds a task to abort (marked ACT_F_VISITED);
** appends the members of its join, group or all, theirs, and so on down,
** breadth first, each task once (joins may make cycles), changing nothing
** else. Returns how many there are. Run under lua_pcall: if memory runs
** out, the caller clears the marks and nothing is lost.
*/
static int collect_tree(lua_State *L) {
  lua_Integer i, n = 1;
  for (i = 1; i <= n; i++) {
    act_fork *g = fork_at(L, 1, i);
    act_node *k;
    if (!owns_members(g)) continue;
    for (k = g->members.next; k != &g->members; k = k->next) {
      act_fork *m = act_container_of(k, act_link, in_owner)->member;
      if (!abortable(m) || (m->flags & ACT_F_VISITED)) continue;
      act__pushfork(L, m);
      lua_rawseti(L, 1, ++n);
      m->flags |= ACT_F_VISITED;
    }
  }
  lua_pushinteger(L, n);
  return 1;
}

/* Abort, first step for one task: settled at once if it never started,
   else detached and held in ACT_ABORTING. */
static void hold_aborting(lua_State *L, act_fork *g, int err) {
  if (!abortable(g)) return;
  if (!(g->flags & ACT_F_STARTED)) {
    settle_unstarted(L, g, 0, err, 1);
    return;
  }
  detach(L, g);
  g->state = ACT_ABORTING;
}

/* Abort, second step: resumes a held task with the error raised in it. */
static void raise_held(lua_State *L, act_fork *g, int err) {
  if (g->state != ACT_ABORTING) return;
  lua_pushvalue(L, err);
  arm_raise(L, g);
  act__resume(L, g);
}

/*
** Raises the error at `err` in f (see task.abort), and in the members of
** its join, group or all, and theirs, and so on down. Without recursion,
** so that no depth of nested joins can overflow the C stack, and in a
** table, so that no size of group can overflow the Lua stack: the tree is
** collected breadth first, then each task is held in ACT_ABORTING (their
** cleanup may run code that aborts, exits, resumes or wakes them: all
** leave them be), then resumed from the last, members before their
** owners. A task that is running (or resuming the running one) or closing
** is left alone: the Lua function refuses those before.
*/
void act__abort(lua_State *L, act_fork *f, int err) {
  lua_Integer i, n;
  int tree;
  err = lua_absindex(L, err);
  if (!abortable(f)) return;
  luaL_checkstack(L, 4, "aborting");
  if (!owns_members(f)) {  /* the common case: no tree to collect */
    act__pushfork(L, f);  /* keeps f alive until it has finished */
    hold_aborting(L, f, err);
    raise_held(L, f, err);
    lua_pop(L, 1);
    return;
  }
  lua_createtable(L, 4, 0);
  tree = lua_gettop(L);
  act__pushfork(L, f);
  lua_rawseti(L, tree, 1);
  f->flags |= ACT_F_VISITED;
  lua_pushcfunction(L, collect_tree);
  lua_pushvalue(L, tree);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    n = (lua_Integer)lua_rawlen(L, tree);
    for (i = 1; i <= n; i++)
      fork_at(L, tree, i)->flags &= (unsigned char)~ACT_F_VISITED;
    lua_error(L);  /* the error: not enough memory */
  }
  n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  for (i = 1; i <= n; i++) {
    act_fork *g = fork_at(L, tree, i);
    g->flags &= (unsigned char)~ACT_F_VISITED;
    hold_aborting(L, g, err);
  }
  for (i = n; i >= 1; i--) raise_held(L, fork_at(L, tree, i), err);
  lua_settop(L, tree - 1);
}

/*
** Finishes f successfully with the n values at L[first..] (see
** task.exit): its to-be-closed variables run now, on its coroutine, with
** f as the current task; they cannot suspend.
*/
void act__exit(lua_State *L, act_fork *f, int first, int n) {
  act_runtime *rt = f->rt;
  act_fork *resumer;
  int status;
  first = lua_absindex(L, first);
  if (f->state == ACT_FINISHED || f->state == ACT_RUNNING ||
      f->state == ACT_CLOSING || f->state == ACT_ABORTING)
    return;
  if (!(f->flags & ACT_F_STARTED)) {
    settle_unstarted(L, f, 1, first, n);
    return;
  }
  detach(L, f);
  f->state = ACT_CLOSING;
  f->wait = ACT_W_NONE;
  resumer = rt->running;
  rt->running = f;
  status = act_closethread(f->co, L);
  rt->running = resumer;
  if (status == LUA_OK) {
    settle(L, f, 1, first, n);
  } else {
    lua_xmove(f->co, L, 1);
    lua_settop(f->co, 0);
    settle(L, f, 0, lua_gettop(L), 1);
    lua_pop(L, 1);
  }
}

/* }==================================================================== */

/* {====================================================================
** Messages
** ===================================================================== */

/* The task that f's messages flow to: the last joiner that pipes. */
static act_fork *message_target(act_fork *f) {
  act_node *n;
  for (n = f->waiters.prev; n != &f->waiters; n = n->prev) {
    act_fork *owner = act_container_of(n, act_link, in_member)->owner;
    if (owner->flags & ACT_F_PIPES) return owner;
  }
  return NULL;
}

/*
** How many hops a message from `from` may take: to the end of the chain,
** or, when joins make a cycle (a joins b, b is in a group of a), up to the
** last task before the chain comes back to one it passed, so that no task
** receives a message twice. Brent's cycle detection: no marks to clean up
** if a transform raises, no allocation.
*/
static size_t route_length(act_fork *from) {
  size_t power = 1, lambda = 1, mu = 0, i;
  act_fork *tortoise = from, *hare = message_target(from);
  while (hare != NULL && hare != tortoise) {
    if (power == lambda) {  /* start a new power of two */
      tortoise = hare;
      power *= 2;
      lambda = 0;
    }
    hare = message_target(hare);
    lambda++;
  }
  if (hare == NULL) return (size_t)-1;  /* no cycle: up to the end */
  tortoise = hare = from;  /* the cycle has length lambda; find its start */
  for (i = 0; i < lambda; i++) hare = message_target(hare);
  while (tortoise != hare) {
    tortoise = message_target(tortoise);
    hare = message_target(hare);
    mu++;
  }
  return mu + lambda - 1;  /* the distinct tasks on the way, but `from` */
}

/* Chains up to this long are checked for cycles against the tasks passed
   (the common case, cheaper than route_length); longer ones, once, by
   route_length. */
#define ACT_ROUTE_SHORT 8

static int passed(act_fork *const *seen, size_t n, const act_fork *f) {
  size_t i;
  for (i = 0; i < n; i++)
    if (seen[i] == f) return 1;
  return 0;
}

/*
** Delivers the message at the top of L, sent by `from`, up the join
** chain; pops it. A joiner with a transform (task.map) passes on what
** the transform returns, and drops the message on nil. Transforms run
** here, synchronously; their errors propagate to the caller.
*/
void act__route(lua_State *L, act_fork *from) {
  int base = lua_gettop(L) - 1;  /* below the message */
  act_fork *seen[ACT_ROUTE_SHORT];
  act_fork *origin = from, *to;
  size_t hops = 0, limit = (size_t)-1;
  seen[0] = from;
  while ((to = message_target(from)) != NULL) {
    if (++hops < ACT_ROUTE_SHORT) {
      if (passed(seen, hops, to)) break;  /* back round a cycle */
      seen[hops] = to;
    } else {
      if (hops == ACT_ROUTE_SHORT) limit = route_length(origin);
      if (hops > limit) break;
    }
    if (to->transform) {
      if (!lua_checkstack(L, 3)) luaL_error(L, "actress: message chain too long");
      act__pushfork(L, to);  /* stays on the stack: keeps `to` alive */
      lua_getiuservalue(L, -1, ACT_UV_VALUE);  /* the transform */
      lua_rotate(L, -3, -1);  /* msg, to, fn -> to, fn, msg */
      lua_call(L, 1, 1);  /* to, new msg */
      if (lua_isnil(L, -1)) break;  /* dropped */
    }
    from = to;
  }
  lua_settop(L, base);
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
