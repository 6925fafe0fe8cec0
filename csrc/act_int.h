/*
** act_int.h: the types of the C core and what each of its files offers
** the others. The core (act_*.c) is the scheduler and everything it owns;
** the Lua bindings (lact_*.c) and the C embedding API (actress.c) call
** into it, never the other way round.
**
** Files of the core, from the bottom up:
**   act_heap.c     the timer heap (plain C)
**   act_own.c      what the runtime owns: the owned table, the links
**   act_luv.c      finding luv's loop, to share it
**   act_timer.c    timers: arming a sleep, firing due timers
**   act_route.c    messages: up the join chain, through transforms
**   act_sched.c    the run queue and resuming task coroutines
**   act_task.c     a task's life: created, started, settled
**   act_group.c    what a waiting task waits for: join, group, gather
**   act_stop.c     abort and exit
**   act_report.c   failures with nowhere to go: on_error, the C handler
**   act_loop.c     how actress's work shows to whoever runs the loop
**   act_runtime.c  the runtime: creation, driving the loop, close
** One circle is the model itself, not a tangle: resuming a task may
** finish it (sched -> task), settling it wakes or fails its owners
** (task -> group), failing a group aborts its other members (group ->
** stop), and aborting resumes them (stop -> sched).
*/

#ifndef ACT_INT_H
#define ACT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>
#include <uv.h>

#include "actress.h"

#define ACT_FORK_MT "actress.Fork"
#define ACT_RUNTIME_MT "actress.Runtime"

#define act_container_of(ptr, type, field) \
  ((type *)((char *)(ptr) - offsetof(type, field)))

/* {====================================================================
** Intrusive circular doubly linked lists (the head is a sentinel node)
** ===================================================================== */

typedef struct act_node {
  struct act_node *prev, *next;
} act_node;

static inline void act_list_init(act_node *h) { h->prev = h->next = h; }

static inline int act_list_empty(const act_node *h) { return h->next == h; }

static inline void act_list_push(act_node *h, act_node *n) {
  n->prev = h->prev;
  n->next = h;
  h->prev->next = n;
  h->prev = n;
}

static inline void act_list_remove(act_node *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = n;
}

/* }==================================================================== */

/* {====================================================================
** act_heap.c: a binary min-heap of timers ordered by deadline, then by
** start order, so equal deadlines fire in the order they were armed.
** ===================================================================== */

typedef struct act_timer {
  double deadline;  /* runtime clock, in ms */
  uint64_t seq;     /* start order */
  size_t index;     /* position in the heap; ACT_NOT_IN_HEAP when out */
} act_timer;

#define ACT_NOT_IN_HEAP ((size_t)-1)

typedef struct act_heap {
  act_timer **items;
  size_t n, cap;
} act_heap;

void act_heap_init(act_heap *h);
void act_heap_free(act_heap *h);
int act_heap_reserve(act_heap *h, size_t n); /* 0 on success, -1 on OOM */
void act_heap_push(act_heap *h, act_timer *t); /* after a reserve */
act_timer *act_heap_top(const act_heap *h);
act_timer *act_heap_pop(act_heap *h);
void act_heap_remove(act_heap *h, act_timer *t);

/* }==================================================================== */

typedef struct act_runtime act_runtime;
typedef struct act_fork act_fork;

/* Where a task is in its life. */
enum act_state {
  ACT_IDLE,     /* created outside a task, not started */
  ACT_QUEUED,   /* in the run queue */
  ACT_RUNNING,  /* being resumed (it or a task it resumed is running) */
  ACT_WAITING,  /* suspended in an operation, see act_wait */
  ACT_CLOSING,  /* being exited: its to-be-closed variables run */
  ACT_ABORTING, /* being aborted: its join's members are aborted first */
  ACT_FINISHED
};

/* What a waiting (or queued) task is waiting for. */
enum act_wait {
  ACT_W_NONE,
  ACT_W_SUSPEND, /* task.suspend(): only task.resume() wakes it */
  ACT_W_SLEEP,   /* task.sleep(): its timer (or forever) */
  ACT_W_MEMBERS, /* join, group, all, wait(fork): its members */
  ACT_W_AWAIT,   /* wait(v) on a foreign awaitable's then_ */
  ACT_W_TURN,    /* wait(plain): queued for the rest of this turn */
  ACT_W_RAW      /* a raw coroutine.yield() */
};

/* Fork flags. */
#define ACT_F_STARTED 0x01   /* its body has begun */
#define ACT_F_OK 0x02        /* finished successfully */
#define ACT_F_REPORT 0x04    /* spawned or top-level: failures go to on_error */
#define ACT_F_RAISE 0x08     /* its next resume raises the value passed */
#define ACT_F_PIPES 0x10     /* its members' messages flow through it */
#define ACT_F_FAILFAST 0x20  /* a failing member fails it at once */
#define ACT_F_SETTLED 0x40   /* a foreign awaitable settled (ACT_W_AWAIT) */
#define ACT_F_VISITED 0x80   /* collected by the abort under way */

/*
** One membership: `owner` waits for `member`. A link is in the member's
** `waiters` list and in the owner's `members` list.
*/
typedef struct act_link {
  act_node in_member;
  act_node in_owner;
  act_fork *owner, *member;
} act_link;

/*
** A task. The Fork userdata is this struct; its user values are:
** 1: the body until the task starts, then its coroutine until it ends,
** 2: the first result or the error once finished (while waiting: a
** transform function or awaited values), 3: a lazily made table of
** extras (name, traceback, all results), 4...: the body's arguments until
** it starts. A task gets its coroutine when it first runs, from the pool
** if one is there, so tasks that are forked in bulk and finish at once
** share a few coroutines. While it is live (started, unfinished) the
** runtime holds it (act__anchor), at owned[ref].
*/
struct act_fork {
  act_runtime *rt;
  lua_State *co;          /* the coroutine; NULL when finished */
  act_node qnode;         /* in rt->ready while queued */
  act_node waiters;       /* links of the tasks waiting for this one */
  act_node members;       /* links of the tasks this one waits for */
  act_timer timer;
  lua_Integer id;
  int ref;                /* its key in the runtime's owned table */
  int nresume;            /* values pushed on co for the next resume */
  int nresults;           /* result values kept once finished */
  unsigned npending;      /* members not finished yet */
  unsigned await_seq;     /* tells a stale awaitable callback */
  unsigned short nargs;   /* arguments kept for the body until it starts */
  unsigned char state, wait, flags;
  unsigned char transform;/* messages pass through user value 2 */
};

#define ACT_UV_CO 1
#define ACT_UV_VALUE 2
#define ACT_UV_EXTRA 3
#define ACT_UV_BODY 1  /* before it starts */
#define ACT_UV_ARGS 4
#define ACT_FORK_NUV 3  /* plus one per argument */
#define ACT_MAX_ARGS 250

/*
** The runtime's handles on a loop that is not luv's (act_loop.c); on
** luv's loop the Lua bridge actress.loop holds luv handles instead.
*/
typedef struct act_loop_handles {
  uv_timer_t *wake;       /* armed for the first deadline */
  uv_idle_t *idle;        /* active while tasks are ready */
} act_loop_handles;

/*
** The per-state runtime, the userdata at registry[ACTRESS_CONTEXT_KEY].
** Its user value is the owned table, which holds every Lua object the
** runtime keeps: live forks at owned[ref] (ref > 0, from luaL_ref),
** pooled coroutines at owned[-1..-npool], and by name the error handler
** ("on_error"), luv's module table ("luv") and the loop bridge ("bridge").
** Closing drops the table, and with it all of them.
*/
struct act_runtime {
  lua_State *L;           /* the main thread */
  uv_loop_t *loop;
  act_loop_handles h;     /* own handles, when not on luv's loop */
  double wake_at;         /* deadline the wake is armed for, or -1 */
  unsigned char idle_on;  /* the idle handle (or the bridge's) is on */
  unsigned char on_luv;   /* the loop is luv's (act_luv.c) */
  unsigned char has_bridge; /* owned.bridge is set */
  unsigned char own_loop; /* the loop is ours to close and free */
  unsigned luv_version;   /* luv's libuv version, 0 if luv is not loaded */
  act_node ready;         /* the run queue */
  size_t nready;
  act_heap timers;
  uint64_t timer_seq;
  act_fork *running;      /* the task being resumed, if any */
  act_link *free_links;   /* recycled links, chained by in_member.next */
  struct link_chunk *link_chunks; /* where links come from */
  lua_Integer next_id;
  double manual_now;      /* manual clock reading */
  uint64_t origin;        /* uv_hrtime() when the runtime was made */
  size_t live;            /* started, unfinished tasks */
  size_t waiting;         /* tasks in ACT_WAITING */
  uint64_t switches;      /* resumes since start */
  int npool;              /* coroutines in the pool */
  int ref_owned;          /* registry reference to the owned table */
  unsigned char manual;   /* the manual clock is selected */
  unsigned char driving;  /* run/await/drain/poll/advance is on the stack */
  unsigned char closed;   /* lua_close (or a host) has closed it */
  actress_ErrorHandler on_error_c; /* the host's handler, or NULL */
  void *on_error_ud;
};

/* {====================================================================
** The core's files
** ===================================================================== */

/* The runtime clock, in ms: libuv's monotonic clock, or the manual one. */
static inline double act__now(const act_runtime *rt) {
  if (rt->manual) return rt->manual_now;
  return (double)(uv_hrtime() - rt->origin) / 1e6;
}

/* act_own.c: what the runtime owns */
act_runtime *act__getruntime(lua_State *L);  /* or NULL; never raises */
act_runtime *act__runtime(lua_State *L);     /* raises if none or closed */
act_runtime *act__upruntime(lua_State *L);   /* upvalue 1; raises if closed */
extern const char act__fork_mt_key;  /* registry[&key]: the Fork metatable */
act_fork *act__testfork(lua_State *L, int idx);  /* a Fork, or NULL */
void act__anchor(lua_State *L, act_fork *f, int idx);
void act__unanchor(lua_State *L, act_fork *f, int owned);
void act__pushfork(lua_State *L, act_fork *f);

/* Pushes the owned table. */
static inline void act__pushowned(lua_State *L, const act_runtime *rt) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->ref_owned);
}

/* Pushes a live fork from the owned table at stack index `owned`; nil
   for a fork the runtime does not hold. */
static inline void act__pushfork_in(lua_State *L, const act_fork *f,
                                    int owned) {
  if (f->ref == LUA_NOREF) lua_pushnil(L);
  else lua_rawgeti(L, owned, f->ref);
}
act_link *act__link_alloc(lua_State *L, act_runtime *rt);
void act__link_release(act_runtime *rt, act_link *k);
void act__free_links(act_runtime *rt);

/* act_runtime.c: the runtime, and driving the loop */
act_runtime *act__pushruntime(lua_State *L); /* made on first use */
void act__close(lua_State *L, act_runtime *rt); /* L NULL: finalizing */
int act__use_loop(lua_State *L, uv_loop_t *loop);
void act__begin_driving(lua_State *L, act_runtime *rt, const char *op);
void act__end_driving(lua_State *L, act_runtime *rt);
void act__drive(lua_State *L, act_runtime *rt, act_fork *until);
int act__poll(lua_State *L, act_runtime *rt, int budget);
int act__advance(lua_State *L, act_runtime *rt, double ms, int budget);
double act__timeout(act_runtime *rt);
int act__work_remains(act_runtime *rt);

/* act_report.c: failures of spawned and top-level tasks, callbacks */
void act__report(lua_State *L, act_runtime *rt, int errindex, int forkindex);
int act__default_on_error(lua_State *L);
void act__push_on_error(lua_State *L, act_runtime *rt);
void act__set_on_error(lua_State *L, act_runtime *rt, int idx);

/* act_loop.c: the handles that run tasks when others run the loop */
void act__loop_open(lua_State *L, act_runtime *rt);
void act__loop_close(lua_State *L, act_runtime *rt); /* L NULL: finalizing */
void act__loop_sync(lua_State *L, act_runtime *rt);
void act__loop_quiet(lua_State *L, act_runtime *rt);
void act__loop_wake_at(lua_State *L, act_runtime *rt, double deadline);
int act__loop_step(lua_State *L, act_runtime *rt);
int act__luv_driving(lua_State *L, act_runtime *rt);

/*
** At the end of an API call: if no task and no driver runs (the call came
** from plain code or a loop callback), lets whoever runs the loop see the
** work (act__loop_sync). Inside tasks and drivers it costs one test.
*/
static inline void act__loop_touch(lua_State *L, act_runtime *rt) {
  if (rt->running == NULL && !rt->driving) act__loop_sync(L, rt);
}

/* act_timer.c */
int act__timer_arm(act_runtime *rt, act_fork *f, double ms);
void act__timer_cancel(act_runtime *rt, act_fork *f);
int act__timer_fire_due(act_runtime *rt, double now);
const act_timer *act__timer_next(const act_runtime *rt);

/* act_sched.c: the run queue and resuming */
void act__enqueue(act_runtime *rt, act_fork *f);
void act__dequeue(act_runtime *rt, act_fork *f);
void act__set_waiting(act_fork *f, int wait);
int act__run_ready(lua_State *L, act_runtime *rt, int budget, act_fork *until);
void act__resume(lua_State *L, act_fork *f);
void act__arm_raise(lua_State *L, act_fork *f);
void act__raise_soon(lua_State *L, act_fork *f);
void act__release_coroutine(lua_State *L, act_fork *f, int owned);
act_fork *act__self(lua_State *L, act_runtime *rt, const char *op);
act_fork *act__self_suspend(lua_State *L, act_runtime *rt, const char *op);

/* act_task.c: a task's life */
act_fork *act__newfork(lua_State *L, act_runtime *rt, int fn, int nargs,
                       int mt);
void act__start(lua_State *L, act_fork *f, int idx);
void act__settle(lua_State *L, act_fork *f, int ok, int first, int n);
void act__settle_unstarted(lua_State *L, act_fork *f, int ok, int first,
                           int n);
int act__pushresults(lua_State *L, act_fork *f, int idx);
void act__pushextra(lua_State *L, int idx);

/* act_group.c: links between waiting tasks and what they wait for */
void act__link(lua_State *L, act_fork *owner, act_fork *member);
int act__unlink_members(lua_State *L, act_fork *owner, int list);
void act__notify_waiters(lua_State *L, act_fork *f, int ok, int err);
int act__join_members(lua_State *L, act_fork *f, int forks, int n,
                      int transform);
int act__failed_member(lua_State *L, int forks, int n);
int act__fail_early(lua_State *L, int forks, int n, int failed);
void act__adopt(lua_State *L, act_fork *owner, act_fork *m, int midx);

/* act_stop.c: abort and exit */
int act__abortable(const act_fork *f);
void act__detach(lua_State *L, act_fork *f);
void act__abort(lua_State *L, act_fork *f, int errindex);
void act__exit(lua_State *L, act_fork *f, int first, int n);

/* act_route.c: messages */
void act__route(lua_State *L, act_fork *from);

/* act_luv.c: sharing luv's loop */
uv_loop_t *act__adopt_luv(lua_State *L, int *pinned, unsigned *version);

/* }==================================================================== */

/* {====================================================================
** The Lua bindings (lact_*.c)
** ===================================================================== */

/* lact_fork.c: the Fork userdata's metatable */
act_fork *act__upfork(lua_State *L, int idx);
act_fork *act__checkfork(lua_State *L, int arg, const char *fname);
void act__open_fork(lua_State *L, int rt);

/* lact_check.c: argument checks that always name the public function */
int act__argerror(lua_State *L, int arg, const char *fname, const char *msg);
int act__typeerror(lua_State *L, int arg, const char *fname,
                   const char *expected);
void act__checkcallable(lua_State *L, int arg, const char *fname);
void act__checktable(lua_State *L, int arg, const char *fname);

/* lact_task.c, lact_control.c, lact_drive.c: the module's functions */
extern const luaL_Reg act__task_functions[];
extern const luaL_Reg act__control_functions[];
extern const luaL_Reg act__drive_functions[];

/* }==================================================================== */

/* Compatibility: closing a thread changed name and arity within 5.4. */
#if LUA_VERSION_RELEASE_NUM >= 50406
#define act_closethread(co, from) lua_closethread(co, from)
#elif LUA_VERSION_RELEASE_NUM >= 50405
#define act_closethread(co, from) lua_resetthread(co, from)
#else
#define act_closethread(co, from) ((void)(from), lua_resetthread(co))
#endif

#endif
