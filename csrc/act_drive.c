/*
** act_drive.c: driving the loop from outside tasks: run and await (until
** a fork finishes), drain (until nothing is left), poll (what is ready
** now, never blocking) and advance (the manual clock). One driver at a
** time: they refuse to nest, to run inside a task, and to run while
** luv's uv.run() drives the loop.
*/

#include "act_int.h"

void act__begin_driving(lua_State *L, act_runtime *rt, const char *op) {
  if (rt->running != NULL)
    luaL_error(L, "actress: %s cannot be called from inside a task", op);
  if (rt->driving)
    luaL_error(L, "actress: %s cannot be called while the loop is being "
                  "driven", op);
  if (rt->on_luv && act__luv_driving(L, rt))
    luaL_error(L, "actress: %s cannot be called while uv.run() drives the "
                  "loop (actress's tasks run from it already)", op);
  act__loop_quiet(L, rt);
  rt->driving = 1;
}

/* A driver returns: the handles take over for whoever runs the loop next. */
void act__end_driving(lua_State *L, act_runtime *rt) {
  rt->driving = 0;
  act__loop_touch(L, rt);
}

int act__work_remains(act_runtime *rt) {
  return rt->nready > 0 || rt->timers.n > 0 || uv_loop_alive(rt->loop);
}

/* Waits in libuv for I/O or the next timer (system clock). */
static void wait_for_events(lua_State *L, act_runtime *rt,
                            const act_timer *next) {
  if (next != NULL) act__loop_wake_at(L, rt, next->deadline);
  uv_run(rt->loop, UV_RUN_ONCE);
  act__loop_quiet(L, rt);
}

/* Manual clock: I/O without waiting while a timer is pending, and time
   jumps to the next timer when nothing is ready. */
static void step_manual(act_runtime *rt, const act_timer *next, int io) {
  if (io) uv_run(rt->loop, next != NULL ? UV_RUN_NOWAIT : UV_RUN_ONCE);
  if (next != NULL && rt->nready == 0 && next->deadline > rt->manual_now)
    rt->manual_now = next->deadline;  /* never wait in real time */
}

/*
** Drives the loop until `until` has finished, or, with until == NULL,
** until no task is ready, no timer is pending and no I/O is active.
** Raises if `until` can never finish.
*/
void act__drive(lua_State *L, act_runtime *rt, act_fork *until) {
  for (;;) {
    const act_timer *next;
    int io;
    act__run_ready(L, rt, -1, until);
    if (until != NULL && until->state == ACT_FINISHED) break;
    if (act__timer_fire_due(rt, act__now(rt)) > 0) continue;
    next = act__timer_next(rt);
    io = uv_loop_alive(rt->loop);  /* others' handles and requests */
    if (next == NULL && !io) {
      if (until == NULL) break;
      act__end_driving(L, rt);
      luaL_error(L, "actress: the task can never finish: it waits, but no "
                    "task is ready, no timer is pending and no I/O is active");
    }
    if (!rt->manual) wait_for_events(L, rt, next);
    else step_manual(rt, next, io);
  }
}

/* At most `budget` resumes (budget < 0: no limit), and at most the tasks
   ready now: a task that queues itself again (task.wait()) waits for the
   next pass, so that a pass always ends. */
static int run_pass(lua_State *L, act_runtime *rt, int budget) {
  int n = (int)rt->nready;
  return act__run_ready(L, rt, budget >= 0 && budget < n ? budget : n, NULL);
}

/*
** One step of poll, which never blocks: the tasks ready now, then due
** timers and I/O callbacks, then the tasks ready after them; at most
** `budget` resumes in all (budget < 0: no limit).
*/
int act__poll(lua_State *L, act_runtime *rt, int budget) {
  int n;
  act__begin_driving(L, rt, "poll");
  n = run_pass(L, rt, budget);
  if (n != budget) {
    act__timer_fire_due(rt, act__now(rt));
    uv_run(rt->loop, UV_RUN_NOWAIT);
    run_pass(L, rt, budget < 0 ? -1 : budget - n);
  }
  act__end_driving(L, rt);
  return act__work_remains(rt);
}

/*
** Manual clock: moves it forward by ms, firing due timers in time order,
** with at most `budget` resumes (budget < 0: no limit, and every task they
** wake runs before the next timer fires). When the budget runs out, the
** timers due by then are queued, in time order, for later polls.
*/
int act__advance(lua_State *L, act_runtime *rt, double ms, int budget) {
  double target;
  const act_timer *next;
  int n = 0;
  if (!rt->manual)
    luaL_error(L, "actress: advance needs the manual clock "
                  "(task.set_clock(\"manual\"))");
  act__begin_driving(L, rt, "advance");
  target = rt->manual_now + ms;
  n += act__run_ready(L, rt, budget < 0 ? -1 : budget - n, NULL);
  while ((next = act__timer_next(rt)) != NULL && next->deadline <= target &&
         n != budget) {
    if (next->deadline > rt->manual_now) rt->manual_now = next->deadline;
    act__timer_fire_due(rt, rt->manual_now);
    n += act__run_ready(L, rt, budget < 0 ? -1 : budget - n, NULL);
  }
  if (target > rt->manual_now) rt->manual_now = target;
  act__timer_fire_due(rt, rt->manual_now);  /* what the budget left: queued */
  act__end_driving(L, rt);
  return act__work_remains(rt);
}

/*
** How long a host may wait before the next poll, in ms: 0 if tasks are
** ready, the time to the next timer, or -1 if no timer is pending.
*/
double act__timeout(act_runtime *rt) {
  const act_timer *next = act__timer_next(rt);
  double delay;
  if (rt->nready > 0) return 0;
  if (next == NULL) return -1;
  delay = next->deadline - act__now(rt);
  return delay > 0 ? delay : 0;
}
