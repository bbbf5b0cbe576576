// The SOCI adapter: the only place in persistence/ that speaks SQL to a
// driver. Generic row operations over table_def, numbered migrations, and
// SQLite's durability pragmas.
#include "persistence/database.hpp"

#include "common/clock.hpp"

#include <soci/connection-pool.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <array>
#include <bit>
#include <deque>
#include <filesystem>
#include <sstream>
#include <string_view>
#include <unordered_map>

namespace mistral::persistence {

namespace {

// Values bound to one statement; deques keep the references SOCI holds stable.
class binder {
public:
  std::string add_text(std::string v) {
    texts_.push_back(std::move(v));
    inds_.push_back(soci::i_ok);
    binds_.push_back({0, texts_.size() - 1, inds_.size() - 1});
    return next_name();
  }
  std::string add_int(long long v) {
    ints_.push_back(v);
    inds_.push_back(soci::i_ok);
    binds_.push_back({1, ints_.size() - 1, inds_.size() - 1});
    return next_name();
  }
  std::string add_null() {
    texts_.emplace_back();
    inds_.push_back(soci::i_null);
    binds_.push_back({0, texts_.size() - 1, inds_.size() - 1});
    return next_name();
  }
  /// The kinds of the values in order: statements prepared for one
  /// signature can be re-executed with any values of the same signature.
  std::string signature() const {
    std::string out;
    for (const auto& b : binds_)
      out += b.kind == 0 ? (inds_[b.ind] == soci::i_null ? 'n' : 't') : 'i';
    return out;
  }
  /// Takes the values of `other`, which has the same signature.
  /// Element by element, so the addresses SOCI holds stay valid.
  void assign_values(const binder& other) {
    for (std::size_t i = 0; i < texts_.size(); ++i)
      texts_[i] = other.texts_[i];
    for (std::size_t i = 0; i < ints_.size(); ++i)
      ints_[i] = other.ints_[i];
    for (std::size_t i = 0; i < inds_.size(); ++i)
      inds_[i] = other.inds_[i];
  }
  void apply(soci::statement& st) {
    for (std::size_t i = 0; i < binds_.size(); ++i) {
      const auto& b = binds_[i];
      std::string name = "p" + std::to_string(i);
      if (b.kind == 0)
        st.exchange(soci::use(texts_[b.index], inds_[b.ind], name));
      else
        st.exchange(soci::use(ints_[b.index], inds_[b.ind], name));
    }
  }

private:
  struct bind {
    int kind;
    std::size_t index;
    std::size_t ind;
  };
  std::string next_name() { return ":p" + std::to_string(binds_.size() - 1); }
  std::deque<std::string> texts_;
  std::deque<long long> ints_;
  std::deque<soci::indicator> inds_;
  std::vector<bind> binds_;
};

// ---- row writes (upsert, insert) ----------------------------------------------
// The engine writes ~100 rows per commit: each row finds its columns in one
// pass, picks a statement by (table, kind, columns present) and binds its
// values without building SQL text or copying strings.

namespace sq = ::sqlite_api;

constexpr std::size_t max_row_columns = 64; ///< the present-column set is a bitmask

using row_cells = std::array<const json*, max_row_columns>;

// The values of `row` for the columns of `t`, by column index; returns the
// bitmask of the present ones. The search for each key resumes after the
// last match (wrapping around), so a record in table order costs one pass;
// contains()/at() on an ordered_map were O(columns^2) for every record.
std::uint64_t present_columns(const table_def& t, const record& row, row_cells& cells) {
  std::uint64_t present = 0;
  if (!row.is_object())
    return present;
  const std::size_t n = t.columns.size();
  std::size_t next = 0;
  for (auto it = row.begin(); it != row.end(); ++it) {
    const std::string& key = it.key();
    for (std::size_t tried = 0; tried < n; ++tried) {
      std::size_t i = next + tried < n ? next + tried : next + tried - n;
      if (t.columns[i].name == key) {
        cells[i] = &it.value();
        present |= std::uint64_t{1} << i;
        next = i + 1 < n ? i + 1 : 0;
        break;
      }
    }
  }
  return present;
}

// Binds `v` as a value of column `c`. `for_filter`: a string given for a JSON
// column is compared as stored text, not re-encoded.
std::string bind_value(binder& b, const column& c, const json& v, bool for_filter) {
  if (for_filter && c.kind == column_kind::json_text && v.is_string())
    return b.add_text(v.get<std::string>());
  std::string scratch;
  cell_value cell = value_of(c, v, scratch);
  switch (cell.what) {
    case cell_value::null: return b.add_null();
    case cell_value::number: return b.add_int(cell.n);
    case cell_value::text: return b.add_text(std::string(cell.s));
  }
  return b.add_null();
}

// Which row statement: the SQL text follows from it.
struct row_key {
  const table_def* table = nullptr;
  std::uint64_t present = 0;
  write_op::kind what = write_op::kind::upsert;
  bool operator==(const row_key&) const = default;
};

struct row_key_hash {
  std::size_t operator()(const row_key& k) const noexcept {
    auto h = reinterpret_cast<std::uintptr_t>(k.table) * 0x9E3779B97F4A7C15ULL;
    h ^= k.present + 0x7F4A7C159E3779B9ULL + (h << 6) + (h >> 2);
    return static_cast<std::size_t>(h ^ static_cast<std::size_t>(k.what));
  }
};

// INSERT ... [ON CONFLICT(id) DO UPDATE: the same text on SQLite >= 3.24 and
// PostgreSQL] for the present columns; parameters ?1.. (SQLite's own API) or
// :p0.. (SOCI).
std::string row_sql(const row_key& k, bool positional) {
  const table_def& t = *k.table;
  std::string cols, vals, sets;
  std::size_t n = 0;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    if (!(k.present & (std::uint64_t{1} << i)))
      continue;
    const std::string& name = t.columns[i].name;
    if (n) {
      cols += ", ";
      vals += ", ";
    }
    cols += name;
    vals += positional ? "?" + std::to_string(n + 1) : ":p" + std::to_string(n);
    ++n;
    if (name != "id")
      sets += (sets.empty() ? "" : ", ") + name + " = excluded." + name;
  }
  std::string sql = "INSERT INTO " + t.name + "(" + cols + ") VALUES(" + vals + ")";
  if (k.what == write_op::kind::upsert)
    sql += sets.empty() ? " ON CONFLICT(id) DO NOTHING" : " ON CONFLICT(id) DO UPDATE SET " + sets;
  return sql;
}

// A prepared row statement of one session: SQLite's own statement (SOCI's
// use elements copied every value once more), or a SOCI statement with one
// value slot per parameter, whose addresses SOCI keeps.
struct row_statement {
  sq::sqlite3_stmt* native = nullptr;
  std::unique_ptr<soci::statement> statement;
  std::vector<std::string> texts;
  std::vector<long long> numbers;
  std::vector<soci::indicator> inds;

  row_statement() = default;
  row_statement(const row_statement&) = delete;
  row_statement& operator=(const row_statement&) = delete;
  ~row_statement() {
    if (native)
      sq::sqlite3_finalize(native);
  }
};

using row_statement_cache = std::unordered_map<row_key, std::unique_ptr<row_statement>, row_key_hash>;

json read_value(const column& c, const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null)
    return nullptr;
  long long number = 0;
  std::string text;
  bool is_text = false;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_string:
    case soci::dt_xml:
    case soci::dt_blob:
      text = r.get<std::string>(i);
      is_text = true;
      break;
    case soci::dt_integer: number = r.get<int>(i); break;
    case soci::dt_long_long: number = r.get<long long>(i); break;
    case soci::dt_unsigned_long_long: number = static_cast<long long>(r.get<unsigned long long>(i)); break;
    case soci::dt_double: number = static_cast<long long>(r.get<double>(i)); break;
    case soci::dt_date: {
      std::tm tm = r.get<std::tm>(i);
      number = static_cast<long long>(timegm(&tm)) * 1000000;
      break;
    }
  }
  switch (c.kind) {
    case column_kind::text: return is_text ? json(std::move(text)) : json(std::to_string(number));
    case column_kind::json_text: {
      if (!is_text)
        return number;
      auto parsed = json::parse(text, nullptr, false);
      return parsed.is_discarded() ? json(std::move(text)) : parsed;
    }
    case column_kind::boolean: return is_text ? (text == "1" || text == "true") : number != 0;
    case column_kind::integer:
    case column_kind::timestamp:
      if (is_text) {
        try {
          return std::stoll(text);
        } catch (...) {
          return nullptr;
        }
      }
      return number;
  }
  return nullptr;
}

const char* sql_op(filter_op op) {
  switch (op) {
    case filter_op::eq: return " = ";
    case filter_op::neq: return " <> ";
    case filter_op::gt: return " > ";
    case filter_op::gte: return " >= ";
    case filter_op::lt: return " < ";
    case filter_op::lte: return " <= ";
    default: return " = ";
  }
}

result<std::string> where_clause(const table_def& t, const std::vector<filter>& where, binder& b) {
  std::string sql;
  for (const auto& f : where) {
    const column* c = t.find(f.column);
    if (!c)
      return error(errc::invalid_input, "unknown column " + f.column + " of " + t.name);
    sql += sql.empty() ? " WHERE " : " AND ";
    switch (f.op) {
      case filter_op::is_null: sql += c->name + " IS NULL"; break;
      case filter_op::in:
      case filter_op::nin: {
        if (f.values.empty()) {
          sql += f.op == filter_op::in ? "1 = 0" : "1 = 1";
          break;
        }
        sql += c->name + (f.op == filter_op::in ? " IN (" : " NOT IN (");
        for (std::size_t i = 0; i < f.values.size(); ++i)
          sql += (i ? ", " : "") + bind_value(b, *c, f.values[i], true);
        sql += ")";
        break;
      }
      case filter_op::has: {
        std::string needle =
          f.values.empty() ? ""
                           : (f.values[0].is_string() ? f.values[0].get<std::string>() : f.values[0].dump());
        sql += c->name + " LIKE " + b.add_text("%" + needle + "%");
        break;
      }
      default:
        if (f.values.empty() || f.values[0].is_null()) {
          sql += c->name + (f.op == filter_op::neq ? " IS NOT NULL" : " IS NULL");
        } else {
          sql += c->name + sql_op(f.op) + bind_value(b, *c, f.values[0], true);
        }
    }
  }
  return sql;
}

// The columns a read asks for, in table order; every one when `names` is empty.
result<std::vector<const column*>> projection(const table_def& t, const std::vector<std::string>& names) {
  std::vector<const column*> out;
  out.reserve(names.empty() ? t.columns.size() : names.size());
  for (const auto& n : names)
    if (!t.find(n))
      return error(errc::invalid_input, "unknown column " + n + " of " + t.name);
  for (const auto& c : t.columns)
    if (names.empty() || std::find(names.begin(), names.end(), c.name) != names.end())
      out.push_back(&c);
  return out;
}

std::string column_list(const std::vector<const column*>& columns) {
  std::string out;
  for (const column* c : columns)
    out += (out.empty() ? "" : ", ") + c->name;
  return out;
}

bool is_unique_violation(const std::string& what) {
  return what.find("UNIQUE constraint failed") != std::string::npos ||
         what.find("duplicate key value") != std::string::npos;
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// Splits a migration script into statements; `--` comments are dropped.
std::vector<std::string> split_statements(const std::string& script) {
  std::vector<std::string> out;
  std::istringstream in(script);
  std::string line, current;
  while (std::getline(in, line)) {
    auto trimmed = line.substr(0, line.find("--"));
    current += trimmed + "\n";
    if (trimmed.find(';') != std::string::npos) {
      auto semi = current.rfind(';');
      std::string stmt = current.substr(0, semi);
      if (stmt.find_first_not_of(" \n\t") != std::string::npos)
        out.push_back(stmt);
      current.clear();
    }
  }
  if (current.find_first_not_of(" \n\t") != std::string::npos)
    out.push_back(current);
  return out;
}

// A session of the pool, given back when this goes out of scope.
class leased_session {
public:
  explicit leased_session(soci::connection_pool& pool) : pool_(pool), pos_(pool.lease()) {}
  ~leased_session() { pool_.give_back(pos_); }
  leased_session(const leased_session&) = delete;
  leased_session& operator=(const leased_session&) = delete;
  soci::session& session() { return pool_.at(pos_); }
  std::size_t position() const { return pos_; }

private:
  soci::connection_pool& pool_;
  std::size_t pos_;
};

// A write statement prepared once per session and SQL text, re-executed
// with new values: parsing the SQL was a third of every transition.
// Reads are cached the same way: the row they fetch into lives beside the
// statement, since SOCI keeps its address.
struct cached_statement {
  binder values;
  std::unique_ptr<soci::row> row;
  std::unique_ptr<soci::statement> statement;
};

using statement_cache = std::unordered_map<std::string, std::unique_ptr<cached_statement>>;

class soci_database final : public database {
public:
  soci_database(connection_info info)
    : info_(std::move(info)), pool_(info_.pool_size), native_(info_.pool_size, nullptr),
      rows_(info_.pool_size), statements_(info_.pool_size), queries_(info_.pool_size) {}

  status connect() {
    try {
      for (int i = 0; i < info_.pool_size; ++i) {
        auto& s = pool_.at(i);
        s.open(info_.kind == backend::sqlite ? "sqlite3" : "postgresql", info_.soci_connect);
        if (info_.kind == backend::sqlite) {
          std::string mode;
          s << "PRAGMA journal_mode=WAL", soci::into(mode);
          s << "PRAGMA synchronous=" + info_.sqlite_synchronous;
          s << "PRAGMA foreign_keys=ON";
          // The savepoint of each group in a group commit journals every
          // page it changes first; in temporary files, that was a pwrite
          // per page and per page number (~6,000 system calls for 200
          // 50-task executions). In memory, they live until the release.
          s << "PRAGMA temp_store=MEMORY";
          native_[i] = static_cast<soci::sqlite3_session_backend*>(s.get_backend())->conn_;
        } else {
          s << "SET client_min_messages TO warning"; // no NOTICEs on stderr
        }
      }
    } catch (const std::exception& e) {
      return error(errc::unavailable, "cannot open the database: " + first_line(e.what()));
    }
    return ok_v;
  }

  backend kind() const override { return info_.kind; }

  result<std::vector<migration_info>> migrate(int target) override {
    try {
      soci::session s(pool_);
      ensure_migration_table(s);
      int current = current_version(s);
      std::vector<migration_info> done;
      for (const auto& m : migrations_for(info_.kind)) {
        if (m.version <= current || (target >= 0 && m.version > target))
          continue;
        soci::transaction tr(s);
        for (const auto& stmt : split_statements(m.sql))
          s << stmt;
        long long version = m.version, at = system_clock{}.now();
        std::string name = m.name;
        s << "INSERT INTO schema_migrations(version, name, applied_at) VALUES(:v, :n, :a)",
          soci::use(version), soci::use(name), soci::use(at);
        tr.commit();
        done.push_back({m.version, m.name});
      }
      return done;
    } catch (const std::exception& e) {
      return error(errc::internal, "migration failed: " + first_line(e.what()));
    }
  }

  result<std::vector<migration_info>> applied() override {
    try {
      soci::session s(pool_);
      ensure_migration_table(s);
      std::vector<migration_info> out;
      soci::rowset<soci::row> rows =
        (s.prepare << "SELECT version, name FROM schema_migrations ORDER BY version");
      column version_col{"version", column_kind::integer}, name_col{"name", column_kind::text};
      for (const auto& r : rows)
        out.push_back({static_cast<int>(read_value(version_col, r, 0).get<long long>()),
                       read_value(name_col, r, 1).get<std::string>()});
      return out;
    } catch (const std::exception& e) {
      return error(errc::internal, first_line(e.what()));
    }
  }

  status stamp(int version) override {
    try {
      soci::session s(pool_);
      ensure_migration_table(s);
      soci::transaction tr(s);
      s << "DELETE FROM schema_migrations";
      for (const auto& m : migrations_for(info_.kind)) {
        if (m.version > version)
          break;
        long long v = m.version, at = system_clock{}.now();
        std::string name = m.name;
        s << "INSERT INTO schema_migrations(version, name, applied_at) VALUES(:v, :n, :a)", soci::use(v),
          soci::use(name), soci::use(at);
      }
      tr.commit();
      return ok_v;
    } catch (const std::exception& e) {
      return error(errc::internal, first_line(e.what()));
    }
  }

  status execute_script(const std::string& sql) override {
    try {
      soci::session s(pool_);
      soci::transaction tr(s);
      for (const auto& stmt : split_statements(sql))
        s << stmt;
      tr.commit();
      return ok_v;
    } catch (const std::exception& e) {
      return error(errc::internal, first_line(e.what()));
    }
  }

  status insert(const table_def& t, const record& row) override {
    try {
      leased_session lease(pool_);
      auto done = run_row(lease, write_op{write_op::kind::insert, &t, row, {}});
      if (!done.ok())
        return std::move(done).err();
      return ok_v;
    } catch (const std::exception& e) {
      return error(is_unique_violation(e.what()) ? errc::conflict : errc::internal, first_line(e.what()));
    }
  }

  status write_batch(const std::vector<write_op>& ops) override {
    try {
      leased_session lease(pool_);
      soci::transaction tr(lease.session());
      auto written = write_ops(lease, ops);
      if (!written.ok())
        return written;
      tr.commit();
      return ok_v;
    } catch (const std::exception& e) {
      return error(errc::internal, first_line(e.what()));
    }
  }

  // One transaction; each group inside a savepoint, so a group that fails
  // is rolled back alone and the others still commit.
  std::vector<status> write_groups(const std::vector<std::vector<write_op>>& groups) override {
    std::vector<status> out(groups.size(), ok_v);
    try {
      leased_session lease(pool_);
      auto& s = lease.session();
      soci::transaction tr(s);
      for (std::size_t i = 0; i < groups.size(); ++i) {
        s << "SAVEPOINT mistral_group";
        out[i] = write_ops(lease, groups[i]);
        s << (out[i].ok() ? "RELEASE SAVEPOINT mistral_group" : "ROLLBACK TO SAVEPOINT mistral_group");
        if (!out[i].ok())
          s << "RELEASE SAVEPOINT mistral_group";
      }
      tr.commit();
    } catch (const std::exception& e) {
      for (auto& o : out)
        if (o.ok())
          o = error(errc::internal, first_line(e.what()));
    }
    return out;
  }

  result<std::int64_t> update(const table_def& t, const std::vector<filter>& where,
                              const record& changes) override {
    binder b;
    std::string head = update_head(t, changes, b);
    if (head.empty())
      return std::int64_t{0};
    auto cond = where_clause(t, where, b);
    if (!cond.ok())
      return std::move(cond).err();
    return execute(head + *cond, b);
  }

  result<std::int64_t> remove(const table_def& t, const std::vector<filter>& where) override {
    binder b;
    auto cond = where_clause(t, where, b);
    if (!cond.ok())
      return std::move(cond).err();
    return execute("DELETE FROM " + t.name + *cond, b);
  }

  result<std::vector<record>> list(const table_def& t, const list_query& q) override {
    std::vector<filter> where = q.filters;
    std::vector<sort_key> order = q.sort;
    if (order.empty())
      order.push_back({"id", false});
    binder b;
    auto cond = where_clause(t, where, b);
    if (!cond.ok())
      return std::move(cond).err();
    auto columns = projection(t, q.columns);
    if (!columns.ok())
      return std::move(columns).err();
    std::string sql = "SELECT " + column_list(*columns) + " FROM " + t.name + *cond;
    if (q.marker) {
      auto keyset = marker_condition(t, order, *q.marker, b);
      if (!keyset.ok())
        return std::move(keyset).err();
      sql += (cond->empty() ? " WHERE " : " AND ") + *keyset;
    }
    sql += " ORDER BY ";
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (!t.find(order[i].column))
        return error(errc::invalid_input, "unknown sort key " + order[i].column);
      sql += (i ? ", " : "") + order[i].column + (order[i].descending ? " DESC" : " ASC");
    }
    if (q.limit)
      sql += " LIMIT " + std::to_string(*q.limit);
    else if (q.offset && info_.kind == backend::sqlite)
      sql += " LIMIT -1"; // SQLite takes OFFSET only after a LIMIT
    if (q.offset)
      sql += " OFFSET " + std::to_string(*q.offset);
    return query(*columns, sql, b);
  }

private:
  // "UPDATE t SET ..." for the columns of `changes`; empty when there is none.
  static std::string update_head(const table_def& t, const record& changes, binder& b) {
    std::string sets;
    for (const auto& c : t.columns) {
      if (!changes.contains(c.name))
        continue;
      sets += (sets.empty() ? "" : ", ") + c.name + " = " + bind_value(b, c, changes.at(c.name), false);
    }
    return sets.empty() ? std::string() : "UPDATE " + t.name + " SET " + sets;
  }

  void ensure_migration_table(soci::session& s) {
    s << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR(255), "
         "applied_at BIGINT)";
  }

  int current_version(soci::session& s) {
    long long v = 0;
    soci::indicator ind = soci::i_ok;
    s << "SELECT MAX(version) FROM schema_migrations", soci::into(v, ind);
    return ind == soci::i_null ? 0 : static_cast<int>(v);
  }

  // (k1 > m1) OR (k1 = m1 AND k2 > m2) ...: the rows after the marker row.
  result<std::string> marker_condition(const table_def& t, const std::vector<sort_key>& order,
                                       const std::string& marker_id, binder& b) {
    auto marker = find_one(t, {filter{"id", filter_op::eq, {marker_id}}});
    if (!marker.ok())
      return std::move(marker).err();
    if (!marker->has_value())
      return error(errc::not_found, "marker not found: " + marker_id);
    const record& m = **marker;
    std::string any;
    for (std::size_t i = 0; i < order.size(); ++i) {
      const column* c = t.find(order[i].column);
      if (!c)
        return error(errc::invalid_input, "unknown sort key " + order[i].column);
      std::string all;
      for (std::size_t j = 0; j < i; ++j) {
        const column* prev = t.find(order[j].column);
        all += prev->name + " = " + bind_value(b, *prev, m.value(prev->name, json()), false) + " AND ";
      }
      all +=
        c->name + (order[i].descending ? " < " : " > ") + bind_value(b, *c, m.value(c->name, json()), false);
      any += (any.empty() ? "(" : " OR (") + all + ")";
    }
    return "(" + any + ")";
  }

  // The writes of `ops` inside the caller's transaction; the first failure
  // stops them and is returned.
  status write_ops(leased_session& lease, const std::vector<write_op>& ops) {
    try {
      for (const auto& op : ops) {
        if (op.what == write_op::kind::upsert || op.what == write_op::kind::insert) {
          auto written = run_row(lease, op);
          if (!written.ok())
            return std::move(written).err();
          continue;
        }
        binder b;
        std::string head = op.what == write_op::kind::remove ? "DELETE FROM " + op.table->name
                                                             : update_head(*op.table, op.row, b);
        if (head.empty())
          return error(errc::invalid_input, "an expect write needs a column to set");
        auto cond = where_clause(*op.table, op.where, b);
        if (!cond.ok())
          return std::move(cond).err();
        auto changed = run_cached(lease, head + *cond, b);
        if (op.what == write_op::kind::expect && changed == 0)
          return error(errc::conflict, fenced_message);
      }
      return ok_v;
    } catch (const std::exception& e) {
      if (is_unique_violation(e.what()))
        return error(errc::conflict, first_line(e.what()));
      return error(errc::internal, first_line(e.what()));
    }
  }

  // The session's statement for `key`, prepared on first use.
  row_statement& row_statement_for(leased_session& lease, const row_key& key) {
    auto& cache = rows_[lease.position()];
    auto it = cache.find(key);
    if (it != cache.end())
      return *it->second;
    auto entry = std::make_unique<row_statement>();
    const auto n = static_cast<std::size_t>(std::popcount(key.present));
    entry->texts.resize(n);
    entry->numbers.resize(n);
    entry->inds.resize(n, soci::i_ok);
    if (sq::sqlite3* db = native_[lease.position()]) {
      std::string sql = row_sql(key, true);
      if (sq::sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()) + 1, SQLITE_PREPARE_PERSISTENT,
                                 &entry->native, nullptr) != SQLITE_OK)
        throw soci::soci_error(std::string("cannot prepare a row write: ") + sq::sqlite3_errmsg(db));
    } else {
      entry->statement = std::make_unique<soci::statement>(lease.session());
      auto& st = *entry->statement;
      std::size_t k = 0;
      for (std::uint64_t m = key.present; m; m &= m - 1, ++k) {
        const column& c = key.table->columns[static_cast<std::size_t>(std::countr_zero(m))];
        std::string name = "p" + std::to_string(k);
        if (c.kind == column_kind::text || c.kind == column_kind::json_text)
          st.exchange(soci::use(entry->texts[k], entry->inds[k], name));
        else
          st.exchange(soci::use(entry->numbers[k], entry->inds[k], name));
      }
      st.alloc();
      st.prepare(row_sql(key, false));
      st.define_and_bind();
    }
    if (cache.size() >= max_cached_statements)
      cache.clear();
    return *cache.emplace(key, std::move(entry)).first->second;
  }

  // One upsert or insert; returns the rows changed. Throws what SOCI
  // throws; a statement that failed is dropped from the cache.
  result<std::int64_t> run_row(leased_session& lease, const write_op& op) {
    const table_def& t = *op.table;
    if (t.columns.size() > max_row_columns)
      return error(errc::internal, "table " + t.name + " has too many columns");
    const bool packed = !op.packed.empty();
    if (packed && op.packed.table() != &t)
      return error(errc::internal, "a packed row of another table than " + t.name);
    row_cells cells;
    const row_key key{&t, packed ? op.packed.present() : present_columns(t, op.row, cells), op.what};
    if (key.present == 0)
      return error(errc::invalid_input, "a row write to " + t.name + " names none of its columns");
    row_statement& st = row_statement_for(lease, key);
    // The value of the k-th bound column, the i-th of the table.
    auto value = [&](std::size_t i, std::size_t k) {
      return packed ? op.packed.at(i) : value_of(t.columns[i], *cells[i], st.texts[k]);
    };
    std::size_t k = 0;
    if (st.native) {
      int rc = SQLITE_OK;
      for (std::uint64_t m = key.present; m && rc == SQLITE_OK; m &= m - 1, ++k) {
        cell_value v = value(static_cast<std::size_t>(std::countr_zero(m)), k);
        const int pos = static_cast<int>(k) + 1;
        // Static: the row and the scratch strings outlive the step.
        rc =
          v.what == cell_value::null ? sq::sqlite3_bind_null(st.native, pos)
          : v.what == cell_value::number
            ? sq::sqlite3_bind_int64(st.native, pos, v.n)
            : sq::sqlite3_bind_text(st.native, pos, v.s.data(), static_cast<int>(v.s.size()), SQLITE_STATIC);
      }
      if (rc == SQLITE_OK)
        rc = sq::sqlite3_step(st.native);
      sq::sqlite3* db = native_[lease.position()];
      if (rc != SQLITE_DONE) {
        std::string what = sq::sqlite3_errmsg(db);
        forget_row(lease, key);
        return error(is_unique_violation(what) ? errc::conflict : errc::internal, what);
      }
      auto changed = static_cast<std::int64_t>(sq::sqlite3_changes(db));
      sq::sqlite3_reset(st.native);
      return changed;
    }
    for (std::uint64_t m = key.present; m; m &= m - 1, ++k) {
      cell_value v = value(static_cast<std::size_t>(std::countr_zero(m)), k);
      st.inds[k] = v.what == cell_value::null ? soci::i_null : soci::i_ok;
      if (v.what == cell_value::number)
        st.numbers[k] = v.n;
      else if (v.what == cell_value::text && v.s.data() != st.texts[k].data())
        st.texts[k].assign(v.s);
    }
    try {
      st.statement->execute(true);
      return static_cast<std::int64_t>(st.statement->get_affected_rows());
    } catch (...) {
      forget_row(lease, key);
      throw;
    }
  }

  void forget_row(leased_session& lease, const row_key& key) { rows_[lease.position()].erase(key); }

  result<std::int64_t> execute(const std::string& sql, binder& b) {
    try {
      leased_session lease(pool_);
      return run_cached(lease, sql, b);
    } catch (const std::exception& e) {
      if (is_unique_violation(e.what()))
        return error(errc::conflict, first_line(e.what()));
      return error(errc::internal, first_line(e.what()));
    }
  }

  // The prepared statement for `sql` and the signature of `b`, from the
  // session's `cache`, with the values of `b` bound; `with_row`: it fetches
  // into a dynamic row.
  cached_statement& prepared(statement_cache& cache, leased_session& lease, const std::string& sql,
                             const binder& b, bool with_row) {
    std::string key = sql + '\n' + b.signature();
    auto it = cache.find(key);
    if (it != cache.end()) {
      it->second->values.assign_values(b);
      return *it->second;
    }
    if (cache.size() >= max_cached_statements)
      cache.clear();
    auto entry = std::make_unique<cached_statement>();
    entry->values = b;
    entry->statement = std::make_unique<soci::statement>(lease.session());
    auto& st = *entry->statement;
    entry->values.apply(st);
    if (with_row) {
      entry->row = std::make_unique<soci::row>();
      st.exchange(soci::into(*entry->row));
    }
    st.alloc();
    st.prepare(sql);
    st.define_and_bind();
    return *cache.emplace(std::move(key), std::move(entry)).first->second;
  }

  // Executes `sql` with the values of `b` through the session's cache of
  // prepared statements. Throws what SOCI throws; a failed statement is
  // dropped from the cache.
  std::int64_t run_cached(leased_session& lease, const std::string& sql, const binder& b) {
    auto& cache = statements_[lease.position()];
    auto& entry = prepared(cache, lease, sql, b, false);
    try {
      entry.statement->execute(true);
      return static_cast<std::int64_t>(entry.statement->get_affected_rows());
    } catch (...) {
      forget(cache, entry);
      throw;
    }
  }

  static void forget(statement_cache& cache, const cached_statement& entry) {
    for (auto it = cache.begin(); it != cache.end(); ++it)
      if (it->second.get() == &entry) {
        cache.erase(it);
        return;
      }
  }

  // Reads go through their own cache, so list queries with varying LIMITs or
  // IN lists never evict the writes of the engine's hot path. Every result is
  // fetched to its end: an SQLite statement left mid-result would hold the
  // connection's read snapshot open.
  result<std::vector<record>> query(const std::vector<const column*>& columns, const std::string& sql,
                                    binder& b) {
    try {
      leased_session lease(pool_);
      auto& cache = queries_[lease.position()];
      auto& entry = prepared(cache, lease, sql, b, true);
      try {
        auto& st = *entry.statement;
        const soci::row& r = *entry.row;
        std::vector<record> out;
        if (st.execute(true)) {
          do {
            // Appended straight to the object's vector: the names are
            // distinct, and operator[] would search them first.
            record rec = json::object();
            auto& fields = rec.get_ref<json::object_t&>();
            fields.reserve(columns.size());
            for (std::size_t i = 0; i < columns.size(); ++i)
              fields.emplace_back(columns[i]->name, read_value(*columns[i], r, i));
            out.push_back(std::move(rec));
          } while (st.fetch());
        }
        return out;
      } catch (...) {
        forget(cache, entry);
        throw;
      }
    } catch (const std::exception& e) {
      return error(errc::internal, first_line(e.what()));
    }
  }

  static constexpr std::size_t max_cached_statements = 256;

  connection_info info_;
  soci::connection_pool pool_;
  /// Per pool position: SQLite's own handle of the session (null on PostgreSQL).
  std::vector<sq::sqlite3*> native_;
  /// Per pool position: the prepared upserts and inserts (before the pool
  /// in destruction: SQLite closes no connection with statements left).
  std::vector<row_statement_cache> rows_;
  /// Per pool position: only the session's lessee touches its cache.
  std::vector<statement_cache> statements_;
  /// Prepared reads, per pool position like `statements_`.
  std::vector<statement_cache> queries_;
};

} // namespace

result<std::shared_ptr<database>> open_database(const connection_info& info) {
  if (info.kind == backend::sqlite) {
    std::error_code ec;
    auto parent = std::filesystem::path(info.sqlite_path).parent_path();
    if (!parent.empty())
      std::filesystem::create_directories(parent, ec);
  }
  auto db = std::make_shared<soci_database>(info);
  auto connected = db->connect();
  if (!connected.ok())
    return std::move(connected).err();
  return std::shared_ptr<database>(std::move(db));
}

} // namespace mistral::persistence
