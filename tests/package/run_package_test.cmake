# Installs cebm into a scratch prefix, then builds and runs consumers three ways, each against the
# libtorch of the build that installed it (TORCH_PREFIX on the environment's CMAKE_PREFIX_PATH, so
# Torch's CMake files and libraries come from there and not from another libtorch on the system):
#   1. tests/package with find_package(cebm) against the installed prefix, the compiled cebm::programs too;
#   2. tests/package with add_subdirectory(<cebm source>), and with FetchContent;
#   3. examples/custom_family, out of tree, against the installed prefix: its family checked by the
#      conformance harness, then registered in custom_family_programs, trained with the installed
#      train_cebm's entry point and evaluated, full report, with evaluate's;
#   4. the installed train_cebm and evaluate themselves, evaluate run from another folder finding
#      the MNIST digits installed beside it (when the checkout has them).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

# The installing build's compiler launcher (LAUNCHER, its list joined by '|'), handed to every
# consumer through an initial cache file, since a list does not cross execute_process as one
# argument. With ccache, the add_subdirectory and FetchContent consumers compile the same units
# with the same relative paths (both put cebm's build in _deps/cebm-build), so the second is a hit.
set(launcher_cache)
if(LAUNCHER)
  string(REPLACE "|" ";" launcher "${LAUNCHER}")
  file(WRITE ${WORK_DIR}/launcher.cmake "set(CMAKE_CXX_COMPILER_LAUNCHER \"${launcher}\" CACHE STRING \"\")\n")
  set(launcher_cache -C ${WORK_DIR}/launcher.cmake)
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
  set(run_output "${out}${err}" PARENT_SCOPE)
endfunction()
# run(), then the output must match `regex`.
function(run_expect regex)
  run(${ARGN})
  if(NOT run_output MATCHES "${regex}")
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "expected output matching '${regex}' from: ${cmd}\n${run_output}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/share/cmake/cebm/cebmConfig.cmake OR NOT EXISTS ${prefix}/include/cebm/version.hpp)
  message(FATAL_ERROR "the install tree lacks cebmConfig.cmake or version.hpp")
endif()

foreach(mode find_package add_subdirectory fetchcontent)
  set(build ${WORK_DIR}/consumer-${mode})
  run(${CMAKE_COMMAND} -E env CMAKE_PREFIX_PATH=${TORCH_PREFIX} ${CMAKE_COMMAND} ${launcher_cache} -S ${SOURCE_DIR}/tests/package -B ${build} -G ${GENERATOR}
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
run(${CMAKE_COMMAND} -E env CMAKE_PREFIX_PATH=${TORCH_PREFIX} ${CMAKE_COMMAND} ${launcher_cache} -S ${SOURCE_DIR}/examples/custom_family -B ${build} -G ${GENERATOR}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} -DCUSTOM_FAMILY_TORCH=ON)
run(${CMAKE_COMMAND} --build ${build} --target custom_family custom_family_programs)
run(${build}/custom_family)

set(kind cebm_exponential_rate_shifted_softplus)
set(small_evaluation --threads 2 --train-images 500 --test-images 200 --draws 1 --long-run-steps 3 --long-run-chains 8
    --fd none --no-pixels)
run_expect("\"iterations\": 6,.*\"model\": \"${kind}\"" ${build}/custom_family_programs train --model ${kind}
    --preset ci --out ${WORK_DIR}/family_run --threads 2 --train-subset 500 --eval-images 200)
run_expect("report: .*family_run/report.md" ${build}/custom_family_programs evaluate --run ${WORK_DIR}/family_run
    ${small_evaluation} --ood constant,noise)
file(READ ${WORK_DIR}/family_run/report.json report)
foreach(section few_label nn1 ood aggregate_posterior samples)
  string(JSON value ERROR_VARIABLE missing GET "${report}" ${section})
  if(missing)
    message(FATAL_ERROR "the report of the user's family lacks its ${section} section: ${missing}")
  endif()
endforeach()

foreach(program train_cebm train_clel train_baseline evaluate)
  run_expect("Usage:" ${prefix}/bin/${program} --help)
endforeach()
if(EXISTS ${SOURCE_DIR}/data/mnist/mnist_5k.csv.gz)
  run(${prefix}/bin/train_cebm --preset ci --iterations 2 --out ${WORK_DIR}/installed_run --threads 2 --train-subset 200
      --eval-images 100)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=CEBM_MNIST ${prefix}/bin/evaluate --run ${WORK_DIR}/installed_run
                          ${small_evaluation} --ood mnist
                  WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT "${out}${err}" MATCHES "OOD set mnist: [0-9]+ digits from ${prefix}/share/cebm/mnist")
    message(FATAL_ERROR "the installed evaluate did not read the installed MNIST digits (exit ${rc}):\n${out}\n${err}")
  endif()
endif()
