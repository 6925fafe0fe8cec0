/*
** act_timer.c: the runtime's timers. A sleeping task's timer lives in the
** task (struct act_fork) and in the runtime's heap (act_heap.c), ordered
** by deadline on the runtime clock, then by arming order. Firing a timer
** queues its task. Whoever drives the loop fires the due timers: a driver
** (act_drive.c), or a loop step (act_loop.c) when someone else runs it.
*/

#include <math.h>

#include "act_int.h"

/*
** Arms f's timer for `ms` from now (math.huge: never fires, only an abort
** or exit ends the sleep). Returns 0, or -1 if the heap cannot grow (then
** nothing changed).
*/
int act__timer_arm(act_runtime *rt, act_fork *f, double ms) {
  if (!(ms < HUGE_VAL)) return 0;
  if (act_heap_reserve(&rt->timers, rt->timers.n + 1) != 0) return -1;
  f->timer.deadline = act__now(rt) + ms;
  f->timer.seq = rt->timer_seq++;
  act_heap_push(&rt->timers, &f->timer);
  return 0;
}

/* Disarms f's timer, if it is armed. */
void act__timer_cancel(act_runtime *rt, act_fork *f) {
  act_heap_remove(&rt->timers, &f->timer);
}

/* The timer due first, or NULL. */
const act_timer *act__timer_next(const act_runtime *rt) {
  return act_heap_top(&rt->timers);
}

/* Moves every timer due at `now` to the run queue, in time order. */
int act__timer_fire_due(act_runtime *rt, double now) {
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
