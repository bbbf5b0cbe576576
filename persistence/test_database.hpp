#pragma once

// For tests only (included by *.test.cpp): a fresh, migrated database per
// test on the back-end the test run asks for.
//
// MISTRAL_TEST_BACKEND=sqlite       a file in a new temp folder
// MISTRAL_TEST_BACKEND=postgresql   a new schema in MISTRAL_TEST_PG_URL's
//                                   database, dropped afterwards
// unset                             postgresql when MISTRAL_TEST_PG_URL is set
//
// CTest runs each store test twice, once per back-end. When PostgreSQL is
// asked for but MISTRAL_TEST_PG_URL is unset, the test exits with 77, which
// CTest reports as skipped (scripts/test.sh always starts a server).

#include "persistence/database.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

namespace mistral::persistence::testing {

inline constexpr int skip_exit_code = 77;

inline std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

inline bool wants_postgresql() {
  std::string backend = env_or_empty("MISTRAL_TEST_BACKEND");
  if (backend.empty())
    return !env_or_empty("MISTRAL_TEST_PG_URL").empty();
  return backend == "postgresql";
}

inline std::string random_suffix() {
  std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng());
}

/// Opens `url`, failing the test when it cannot.
inline std::shared_ptr<database> open_or_fail(const std::string& url) {
  auto info = parse_connection_url(url);
  REQUIRE_MESSAGE(info.ok(), (info.ok() ? "" : info.err().message));
  auto opened = open_database(*info);
  REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.err().message));
  return *opened;
}

/// A connection URL of an empty database of the chosen back-end, removed
/// when the object goes away.
struct fresh_url {
  std::string url;
  std::filesystem::path dir;     ///< SQLite: the temp folder
  std::string schema;            ///< PostgreSQL: the schema
  std::shared_ptr<database> pg_; ///< PostgreSQL: the admin connection

  fresh_url() {
    if (wants_postgresql()) {
      std::string base = env_or_empty("MISTRAL_TEST_PG_URL");
      if (base.empty()) {
        std::cerr << "skipped: MISTRAL_TEST_PG_URL is not set\n";
        std::exit(skip_exit_code);
      }
      schema = "t" + random_suffix();
      pg_ = open_or_fail(base);
      REQUIRE(pg_->execute_script("CREATE SCHEMA " + schema).ok());
      url = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
    } else {
      dir = std::filesystem::temp_directory_path() / ("mistral-store-" + random_suffix());
      url = "sqlite:///" + (dir / "test.db").string();
    }
  }
  ~fresh_url() {
    if (pg_)
      (void)pg_->execute_script("DROP SCHEMA " + schema + " CASCADE");
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  fresh_url(const fresh_url&) = delete;
  fresh_url& operator=(const fresh_url&) = delete;
};

/// A fresh database with every migration applied.
struct fresh_db {
  fresh_url where;
  std::shared_ptr<database> db;

  fresh_db() : db(open_or_fail(where.url)) {
    auto migrated = db->migrate();
    REQUIRE_MESSAGE(migrated.ok(), (migrated.ok() ? "" : migrated.err().message));
  }
  ~fresh_db() { db.reset(); }
};

} // namespace mistral::persistence::testing
