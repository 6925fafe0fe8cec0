/*
** act_group.c: links between a waiting task (the owner) and the tasks it
** waits for (its members): join, group, gather (a group whose members'
** messages pass through a transform), wait(fork) and adopt. When a member
** finishes, its owners learn of it here: the last member wakes the owner,
** and a failure fails an owner that fails fast, aborting its other
** members. Links come from the runtime (act_own.c).
*/

#include "act_int.h"

/* {====================================================================
** Links
** ===================================================================== */

/* `owner` starts waiting for `member` (owner's flags say how). */
void act__link(lua_State *L, act_fork *owner, act_fork *member) {
  act_link *k = act__link_alloc(L, owner->rt);
  k->owner = owner;
  k->member = member;
  act_list_push(&member->waiters, &k->in_member);
  act_list_push(&owner->members, &k->in_owner);
  owner->npending++;
}

/*
** Unlinks `owner` from all its members. If `list` is not 0, it is the
** stack index of a table: each member that has not finished (they are
** held, so they can be pushed) is appended to it, and the function
** returns how many. A table, not the stack: a group may have more
** members than a Lua stack has slots.
*/
int act__unlink_members(lua_State *L, act_fork *owner, int list) {
  act_runtime *rt = owner->rt;
  int n = 0;
  while (!act_list_empty(&owner->members)) {
    act_link *k = act_container_of(owner->members.next, act_link, in_owner);
    if (list != 0 && k->member->state != ACT_FINISHED) {
      act__pushfork(L, k->member);
      lua_rawseti(L, list, ++n);
    }
    act__link_release(rt, k);
  }
  owner->npending = 0;
  owner->flags &= (unsigned char)~(ACT_F_PIPES | ACT_F_FAILFAST);
  owner->transform = 0;
  return n;
}

/* }==================================================================== */

/* {====================================================================
** A member finishes
** ===================================================================== */

/* The group `owner` waits on failed with the error at `err`: the owner
   is woken with the error raised in it, its other members aborted. */
static void fail_owner(lua_State *L, act_fork *owner, int err) {
  int i, n, top = lua_gettop(L);
  luaL_checkstack(L, 3, "failing a group");
  lua_newtable(L);
  n = act__unlink_members(L, owner, top + 1);
  lua_pushvalue(L, err);
  act__arm_raise(L, owner);
  act__enqueue(owner->rt, owner);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, top + 1, i);
    act__abort(L, lua_touserdata(L, -1), err);
    lua_pop(L, 1);
  }
  lua_settop(L, top);
}

/* f finished (ok, or failed with the error at err): tells its owners. */
void act__notify_waiters(lua_State *L, act_fork *f, int ok, int err) {
  act_runtime *rt = f->rt;
  while (!act_list_empty(&f->waiters)) {
    act_link *k = act_container_of(f->waiters.next, act_link, in_member);
    act_fork *owner = k->owner;
    act__link_release(rt, k);
    owner->npending--;
    if (!ok && (owner->flags & ACT_F_FAILFAST))
      fail_owner(L, owner, err);
    else if (owner->npending == 0 && owner->state == ACT_WAITING) {
      act__unlink_members(L, owner, 0);
      act__enqueue(rt, owner);
    }
  }
}

/* }==================================================================== */

/* {====================================================================
** Waiting for members
** ===================================================================== */

static act_fork *fork_at(lua_State *L, int t, int i) {
  act_fork *m;
  lua_rawgeti(L, t, i);
  m = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return m;
}

/*
** The member at index `failed` of the array of forks at index `forks` (n
** of them) failed before the call: aborts the others with its error and
** raises it.
*/
int act__fail_early(lua_State *L, int forks, int n, int failed) {
  int i;
  forks = lua_absindex(L, forks);
  lua_rawgeti(L, forks, failed);
  lua_getiuservalue(L, -1, ACT_UV_VALUE);
  lua_remove(L, -2);
  for (i = 1; i <= n; i++) {
    act_fork *m;
    lua_rawgeti(L, forks, i);
    m = lua_touserdata(L, -1);
    if (m->state == ACT_IDLE) act__anchor(L, m, -1);
    act__abort(L, m, -2);
    lua_pop(L, 1);
  }
  return lua_error(L);
}

/* The index of the first fork of the array at `forks` (n of them) that
   has failed already, or 0. */
int act__failed_member(lua_State *L, int forks, int n) {
  int i;
  forks = lua_absindex(L, forks);
  for (i = 1; i <= n; i++) {
    act_fork *m = fork_at(L, forks, i);
    if (m->state == ACT_FINISHED && !(m->flags & ACT_F_OK)) return i;
  }
  return 0;
}

/*
** f starts waiting for every unfinished fork of the array at `forks` (n
** of them, checked by the caller, none failed), their messages flowing
** through f, or through the transform at the top of the stack if
** `transform`. Returns 0 if all had finished (f need not wait), else 1:
** f must then suspend.
*/
int act__join_members(lua_State *L, act_fork *f, int forks, int n,
                      int transform) {
  int i;
  forks = lua_absindex(L, forks);
  for (i = 1; i <= n; i++) {
    act_fork *m = fork_at(L, forks, i);
    if (m->state == ACT_FINISHED) continue;
    if (m->state == ACT_IDLE) {
      lua_rawgeti(L, forks, i);
      act__start(L, m, -1);
      lua_pop(L, 1);
    }
    act__link(L, f, m);
  }
  if (f->npending == 0) return 0;
  f->flags |= ACT_F_PIPES | ACT_F_FAILFAST;
  if (transform) {
    act__pushfork(L, f);
    lua_pushvalue(L, -2);
    lua_setiuservalue(L, -2, ACT_UV_VALUE);
    lua_pop(L, 1);
    f->transform = 1;
  }
  act__set_waiting(f, ACT_W_MEMBERS);
  return 1;
}

/*
** m (at stack index midx) joins the members `owner` waits for in gather
** or group, as if it had been in the array (task.loop adds members so).
** The caller checked that owner waits in a group and m is not finished.
*/
void act__adopt(lua_State *L, act_fork *owner, act_fork *m, int midx) {
  if (m->state == ACT_IDLE) act__start(L, m, midx);
  act__link(L, owner, m);
}

/* }==================================================================== */
