# Finds Debian's SOCI 4.0 (libsoci-dev ships no CMake config).
# Creates SOCI::soci_core and, when the client headers are present,
# SOCI::soci_sqlite3 and SOCI::soci_postgresql (upstream's target names).
include(FindPackageHandleStandardArgs)
find_path(SOCI_INCLUDE_DIR soci/soci.h)
find_library(SOCI_CORE_LIBRARY soci_core)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3)
find_library(SOCI_POSTGRESQL_LIBRARY soci_postgresql)

find_package_handle_standard_args(SOCI REQUIRED_VARS SOCI_CORE_LIBRARY SOCI_INCLUDE_DIR)

if(SOCI_FOUND AND NOT TARGET SOCI::soci_core)
  # soci-config.h defines SOCI_HAVE_BOOST, so consumers need Boost's headers.
  find_package(Boost REQUIRED)
  add_library(SOCI::soci_core SHARED IMPORTED)
  set_target_properties(SOCI::soci_core PROPERTIES
    IMPORTED_LOCATION "${SOCI_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "Boost::headers;${CMAKE_DL_LIBS}")
  find_package(SQLite3 QUIET)
  find_package(PostgreSQL QUIET)
  if(SOCI_SQLITE3_LIBRARY AND SQLite3_FOUND)
    add_library(SOCI::soci_sqlite3 SHARED IMPORTED)
    set_target_properties(SOCI::soci_sqlite3 PROPERTIES
      IMPORTED_LOCATION "${SOCI_SQLITE3_LIBRARY}"
      INTERFACE_LINK_LIBRARIES "SOCI::soci_core;SQLite::SQLite3")
  endif()
  if(SOCI_POSTGRESQL_LIBRARY AND PostgreSQL_FOUND)
    add_library(SOCI::soci_postgresql SHARED IMPORTED)
    set_target_properties(SOCI::soci_postgresql PROPERTIES
      IMPORTED_LOCATION "${SOCI_POSTGRESQL_LIBRARY}"
      INTERFACE_LINK_LIBRARIES "SOCI::soci_core;PostgreSQL::PostgreSQL")
  endif()
endif()
mark_as_advanced(SOCI_INCLUDE_DIR SOCI_CORE_LIBRARY SOCI_SQLITE3_LIBRARY SOCI_POSTGRESQL_LIBRARY)
