# Debian packages (`./callwatch.sh package`, DESIGN.md "Added in the second round"):
#   callwatchd_VERSION_amd64.deb           daemon, simulator, systemd unit, sysusers, the example
#                                          config as a conffile in /etc/callwatch, ops kit examples
#   callwatch-wallboard_VERSION_amd64.deb  the board and its kiosk unit
# CPack's DEB generator with dpkg-shlibdeps, so the Depends are what the binaries link.
include(GNUInstallDirs)

set(PKG_DIR ${CMAKE_SOURCE_DIR}/packaging/debian)
set(PKG_GEN ${CMAKE_BINARY_DIR}/packaging)

# The units as shipped in config/systemd name /usr/local/bin (a hand install); packaged: /usr/bin.
foreach(unit callwatchd.service callwatch-wallboard-kiosk.service)
  file(READ ${CMAKE_SOURCE_DIR}/config/systemd/${unit} text)
  string(REPLACE "/usr/local/bin/" "/usr/bin/" text "${text}")
  file(WRITE ${PKG_GEN}/${unit} "${text}")
endforeach()

install(TARGETS callwatchd callwatch-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT daemon)
install(FILES ${PKG_GEN}/callwatchd.service DESTINATION lib/systemd/system COMPONENT daemon)
install(FILES ${CMAKE_SOURCE_DIR}/config/systemd/callwatch.sysusers.conf DESTINATION lib/sysusers.d
        RENAME callwatch.conf COMPONENT daemon)
install(FILES ${CMAKE_SOURCE_DIR}/config/callwatch.toml DESTINATION /etc/callwatch COMPONENT daemon)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/config/prometheus ${CMAKE_SOURCE_DIR}/config/grafana
        DESTINATION ${CMAKE_INSTALL_DATADIR}/callwatch COMPONENT daemon)
install(FILES ${PKG_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/callwatchd COMPONENT daemon)
# The browser board (cmake/web_board.cmake), served by the daemon from /usr/share/callwatch/board.
if(CALLWATCH_WEB_BOARD_BUILT)
  install(DIRECTORY ${CALLWATCH_BOARD_OUT} DESTINATION ${CMAKE_INSTALL_DATADIR}/callwatch COMPONENT daemon)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/docs/running.md ${CMAKE_SOURCE_DIR}/docs/operations.md
        ${CMAKE_SOURCE_DIR}/docs/metrics.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/callwatchd COMPONENT daemon)

if(CALLWATCH_WALLBOARD)
  install(TARGETS callwatch-wallboard RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT wallboard)
  install(FILES ${PKG_GEN}/callwatch-wallboard-kiosk.service DESTINATION lib/systemd/system
          COMPONENT wallboard)
  install(FILES ${PKG_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/callwatch-wallboard
          COMPONENT wallboard)
  install(FILES ${CMAKE_SOURCE_DIR}/docs/wallboard.md
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/callwatch-wallboard COMPONENT wallboard)
endif()

# A changelog per package (Debian policy), generated from the version.
string(TIMESTAMP PKG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
foreach(pkg callwatchd callwatch-wallboard)
  file(WRITE ${PKG_GEN}/${pkg}/changelog
       "${pkg} (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
       "  * Release ${PROJECT_VERSION}.\n\n -- callwatch maintainers <callwatch@example.org>  ${PKG_DATE}\n")
endforeach()
install(CODE "execute_process(COMMAND gzip -9nkf \"${PKG_GEN}/callwatchd/changelog\")" COMPONENT daemon)
install(FILES ${PKG_GEN}/callwatchd/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/callwatchd
        COMPONENT daemon OPTIONAL)
install(CODE "execute_process(COMMAND gzip -9nkf \"${PKG_GEN}/callwatch-wallboard/changelog\")"
        COMPONENT wallboard)
install(FILES ${PKG_GEN}/callwatch-wallboard/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/callwatch-wallboard COMPONENT wallboard OPTIONAL)

# Manual pages from each program's --help (help2man; lintian asks for one per program).
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(man_daemon "callwatchd|live contact-center monitor daemon"
                 "callwatch-sim|send simulated contact-center events to callwatchd")
  set(man_wallboard "callwatch-wallboard|wallboard for callwatchd")
  foreach(comp daemon wallboard)
    foreach(entry IN LISTS man_${comp})
      string(REPLACE "|" ";" parts "${entry}")
      list(GET parts 0 prog)
      list(GET parts 1 what)
      install(CODE "execute_process(COMMAND ${HELP2MAN} --no-info --no-discard-stderr \"--name=${what}\"
                      --version-string=${PROJECT_VERSION} -o ${PKG_GEN}/${prog}.1 ${CMAKE_BINARY_DIR}/bin/${prog})
                    execute_process(COMMAND gzip -9nf ${PKG_GEN}/${prog}.1)" COMPONENT ${comp})
      install(FILES ${PKG_GEN}/${prog}.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${comp} OPTIONAL)
    endforeach()
  endforeach()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME callwatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "callwatch maintainers <callwatch@example.org>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL daemon)
if(CALLWATCH_WALLBOARD)
  list(APPEND CPACK_COMPONENTS_ALL wallboard)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/callwatch/callwatch")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME callwatchd)
set(CPACK_COMPONENT_DAEMON_DESCRIPTION
    "live contact-center monitor: the daemon\ncallwatchd takes queue and agent events from Asterisk (AMI, queue_log),\nFreeSWITCH (mod_callcenter) and native JSON feeds, keeps live state and\ninterval statistics, publishes them to wallboards, exports Prometheus\nmetrics and raises alerts.")
set(CPACK_DEBIAN_DAEMON_PACKAGE_DEPENDS "adduser")
# The browser board draws with the fonts the daemon's machine has (GET /board/fonts.json).
set(CPACK_DEBIAN_DAEMON_PACKAGE_RECOMMENDS "fonts-noto-cjk, fonts-dejavu-core")
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA
    ${PKG_DIR}/callwatchd/conffiles ${PKG_DIR}/callwatchd/postinst ${PKG_DIR}/callwatchd/prerm
    ${PKG_DIR}/callwatchd/postrm)
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_WALLBOARD_PACKAGE_NAME callwatch-wallboard)
set(CPACK_COMPONENT_WALLBOARD_DESCRIPTION
    "live contact-center monitor: the wallboard\ncallwatch-wallboard shows callwatchd's queues, agents and alerts on a\nlarge screen (kiosk) or a supervisor's desktop.")
set(CPACK_DEBIAN_WALLBOARD_PACKAGE_DEPENDS "fonts-noto-cjk, fonts-dejavu-core")
set(CPACK_DEBIAN_WALLBOARD_PACKAGE_SECTION x11)

include(CPack)
