# Install-time half of the install rules (included from the top-level
# CMakeLists.txt): writes the systemd units with the paths of the prefix
# actually installed to and installs the example config unless one exists.
# Runs inside cmake_install.cmake, where CMAKE_INSTALL_PREFIX is final
# (`cmake --install --prefix` included) and file(INSTALL) prepends DESTDIR.

function(_jobwatch_full out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

_jobwatch_full(_bindir "${JOBWATCH_BINDIR}")
_jobwatch_full(_docdir "${JOBWATCH_DOCDIR}")
# As GNUInstallDirs: the prefix /usr keeps its configuration in /etc.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" OR CMAKE_INSTALL_PREFIX STREQUAL "/")
  set(_confdir "/etc/jobwatch")
else()
  set(_confdir "${CMAKE_INSTALL_PREFIX}/etc/jobwatch")
endif()
string(REGEX REPLACE "/$" "" _root "${CMAKE_INSTALL_PREFIX}")
set(_unitdir "${_root}/lib/systemd/system")

# Staged outside the build tree: `sudo cmake --install` must not leave
# root-owned files there, and parallel installs must not share a file.
if(DEFINED ENV{TMPDIR})
  set(_tmp "$ENV{TMPDIR}")
else()
  set(_tmp "/tmp")
endif()
string(RANDOM LENGTH 12 _rand)
set(_staging "${_tmp}/jobwatch-units-${_rand}")
file(MAKE_DIRECTORY "${_staging}")
set(_mode OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
foreach(_unit jobwatchd.service jobwatchd.socket)
  file(READ "${JOBWATCH_SOURCE_DIR}/systemd/${_unit}" _text)
  string(REPLACE "/usr/bin/jobwatchd" "${_bindir}/jobwatchd" _text "${_text}")
  string(REPLACE "/etc/jobwatch" "${_confdir}" _text "${_text}")
  string(REPLACE "/usr/share/doc/jobwatch" "${_docdir}" _text "${_text}")
  file(WRITE "${_staging}/${_unit}" "${_text}")
  file(INSTALL DESTINATION "${_unitdir}" TYPE FILE FILE_PERMISSIONS ${_mode}
    FILES "${_staging}/${_unit}")
endforeach()

# LoadCredential= in jobwatchd.service loads every file in here: created
# empty and root-only, never touched again (it holds the operator's secrets).
if(EXISTS "$ENV{DESTDIR}${_confdir}/credentials")
  message(STATUS "Keeping: $ENV{DESTDIR}${_confdir}/credentials")
else()
  file(MAKE_DIRECTORY "${_staging}/credentials")
  file(INSTALL DESTINATION "${_confdir}" TYPE DIRECTORY
    DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
    FILES "${_staging}/credentials")
endif()
file(REMOVE_RECURSE "${_staging}")

# A reinstall must not overwrite the operator's edits.
if(EXISTS "$ENV{DESTDIR}${_confdir}/jobwatch.yaml")
  message(STATUS "Keeping: $ENV{DESTDIR}${_confdir}/jobwatch.yaml")
else()
  file(INSTALL DESTINATION "${_confdir}" TYPE FILE FILE_PERMISSIONS ${_mode}
    FILES "${JOBWATCH_SOURCE_DIR}/config/jobwatch.yaml")
endif()
