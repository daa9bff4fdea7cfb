# bitscrape_add_library(<layer> [DEPS <targets>...])
# Builds src/<layer>/*.cpp into the library target bitscrape_<layer> (alias BitScrape::<layer>),
# installs its headers under include/bitscrape/<layer>/ and exports it. Sources include
# each other as "<layer>/<file>.hpp" (the include root is src/).
function(bitscrape_add_library layer)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  file(GLOB hdrs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.hpp)
  set(target bitscrape_${layer})
  if(srcs)
    add_library(${target} STATIC ${srcs} ${hdrs})
    set(scope PUBLIC)
  else()
    add_library(${target} INTERFACE ${hdrs})
    set(scope INTERFACE)
  endif()
  add_library(BitScrape::${layer} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${layer} OUTPUT_NAME bitscrape_${layer})
  target_include_directories(${target} ${scope}
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>
    # Installed: consumers write <bitscrape/bencode/decoder.hpp>; the headers' own includes
    # ("common/result.hpp") resolve through include/bitscrape.
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/bitscrape>)
  target_compile_features(${target} ${scope} cxx_std_20)
  if(ARG_DEPS)
    target_link_libraries(${target} ${scope} ${ARG_DEPS})
  endif()
  if(srcs)
    bitscrape_warnings(${target})
  endif()
  install(TARGETS ${target} EXPORT BitScrapeTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(FILES ${hdrs} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/bitscrape/${layer})
endfunction()

function(bitscrape_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Wnon-virtual-dtor -Woverloaded-virtual)
endfunction()
