/*
** act_stop.c: stopping a task from outside it. Abort raises an error
** where the task is suspended (and in the members of its join, group or
** all, and theirs, down the tree); exit finishes it with values at once,
** running only its to-be-closed variables.
*/

#include "act_int.h"

/*
** Takes f out of whatever it waits in (queue, timer, members, awaitable)
** and drops the values its next resume would have received.
*/
void act__detach(lua_State *L, act_fork *f) {
  act_runtime *rt = f->rt;
  if (f->state == ACT_QUEUED)
    act__dequeue(rt, f);
  else if (f->state == ACT_WAITING)
    rt->waiting--;
  act__timer_cancel(rt, f);
  act__unlink_members(L, f, 0);
  f->await_seq++;
  f->flags &= (unsigned char)~(ACT_F_SETTLED | ACT_F_RAISE);
  if (f->nresume > 0) {
    lua_pop(f->co, f->nresume);
    f->nresume = 0;
  }
  if (f->wait == ACT_W_RAW) lua_sethook(f->co, NULL, 0, 0);
}

int act__abortable(const act_fork *f) {
  return f != NULL && f->state != ACT_FINISHED && f->state != ACT_RUNNING &&
         f->state != ACT_CLOSING && f->state != ACT_ABORTING;
}

/* Does g own members an abort must pass on to? (join, group and all own
   their members; wait(fork) does not.) */
static int owns_members(const act_fork *g) {
  return act__abortable(g) && (g->flags & ACT_F_STARTED) &&
         (g->flags & ACT_F_PIPES) && !act_list_empty(&g->members);
}

/* {====================================================================
** Abort
** ===================================================================== */

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
      if (!act__abortable(m) || (m->flags & ACT_F_VISITED)) continue;
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
  if (!act__abortable(g)) return;
  if (!(g->flags & ACT_F_STARTED)) {
    act__settle_unstarted(L, g, 0, err, 1);
    return;
  }
  act__detach(L, g);
  g->state = ACT_ABORTING;
}

/* Abort, second step: resumes a held task with the error raised in it. */
static void raise_held(lua_State *L, act_fork *g, int err) {
  if (g->state != ACT_ABORTING) return;
  lua_pushvalue(L, err);
  act__arm_raise(L, g);
  act__resume(L, g);
}

/* Collects f's tree into a new table at the top; returns its size. */
static lua_Integer push_tree(lua_State *L, act_fork *f) {
  lua_Integer i, n;
  int tree;
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
  return n;
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
  if (!act__abortable(f)) return;
  luaL_checkstack(L, 4, "aborting");
  if (!owns_members(f)) {  /* the common case: no tree to collect */
    act__pushfork(L, f);  /* keeps f alive until it has finished */
    hold_aborting(L, f, err);
    raise_held(L, f, err);
    lua_pop(L, 1);
    return;
  }
  n = push_tree(L, f);
  tree = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    act_fork *g = fork_at(L, tree, i);
    g->flags &= (unsigned char)~ACT_F_VISITED;
    hold_aborting(L, g, err);
  }
  for (i = n; i >= 1; i--) raise_held(L, fork_at(L, tree, i), err);
  lua_settop(L, tree - 1);
}

/* }==================================================================== */

/* {====================================================================
** Exit
** ===================================================================== */

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
    act__settle_unstarted(L, f, 1, first, n);
    return;
  }
  act__detach(L, f);
  f->state = ACT_CLOSING;
  f->wait = ACT_W_NONE;
  resumer = rt->running;
  rt->running = f;
  status = act_closethread(f->co, L);
  rt->running = resumer;
  if (status == LUA_OK) {
    act__settle(L, f, 1, first, n);
  } else {
    lua_xmove(f->co, L, 1);
    lua_settop(f->co, 0);
    act__settle(L, f, 0, lua_gettop(L), 1);
    lua_pop(L, 1);
  }
}

/* }==================================================================== */
