# Installs cebm into a scratch prefix, then builds and runs consumers three ways, each against the
# libtorch of the build that installed it (TORCH_PREFIX on the environment's CMAKE_PREFIX_PATH, so
# Torch's CMake files and libraries come from there and not from another libtorch on the system):
#   1. tests/package with find_package(cebm) against the installed prefix, the compiled cebm::programs too;
#   2. tests/package with add_subdirectory(<cebm source>), and with FetchContent;
#   3. examples/custom_family, out of tree, against the installed prefix.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/share/cmake/cebm/cebmConfig.cmake OR NOT EXISTS ${prefix}/include/cebm/version.hpp)
  message(FATAL_ERROR "the install tree lacks cebmConfig.cmake or version.hpp")
endif()

foreach(mode find_package add_subdirectory fetchcontent)
  set(build ${WORK_DIR}/consumer-${mode})
  run(${CMAKE_COMMAND} -E env CMAKE_PREFIX_PATH=${TORCH_PREFIX} ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package -B ${build} -G ${GENERATOR}
      -DCMAKE_BUILD_TYPE=Release -DCEBM_CONSUMER_MODE=${mode} -DCEBM_SOURCE_DIR=${SOURCE_DIR}
      -DCMAKE_PREFIX_PATH=${prefix})
  run(${CMAKE_COMMAND} --build ${build})
  run(${build}/consumer_core)
  run(${build}/consumer_torch)
  if(mode STREQUAL "find_package")
    run(${build}/consumer_programs)
  endif()
endforeach()

set(build ${WORK_DIR}/custom_family)
run(${CMAKE_COMMAND} -E env CMAKE_PREFIX_PATH=${TORCH_PREFIX} ${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/custom_family -B ${build} -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${build})
run(${build}/custom_family)
