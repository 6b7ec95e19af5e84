# `cmake --install`: the athanor binary, libathanor.so with its public
# headers (include/athanor/ and the message types they name, under
# athanor/messages/; no internal header),
# a CMake package (find_package(athanor) -> athanor::athanor) and a
# pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ATHANOR_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/athanor")

install(TARGETS athanor RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(TARGETS athanor_library EXPORT athanorTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/athanor"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
# Exactly what include/athanor/*.hpp reach, directly or not. A header added
# there that names another message type fails install.example_host until it
# is listed here.
set(ATHANOR_PUBLIC_MESSAGE_HEADERS atoms breaker decimal engine_errc execution
  handles history market metrics orders stream supervision trace)
list(TRANSFORM ATHANOR_PUBLIC_MESSAGE_HEADERS
  REPLACE "(.+)" "${PROJECT_SOURCE_DIR}/messages/\\1.hpp")
install(FILES ${ATHANOR_PUBLIC_MESSAGE_HEADERS}
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/athanor/messages")
install(EXPORT athanorTargets NAMESPACE athanor::
  DESTINATION "${ATHANOR_CMAKE_DIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/athanorConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/athanorConfig.cmake"
  INSTALL_DESTINATION "${ATHANOR_CMAKE_DIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/athanorConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/athanorConfig.cmake"
  "${PROJECT_BINARY_DIR}/athanorConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake"
  DESTINATION "${ATHANOR_CMAKE_DIR}")

# Relocatable: the prefix is found from the .pc file's own place, so
# `cmake --install --prefix DIR` needs no reconfiguring.
file(RELATIVE_PATH ATHANOR_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig"
  "/p")
configure_file("${PROJECT_SOURCE_DIR}/cmake/athanor.pc.in"
  "${PROJECT_BINARY_DIR}/athanor.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/athanor.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
