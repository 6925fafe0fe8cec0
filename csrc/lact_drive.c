/*
** lact_drive.c: the functions that drive the loop from outside tasks
** (run, await, drain, poll, advance: API §3), the clock, diagnostics and
** error handling (stats, on_error: §7), and what the Lua layer needs to
** share luv's loop (luv_status, set_loop_bridge, step) or to close the
** runtime (close).
*/

#include <math.h>
#include <string.h>

#include "act_int.h"

/* {====================================================================
** Drivers
** ===================================================================== */

/* Drives the loop until the fork at idx finishes; returns its results. */
static int drive_fork(lua_State *L, act_runtime *rt, act_fork *f, int idx) {
  if (f->state == ACT_IDLE) act__start(L, f, idx);
  act__drive(L, rt, f);
  act__end_driving(L, rt);
  return act__pushresults(L, f, idx);
}

static int l_run(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f;
  act__checkcallable(L, 1, "run");
  f = act__newfork(L, rt, 1, lua_gettop(L) - 1, lua_upvalueindex(2));
  act__begin_driving(L, rt, "run");
  return drive_fork(L, rt, f, lua_gettop(L));
}

static int l_await(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act_fork *f = act__checkfork(L, 1, "await");
  lua_settop(L, 1);
  act__begin_driving(L, rt, "await");
  return drive_fork(L, rt, f, 1);
}

static int l_drain(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act__begin_driving(L, rt, "drain");
  act__drive(L, rt, NULL);
  act__end_driving(L, rt);
  return 0;
}

static int l_poll(lua_State *L) {
  lua_pushboolean(L, act__poll(L, act__upruntime(L), -1));
  return 1;
}

static int l_advance(lua_State *L) {
  double ms;
  if (lua_type(L, 1) != LUA_TNUMBER) act__typeerror(L, 1, "advance", "number");
  ms = lua_tonumber(L, 1);
  if (!(ms >= 0) || ms == HUGE_VAL)
    act__argerror(L, 1, "advance", "non-negative finite number expected");
  act__advance(L, act__upruntime(L), ms, -1);
  return 0;
}

/* }==================================================================== */

/* {====================================================================
** The clock
** ===================================================================== */

static int l_now(lua_State *L) {
  lua_pushnumber(L, act__now(act__upruntime(L)));
  return 1;
}

static int l_set_clock(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  const char *mode = lua_tostring(L, 1);
  int manual;
  if (lua_type(L, 1) != LUA_TSTRING) act__typeerror(L, 1, "set_clock", "string");
  if (strcmp(mode, "manual") == 0) manual = 1;
  else if (strcmp(mode, "system") == 0) manual = 0;
  else
    return act__argerror(L, 1, "set_clock", lua_pushfstring(L,
                         "invalid option '%s' (\"manual\" or \"system\")", mode));
  if (act__timer_next(rt) != NULL)
    return luaL_error(L, "actress: cannot switch clocks while a timer is "
                         "pending");
  rt->manual = (unsigned char)manual;
  rt->manual_now = 0;
  return 0;
}

/* }==================================================================== */

/* {====================================================================
** Diagnostics and errors
** ===================================================================== */

static void setint(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static int l_stats(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  lua_createtable(L, 0, 6);
  setint(L, "tasks", (lua_Integer)rt->live);
  setint(L, "ready", (lua_Integer)rt->nready);
  setint(L, "suspended", (lua_Integer)rt->waiting);
  setint(L, "timers", (lua_Integer)rt->timers.n);
  setint(L, "switches", (lua_Integer)rt->switches);
  setint(L, "pooled", rt->npool);
  return 1;
}

static int l_on_error(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  if (!lua_isnoneornil(L, 1)) act__checkcallable(L, 1, "on_error");
  lua_settop(L, 1);
  act__push_on_error(L, rt);  /* the previous one, returned */
  act__set_on_error(L, rt, 1);
  return 1;
}

/*
** close(): closes the runtime for good, as actress_close does (for hosts
** and tests; not part of the module `actress`). Raises if a task or a
** driver runs.
*/
static int l_close(lua_State *L) {
  act_runtime *rt = act__getruntime(L);
  if (rt == NULL || rt->closed) return 0;
  if (rt->driving || rt->running != NULL)
    return luaL_error(L, "actress: cannot close the runtime while it runs");
  act__close(L, rt);
  return 0;
}

/* }==================================================================== */

/* {====================================================================
** Sharing luv's loop
** ===================================================================== */

/*
** luv_status(): "shared" (actress drives luv's loop), "absent" (luv could
** not be loaded when the runtime was made) or "separate" (luv runs on
** another copy of libuv, so each has its loop); then luv's libuv version
** and actress's, as strings ("1.44.2").
*/
static void push_version(lua_State *L, unsigned v) {
  if (v == 0) lua_pushnil(L);
  else lua_pushfstring(L, "%d.%d.%d", (int)(v >> 16) & 0xff,
                       (int)(v >> 8) & 0xff, (int)v & 0xff);
}

static int l_luv_status(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  if (rt->on_luv) lua_pushliteral(L, "shared");
  else if (rt->luv_version == 0) lua_pushliteral(L, "absent");
  else lua_pushliteral(L, "separate");
  push_version(L, rt->luv_version);
  push_version(L, uv_version());
  return 3;
}

/*
** set_loop_bridge(b): on luv's loop, the Lua bridge (lua/actress/loop.lua),
** a table whose b.sync(idle, delay_ms) sets its luv handles and whose
** b.driving() tells whether uv.run() drives the loop. The runtime keeps
** it for its life, so that the module loaded again (busted does, for each
** spec file) finds the same handles with loop_bridge(). Returns false
** (and keeps nothing) when the loop is not luv's.
*/
static int l_set_loop_bridge(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  act__checktable(L, 1, "set_loop_bridge");
  if (!rt->on_luv) {
    lua_pushboolean(L, 0);
    return 1;
  }
  act__pushowned(L, rt);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "bridge");
  rt->has_bridge = 1;
  act__loop_touch(L, rt);
  lua_pushboolean(L, 1);
  return 1;
}

/* loop_bridge(): the bridge set by set_loop_bridge, or nil. */
static int l_loop_bridge(lua_State *L) {
  act__pushowned(L, act__upruntime(L));
  lua_getfield(L, -1, "bridge");
  return 1;
}

/*
** step([woken]): for the bridge's luv callbacks; see act__loop_step.
** woken: the bridge's wake timer fired (so it is no longer armed).
** Returns false when the loop run should stop (it was started from
** inside a task).
*/
static int l_step(lua_State *L) {
  act_runtime *rt = act__upruntime(L);
  if (lua_toboolean(L, 1)) rt->wake_at = -1;
  lua_pushboolean(L, act__loop_step(L, rt));
  return 1;
}

/* }==================================================================== */

const luaL_Reg act__drive_functions[] = {
  {"run", l_run}, {"await", l_await}, {"drain", l_drain},
  {"poll", l_poll}, {"advance", l_advance}, {"now", l_now},
  {"set_clock", l_set_clock}, {"stats", l_stats}, {"on_error", l_on_error},
  {"close", l_close}, {"luv_status", l_luv_status},
  {"set_loop_bridge", l_set_loop_bridge}, {"loop_bridge", l_loop_bridge},
  {"step", l_step},
  {NULL, NULL}
};
