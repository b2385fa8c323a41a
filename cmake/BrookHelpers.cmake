# brook_cc_library(NAME <n> HDRS <public headers> SRCS <sources> DEPS <targets>)
# Creates target brook_<n> and its alias brook::<n>. Other targets depend on
# the alias, so a misspelt name fails at configure time.
function(brook_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "HDRS;SRCS;DEPS" ${ARGN})
  set(target brook_${ARG_NAME})
  if(ARG_SRCS)
    add_library(${target} ${ARG_SRCS} ${ARG_HDRS})
    target_link_libraries(${target} PUBLIC ${ARG_DEPS})
    target_compile_options(${target} PRIVATE ${BROOK_WARNINGS})
    target_include_directories(${target} PUBLIC
      $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include> $<INSTALL_INTERFACE:include>)
  else()
    add_library(${target} INTERFACE)
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
    target_include_directories(${target} INTERFACE
      $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include> $<INSTALL_INTERFACE:include>)
  endif()
  add_library(brook::${ARG_NAME} ALIAS ${target})
  set_property(GLOBAL APPEND PROPERTY BROOK_LIBRARY_TARGETS ${target})
endfunction()

# brook_cc_test(NAME <n> SRCS <..> DEPS <..> [LABELS <..>] [FIXTURES <..>])
# A GoogleTest binary; each TEST becomes one CTest test. Tests that need the
# broker name the `kafka_broker` fixture, which starts it if none runs.
function(brook_cc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS;FIXTURES" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_options(${ARG_NAME} PRIVATE ${BROOK_WARNINGS})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  # Paths the tests need are compiled into brook_testing, not passed in
  # ENVIRONMENT: a ';' inside a property value does not survive
  # gtest_discover_tests.
  set(props LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
  if(ARG_FIXTURES)
    list(APPEND props FIXTURES_REQUIRED "${ARG_FIXTURES}" RESOURCE_LOCK kafka_broker)
  endif()
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
  if("unit" IN_LIST ARG_LABELS)
    set_property(GLOBAL APPEND PROPERTY BROOK_UNIT_TEST_TARGETS ${ARG_NAME})
  endif()
endfunction()
