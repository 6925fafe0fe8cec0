/*
** act_route.c: messages. A message sent by a task goes to the task that
** joins it (the last joiner that pipes its members' messages), is passed
** through that task's transform if it has one (task.map, gather), and so
** on up the join chain, synchronously. A chain that comes back round a
** cycle of joins stops before a task would get the message twice.
*/

#include "act_int.h"

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
** Passes the message at the top of L through to's transform, which leaves
** what it returns on top, over `to` and the message: `to` stays on the
** stack, which keeps it alive while its transform runs and while the walk
** goes on from it.
*/
static void transform(lua_State *L, act_fork *to, int owned) {
  if (!lua_checkstack(L, 3)) luaL_error(L, "actress: message chain too long");
  act__pushfork_in(L, to, owned);
  lua_getiuservalue(L, -1, ACT_UV_VALUE);  /* the transform */
  lua_pushvalue(L, -3);
  lua_call(L, 1, 1);
}

/*
** Delivers the message at the top of L, sent by `from`, up the join
** chain; pops it. A joiner with a transform (task.map) passes on what
** the transform returns, and drops the message on nil. Transforms run
** here, synchronously; their errors propagate to the caller.
*/
void act__route(lua_State *L, act_fork *from) {
  int base = lua_gettop(L) - 1, owned = 0;  /* below the message */
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
      if (owned == 0) {  /* once, for the whole walk; then the message */
        act__pushowned(L, from->rt);
        owned = base + 2;
        lua_pushvalue(L, base + 1);
      }
      transform(L, to, owned);
      if (lua_isnil(L, -1)) break;  /* dropped */
    }
    from = to;
  }
  lua_settop(L, base);
}
