# cmake -P script: install BUILD_DIR into WORK_DIR/prefix, build SOURCE_DIR against it, run it.
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE r OUTPUT_QUIET)
if(r)
  message(FATAL_ERROR "install failed: ${r}")
endif()
foreach(h bencode/decoder.hpp krpc/codec.hpp metainfo/verify.hpp common/id160.hpp)
  if(NOT EXISTS ${WORK_DIR}/prefix/include/bitscrape/${h})
    message(FATAL_ERROR "header bitscrape/${h} not installed")
  endif()
endforeach()
# Sanitizer builds: the consumer links the instrumented libraries, so it needs the same flags.
set(FLAGS "")
if(SANITIZE)
  set(FLAGS "-fsanitize=address,undefined")
endif()
set(link_flags "${FLAGS}")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
                        -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
                        "-DCMAKE_CXX_FLAGS=${FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${link_flags}"
                RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "configuring the consumer against the installed package failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE r)
if(r)
  message(FATAL_ERROR "building the consumer failed")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE r OUTPUT_VARIABLE out)
message(STATUS "consumer says: ${out}")
if(r OR NOT out MATCHES "ping-ok")
  message(FATAL_ERROR "the consumer did not run correctly: ${out}")
endif()
