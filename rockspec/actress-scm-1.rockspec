-- rockspec/actress-scm-1.rockspec: the LuaRocks package for actress.
-- Built from a checkout with (offline):
--   luarocks --lua-version 5.4 make rockspec/actress-scm-1.rockspec
-- `make` builds the working tree it is run from and never fetches `source`.
rockspec_format = "3.0"
package = "actress"
version = "scm-1"

source = {
  -- No public repository yet: this is the development checkout.
  url = "git+file:///work/main",
  branch = "main",
}

description = {
  summary = "Tasks for Lua 5.4: fork, join, sleep and messages on a libuv event loop",
  detailed = [[
actress runs plain Lua functions as light-weight tasks on a cooperative
scheduler with a C core on libuv: tasks fork, join, sleep, wait and send
messages, in the model of the JavaScript library `actor`.
]],
  license = "MIT",
  labels = { "coroutines", "tasks", "libuv", "concurrency" },
}

dependencies = {
  "lua >= 5.4, < 5.5",
}

-- LuaRocks checks these before building and fills in LIBUV_INCDIR/LIBDIR.
external_dependencies = {
  LIBUV = {
    header = "uv.h",
    library = "uv",
  },
}

build = {
  type = "cmake",
  -- Passed to cmake as -D flags. LUADIR/LIBDIR switch CMakeLists.txt to
  -- "rock mode": only actress/core.so and lua/actress/*.lua are built and
  -- installed, into these two directories. The module takes its symbols from
  -- the interpreter, so Lua's library is not linked.
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_C_FLAGS = "$(CFLAGS)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LIBUV_INCDIR = "$(LIBUV_INCDIR)",   -- used when libuv has no pkg-config file
    LIBUV_LIBDIR = "$(LIBUV_LIBDIR)",
    LIBDIR = "$(LIBDIR)",
    LUADIR = "$(LUADIR)",
  },
}

-- `luarocks test` after `luarocks make`: the suite with the .busted defaults.
-- (type "busted" would try to install busted as a rock, which needs network.)
test = {
  type = "command",
  command = "busted --lua=lua5.4",
}
