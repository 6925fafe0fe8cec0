/*
** act_int.h: internal declarations shared by the files of the C core.
** act_* files are plain C; lact_* files are the Lua glue (they resume
** coroutines, so the scheduler itself is Lua glue).
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
** Timer heap (act_heap.c): a binary min-heap ordered by deadline, then
** by start order, so equal deadlines fire in the order they were armed.
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
** share a few coroutines.
*/
struct act_fork {
  act_runtime *rt;
  lua_State *co;          /* the coroutine; NULL when finished */
  act_node qnode;         /* in rt->ready while queued */
  act_node waiters;       /* links of the tasks waiting for this one */
  act_node members;       /* links of the tasks this one waits for */
  act_timer timer;
  lua_Integer id;
  int ref;                /* its anchor in the runtime while it lives */
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

/* The per-state runtime, the userdata at registry[ACTRESS_CONTEXT_KEY]. */
struct act_runtime {
  lua_State *L;           /* the main thread */
  uv_loop_t *loop;
  uv_timer_t *wake;       /* lact_handles.c: armed for the first deadline */
  uv_idle_t *idle;        /* ... and active while tasks are ready */
  int ref_handles;        /* ... or, on luv's loop, luv's handles */
  double wake_at;         /* the deadline `wake` is armed for, or -1 */
  unsigned char idle_on;  /* `idle` is started */
  int ref_luv;            /* luv's module table when sharing its loop */
  unsigned luv_version;   /* luv's libuv version, 0 if luv is not loaded */
  unsigned char luv_running; /* uv.run() is driving the loop */
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
  unsigned char manual;   /* the manual clock is selected */
  unsigned char driving;  /* run/await/drain/poll/advance is on the stack */
  unsigned char closed;   /* lua_close (or a host) has closed it */
  unsigned char own_loop; /* the loop is ours to close and free */
  /* Registry references (integer keys: the registry's array part, the
     fastest look-up there is). Live forks are anchored the same way. */
  int ref_pool;           /* table of pooled coroutines */
  int ref_on_error;       /* the error handler, or false for the default */
};

/* lact_runtime.c */
act_runtime *act__runtime(lua_State *L);     /* from the registry; raises */
act_runtime *act__upruntime(lua_State *L);   /* from upvalue 1; raises */
double act__now(act_runtime *rt);
void act__begin_driving(lua_State *L, act_runtime *rt, const char *op);
void act__end_driving(act_runtime *rt);
void act__drive(lua_State *L, act_runtime *rt, act_fork *until);
int act__poll(lua_State *L, act_runtime *rt, int budget);
void act__advance(lua_State *L, act_runtime *rt, double ms);
int act__advance_budget(lua_State *L, act_runtime *rt, double ms, int budget);
void act__report(lua_State *L, act_runtime *rt, int errindex, int forkindex);
int act__default_on_error(lua_State *L);
void act__close(act_runtime *rt, int finalizing);

/* lact_handles.c: the handles that run tasks when others run the loop */
void act__handles_open(lua_State *L, act_runtime *rt);
void act__handles_close(act_runtime *rt, int finalizing);
void act__sync_handles(act_runtime *rt);
void act__quiet_handles(act_runtime *rt);
void act__set_wake(act_runtime *rt, double deadline);

/* lact_luv.c: sharing luv's loop */
uv_loop_t *act__adopt_luv(lua_State *L, int *ref, unsigned *version);
int act__luv_running(lua_State *L, act_runtime *rt);
void act__guard_luv(lua_State *L, act_runtime *rt, int rtidx);

/* lact_sched.c: the scheduler */
void act__enqueue(act_runtime *rt, act_fork *f);
void act__dequeue(act_runtime *rt, act_fork *f);
int act__run_ready(lua_State *L, act_runtime *rt, int budget, act_fork *until);
void act__resume(lua_State *L, act_fork *f);
void act__free_links(act_runtime *rt);
void act__start(lua_State *L, act_fork *f, int idx);
void act__abort(lua_State *L, act_fork *f, int errindex);
void act__exit(lua_State *L, act_fork *f, int first, int n);
void act__route(lua_State *L, act_fork *from);
void act__set_waiting(act_fork *f, int wait);
void act__link(lua_State *L, act_fork *owner, act_fork *member);
act_fork *act__self(lua_State *L, act_runtime *rt, const char *op);
act_fork *act__self_suspend(lua_State *L, act_runtime *rt, const char *op);
int act__fire_due(act_runtime *rt, double now);

/* lact_fork.c: the Fork userdata */
extern const char act__fork_mt_key;  /* registry[&key]: the Fork metatable */
act_fork *act__newfork(lua_State *L, act_runtime *rt, int fn, int nargs);
act_fork *act__checkfork(lua_State *L, int arg, const char *fname);
act_fork *act__testfork(lua_State *L, int idx);
act_fork *act__upfork(lua_State *L, int idx);
act_fork *act__checkanyfork(lua_State *L, int arg, const char *fname);
void act__pushfork(lua_State *L, act_fork *f);
void act__anchor(lua_State *L, act_fork *f, int idx);
void act__unanchor(lua_State *L, act_fork *f);
int act__pushresults(lua_State *L, act_fork *f, int idx);
void act__pushextra(lua_State *L, int idx);
void act__open_fork(lua_State *L, int rt);

/* lact_check.c: argument checks that always name the public function */
int act__argerror(lua_State *L, int arg, const char *fname, const char *msg);
int act__typeerror(lua_State *L, int arg, const char *fname,
                   const char *expected);
void act__checkcallable(lua_State *L, int arg, const char *fname);
void act__checktable(lua_State *L, int arg, const char *fname);

/* lact_ops.c: the Lua functions of the module */
void act__open_ops(lua_State *L);

/* Compatibility: closing a thread changed name and arity within 5.4. */
#if LUA_VERSION_RELEASE_NUM >= 50406
#define act_closethread(co, from) lua_closethread(co, from)
#elif LUA_VERSION_RELEASE_NUM >= 50405
#define act_closethread(co, from) lua_resetthread(co, from)
#else
#define act_closethread(co, from) ((void)(from), lua_resetthread(co))
#endif

#endif
