#!/bin/sh
# no_global_state.sh LIB: fails if the static library defines writable
# global or static data (.data, .bss, thread-local or common symbols):
# each lua_State has its own runtime, and the core keeps no state of its
# own. Read-only data (.rodata, .data.rel.ro: const tables of pointers) is
# fine, and so are the sanitizers' own symbols (__odr_asan.*, __asan_*...),
# which instrumented builds add.
set -eu
lib=$1
found=$(objdump -t "$lib" |
  awk 'NF >= 6 && ($4 ~ /^\.(data|bss|tdata|tbss)(\.|$)/ || $4 == "*COM*") &&
       $4 !~ /^\.data\.rel\.ro/ && $(NF-1) !~ /^0+$/ &&
       $NF !~ /^__(odr_asan|asan|tsan|ubsan|sancov)/ { print $4, $NF }' | sort -u)
if [ -n "$found" ]; then
  echo "writable data in $lib:"
  echo "$found"
  exit 1
fi
echo "no writable global or static data in $lib"
