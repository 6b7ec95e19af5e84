# athanor_add_suites(<binary> <prefix> <suite>...)
# Registers one CTest entry per CAF test suite of <binary>. A suite regex that
# matches nothing would "pass" with zero tests, so the fail regex catches
# "tests: 0" in the runner's summary.
function(athanor_add_suites binary prefix)
  foreach(suite IN LISTS ARGN)
    add_test(NAME ${prefix}.${suite}
             COMMAND ${binary} -n -r 120 -s "^${prefix}.${suite}$")
    set_tests_properties(${prefix}.${suite} PROPERTIES
      FAIL_REGULAR_EXPRESSION "tests: +0[^0-9];FAILED"
      TIMEOUT 300)
  endforeach()
endfunction()
