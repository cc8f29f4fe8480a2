# Installation: headers, libshunt.so (+ soname links), libshunt.a, the shunt
# tool, a CMake package (find_package(shunt) -> shunt::shunt and
# shunt::shunt_static) and a pkg-config file (shunt.pc).
include(CMakePackageConfigHelpers)

set(SHUNT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/shunt
    CACHE STRING "Where to install the shunt CMake package files")
set(SHUNT_INSTALL_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig
    CACHE STRING "Where to install shunt.pc")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/shunt
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT shunt_dev
        FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

install(TARGETS shunt shunt_static
        EXPORT shuntTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
                COMPONENT shunt_runtime NAMELINK_COMPONENT shunt_dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT shunt_dev
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT shunt_runtime
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

if(TARGET shunt_tool)
  install(TARGETS shunt_tool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT shunt_runtime)
endif()

install(EXPORT shuntTargets
        NAMESPACE shunt::
        FILE shuntTargets.cmake
        DESTINATION ${SHUNT_INSTALL_CMAKEDIR}
        COMPONENT shunt_dev)

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/shuntConfig.cmake.in
  ${PROJECT_BINARY_DIR}/shuntConfig.cmake
  INSTALL_DESTINATION ${SHUNT_INSTALL_CMAKEDIR})
# 0.x releases make no compatibility promise across minor versions.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/shuntConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/shuntConfig.cmake
              ${PROJECT_BINARY_DIR}/shuntConfigVersion.cmake
        DESTINATION ${SHUNT_INSTALL_CMAKEDIR}
        COMPONENT shunt_dev)

# shunt.pc is relocatable: its prefix is derived from its own location
# (${pcfiledir}), so `cmake --install --prefix X` yields a working file.
if(IS_ABSOLUTE "${SHUNT_INSTALL_PKGCONFIGDIR}" OR
   IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR
   IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SHUNT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _shunt_pc_up "/r/${SHUNT_INSTALL_PKGCONFIGDIR}" "/r")
  string(REGEX REPLACE "/$" "" _shunt_pc_up "${_shunt_pc_up}")
  set(SHUNT_PC_PREFIX "\${pcfiledir}/${_shunt_pc_up}")
  unset(_shunt_pc_up)
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(SHUNT_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(SHUNT_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SHUNT_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(SHUNT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/shunt.pc.in
               ${PROJECT_BINARY_DIR}/shunt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/shunt.pc
        DESTINATION ${SHUNT_INSTALL_PKGCONFIGDIR}
        COMPONENT shunt_dev)

# End-to-end check of everything above: install into a temporary prefix and
# build + run a consumer through find_package and through pkg-config.
if(SHUNT_BUILD_TESTS)
  set(_shunt_consumer_flags "")
  if(SHUNT_SANITIZE STREQUAL "address")
    set(_shunt_consumer_flags "-fsanitize=address,undefined")
  elseif(SHUNT_SANITIZE STREQUAL "thread")
    set(_shunt_consumer_flags "-fsanitize=thread")
  endif()
  add_test(NAME install_package
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check_install.sh
                   ${PROJECT_BINARY_DIR}
                   ${CMAKE_CURRENT_LIST_DIR}/consumer
                   ${CMAKE_C_COMPILER} ${CMAKE_CXX_COMPILER}
                   "${_shunt_consumer_flags}")
  set_tests_properties(install_package PROPERTIES TIMEOUT 300)
  unset(_shunt_consumer_flags)
endif()
