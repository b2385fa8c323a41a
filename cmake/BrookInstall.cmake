# `cmake --install <build> --prefix <p>` lays out what a user's project needs:
#   <p>/include/brook/<module>/...   the public headers, and the internal/
#                                    ones the public templates include
#   <p>/lib/libbrook_<module>.a      the libraries
#   <p>/lib/cmake/Brook/             BrookConfig.cmake: find_package(Brook)
#                                    gives Brook::brook (everything) and
#                                    Brook::<module>, with their dependencies
#                                    found again on the user's machine
#   <p>/lib/pkgconfig/brook.pc       the same for pkg-config users
# tests/install/ is a project built against such a prefix in CI
# (scripts/test-install).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Brook::brook: every library a Brook application may use (target
# brook_all here: `brook` is the command-line tool's executable).
add_library(brook_all INTERFACE)
target_link_libraries(brook_all INTERFACE brook_operators brook_metrics
                      brook_runtime brook_topology_test_driver)
set_target_properties(brook_all PROPERTIES EXPORT_NAME brook)
add_library(brook::brook ALIAS brook_all)

# The public headers (a module's root), and of the internal/ ones only those
# a public header includes: the DSL's and the processor API's templates are
# instantiated in the user's code, so operators/internal/ and the runtime's
# processor-node, node-spec, task-context, store-wrapper, client-factory and
# worker-pool headers go with them. The rest (tasks, threads, the producer
# and restore machinery, the librdkafka and RocksDB wrappers) stays out of
# the package, so no user code can include it. scripts/test-install compiles
# every installed public header against the prefix: a public header that
# starts including another internal header fails there until it is listed.
set(BROOK_INSTALLED_INTERNAL_HEADERS
    runtime/internal/client_factory.h runtime/internal/delegating_store.h
    runtime/internal/node_spec.h runtime/internal/processor_node.h
    runtime/internal/task_context.h runtime/internal/worker_pool.h)
file(GLOB brook_operators_internal RELATIVE ${PROJECT_SOURCE_DIR}
     ${PROJECT_SOURCE_DIR}/operators/internal/*.h)
list(APPEND BROOK_INSTALLED_INTERNAL_HEADERS ${brook_operators_internal})
foreach(module IN LISTS BROOK_MODULES)
  file(GLOB brook_public_headers ${PROJECT_SOURCE_DIR}/${module}/*.h)
  install(FILES ${brook_public_headers}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/brook/${module})
endforeach()
foreach(header IN LISTS BROOK_INSTALLED_INTERNAL_HEADERS)
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/brook/${dir})
endforeach()

get_property(brook_library_targets GLOBAL PROPERTY BROOK_LIBRARY_TARGETS)
install(TARGETS brook_all brook_proto ${brook_library_targets}
        EXPORT BrookTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT BrookTargets NAMESPACE Brook::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Brook)
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/BrookConfig.cmake.in
  ${PROJECT_BINARY_DIR}/BrookConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Brook)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/BrookConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/BrookConfig.cmake
              ${PROJECT_BINARY_DIR}/BrookConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Brook)

# The .pc file finds its prefix from where it lies, so the prefix given to
# `cmake --install --prefix` (not only CMAKE_INSTALL_PREFIX) works.
file(RELATIVE_PATH BROOK_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" BROOK_PC_TO_PREFIX "${BROOK_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/brook.pc.in
               ${PROJECT_BINARY_DIR}/brook.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/brook.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
