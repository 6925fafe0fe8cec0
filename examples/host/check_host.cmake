# check_host.cmake: runs actress_host for 600 frames and checks its output.
#   cmake -DHOST=<actress_host> -DWORLD=<world.lua> -DOUT=<prefix>
#         -DCHECK=deterministic|runs -P check_host.cmake
# deterministic: two runs must print byte-identical, non-empty output.
# runs: one run must exit 0 and end with the digest line.
# Each run's output is kept in <prefix>.<n>.out for a look after a failure.

foreach(var HOST WORLD OUT CHECK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_host.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run_host n out_var)
  execute_process(
    COMMAND "${HOST}" "${WORLD}" 600
    OUTPUT_FILE "${OUT}.${n}.out"
    ERROR_VARIABLE err
    RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "run ${n} of ${HOST} failed (${status}):\n${err}")
  endif()
  file(READ "${OUT}.${n}.out" text)
  if(text STREQUAL "")
    message(FATAL_ERROR "run ${n} of ${HOST} printed nothing")
  endif()
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

if(CHECK STREQUAL "deterministic")
  run_host(1 first)
  run_host(2 second)
  if(NOT first STREQUAL second)
    message(FATAL_ERROR "the two runs differ: compare ${OUT}.1.out and ${OUT}.2.out")
  endif()
  string(LENGTH "${first}" size)
  message(STATUS "two runs, identical output (${size} bytes)")
elseif(CHECK STREQUAL "runs")
  run_host(1 text)
  if(NOT text MATCHES "\ndigest [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]\n$")
    message(FATAL_ERROR "no final digest line in ${OUT}.1.out:\n${text}")
  endif()
  string(STRIP "${CMAKE_MATCH_0}" digest)
  message(STATUS "final line: ${digest}")
else()
  message(FATAL_ERROR "check_host.cmake: unknown CHECK=${CHECK}")
endif()
