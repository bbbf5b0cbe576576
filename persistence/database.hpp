#pragma once

#include "common/error.hpp"
#include "persistence/packed_row.hpp"
#include "persistence/query.hpp"
#include "persistence/table.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mistral::persistence {

enum class backend { sqlite, postgresql };

/// Where and how to connect, from `[database] connection` and our options.
struct connection_info {
  backend kind = backend::sqlite;
  std::string soci_connect; ///< SOCI's connect string
  std::string sqlite_path;  ///< the file, for SQLite
  std::string sqlite_synchronous = "FULL";
  int pool_size = 4;
};

/// Parses Mistral's connection URLs: `sqlite:///relative/or//abs/path.db`,
/// `sqlite://` (in memory is refused: the store must be durable),
/// `postgresql://user:pw@host:port/db` (also `postgresql+psycopg2://`).
result<connection_info> parse_connection_url(const std::string& url);

/// One applied schema migration.
struct migration_info {
  int version = 0;
  std::string name;
};

/// One write of a batch: insert-or-update a row by id, delete rows, insert
/// a new row, or a fence.
///
/// - upsert: writes `row`, replacing the row of the same id;
/// - remove: deletes the rows matching `where`;
/// - insert: writes `row`; a row of the same id fails the batch (errc::conflict);
/// - expect: sets the columns of `row` on the rows matching `where`, and
///   fails the batch (errc::conflict, `fenced_message`) when none matched.
///   A compare-and-set checked inside the transaction: on PostgreSQL the
///   matched row stays locked until the commit, so a concurrent claim
///   waits for it (the execution lease fence, actors/engine/lease.hpp).
struct write_op {
  enum class kind { upsert, remove, insert, expect };
  kind what = kind::upsert;
  const table_def* table = nullptr;
  record row; ///< for upsert and insert: every column to write (must hold "id"); expect: the changes
  std::vector<filter> where; ///< for remove and expect
  packed_row packed = {};    ///< for upsert and insert, instead of `row` when set (of the same table)
};

/// The message of the error an `expect` write that matched no row gives.
inline constexpr const char* fenced_message = "fenced: the expected row is not there any more";

/// A database: a pool of sessions, numbered migrations and generic row
/// operations over tables described by table_def. The per-aggregate stores
/// (definition_stores.hpp) sit on top. Thread-safe.
class database {
public:
  virtual ~database() = default;

  virtual backend kind() const = 0;

  /// Applies the migrations above the current version, up to `target` (-1 = head).
  virtual result<std::vector<migration_info>> migrate(int target = -1) = 0;
  /// The migrations applied, in order.
  virtual result<std::vector<migration_info>> applied() = 0;
  /// Records `version` as current without running anything (mistral-db-manage stamp).
  virtual status stamp(int version) = 0;
  /// Runs `sql` (statements separated by ';') in one transaction: for admin
  /// tools and tests, never with user input. Stores that only wrap another
  /// (e.g. for group commit) may refuse it.
  virtual status execute_script(const std::string& sql);

  /// Inserts a row. A unique-key violation gives errc::conflict.
  virtual status insert(const table_def& t, const record& row) = 0;
  /// Sets `changes` on the rows matching `where`; returns how many changed.
  virtual result<std::int64_t> update(const table_def& t, const std::vector<filter>& where,
                                      const record& changes) = 0;
  /// Deletes the rows matching `where`; returns how many.
  virtual result<std::int64_t> remove(const table_def& t, const std::vector<filter>& where) = 0;
  /// Applies every write in one transaction: all or nothing.
  virtual status write_batch(const std::vector<write_op>& ops) = 0;
  /// Applies each group all or nothing, all groups in one transaction when
  /// the back-end can isolate them (savepoints); one status per group.
  /// By default, one transaction per group.
  virtual std::vector<status> write_groups(const std::vector<std::vector<write_op>>& groups);
  /// Called once the writes are committed (or refused), on some other thread.
  using commit_callback = std::function<void(status)>;
  /// Applies `ops` all or nothing, maybe in a transaction shared with other
  /// callers' writes (group commit), then calls `done`. By default it
  /// writes at once and calls `done` before returning.
  virtual void write_batch_async(std::vector<write_op> ops, commit_callback done);
  /// Waits until every write handed over so far is committed and its
  /// callback has run and been released. A node calls it once its actors
  /// are done, before its actor system goes away. By default a no-op.
  virtual void flush() {}
  /// Rows in the order and page `q` asks for.
  virtual result<std::vector<record>> list(const table_def& t, const list_query& q) = 0;
  /// The first row matching `where`, if any, with only `columns` (empty: all).
  result<std::optional<record>> find_one(const table_def& t, const std::vector<filter>& where,
                                         const std::vector<std::string>& columns = {});
};

/// Opens (and creates when missing) the database of `info`, ready for use.
result<std::shared_ptr<database>> open_database(const connection_info& info);

/// Wraps `inner` so that the writes of many callers share transactions:
/// one writer thread takes every batch queued while the previous commit
/// was in flight and commits them together (each still all or nothing).
/// Under concurrent load it also waits up to `window` to gather more.
/// Every write of the wrapper goes through that thread; reads go straight
/// to `inner`. `on_idle`, when set, runs on the writer thread each time it
/// has committed a batch and finds nothing more queued (the end of a burst
/// of work), with the number of write ops of that batch.
std::shared_ptr<database> with_group_commit(std::shared_ptr<database> inner, std::chrono::microseconds window,
                                            std::function<void(std::size_t ops)> on_idle = {});

/// The numbered migrations compiled into the binary for `kind`, in order.
struct migration_script {
  int version = 0;
  std::string name;
  std::string sql;
};
const std::vector<migration_script>& migrations_for(backend kind);

} // namespace mistral::persistence
