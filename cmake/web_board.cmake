# The browser board (wallboard/web): an Emscripten build of its own, run as an external project
# so its toolchain never mixes with the native one. Built when emcmake is installed and the ImGui
# and simdjson sources were fetched (./callwatch.sh build passes them, from
# cmake/fetch-web-sources.sh); the output goes to share/callwatch/board, where callwatchd looks.
# Without it, callwatchd's /board says what is missing.
set(CALLWATCH_BOARD_OUT ${CMAKE_BINARY_DIR}/share/callwatch/board)
find_program(CALLWATCH_EMCMAKE emcmake)
set(CALLWATCH_WEB_BOARD_BUILT OFF)
if(NOT CALLWATCH_EMCMAKE)
  message(STATUS "browser board: not built (no emcmake: apt-get install emscripten)")
elseif(NOT CALLWATCH_IMGUI_SRC OR NOT CALLWATCH_SIMDJSON_SRC)
  message(STATUS "browser board: not built (CALLWATCH_IMGUI_SRC / CALLWATCH_SIMDJSON_SRC not set: "
                 "cmake/fetch-web-sources.sh)")
else()
  include(ExternalProject)
  # Debian's emscripten finds its JS tools (acorn) under /usr/share/nodejs.
  set(web_env ${CMAKE_COMMAND} -E env NODE_PATH=/usr/share/nodejs)
  ExternalProject_Add(web_board
    SOURCE_DIR ${CMAKE_SOURCE_DIR}/wallboard/web
    BINARY_DIR ${CMAKE_BINARY_DIR}/web
    CONFIGURE_COMMAND ${web_env} ${CALLWATCH_EMCMAKE} ${CMAKE_COMMAND} -S <SOURCE_DIR> -B <BINARY_DIR>
      -G Ninja -DCMAKE_BUILD_TYPE=Release -DCALLWATCH_VERSION=${PROJECT_VERSION}
      -DCALLWATCH_IMGUI_SRC=${CALLWATCH_IMGUI_SRC} -DCALLWATCH_SIMDJSON_SRC=${CALLWATCH_SIMDJSON_SRC}
      -DCMAKE_INSTALL_PREFIX=${CALLWATCH_BOARD_OUT}
    BUILD_COMMAND ${web_env} ${CMAKE_COMMAND} --build <BINARY_DIR>
    # Precompressed beside the originals: callwatchd sends the .gz to browsers that take gzip.
    INSTALL_COMMAND ${CMAKE_COMMAND} --install <BINARY_DIR>
      COMMAND gzip -9kf ${CALLWATCH_BOARD_OUT}/callwatch-board.js ${CALLWATCH_BOARD_OUT}/callwatch-board.wasm
    BUILD_ALWAYS ON
    USES_TERMINAL_BUILD ON)
  add_dependencies(callwatchd web_board)
  set(CALLWATCH_WEB_BOARD_BUILT ON)
  message(STATUS "browser board: built into ${CALLWATCH_BOARD_OUT}")
endif()
