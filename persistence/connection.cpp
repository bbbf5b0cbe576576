#include "persistence/database.hpp"

namespace mistral::persistence {

namespace {

// Splits "user:pw@host:port/db" into SOCI's key=value connect string.
result<std::string> postgresql_connect(const std::string& rest) {
  std::string auth, hostpart = rest;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    auth = rest.substr(0, at);
    hostpart = rest.substr(at + 1);
  }
  auto slash = hostpart.find('/');
  if (slash == std::string::npos || slash + 1 >= hostpart.size())
    return error(errc::invalid_input, "database connection URL has no database name");
  std::string hostport = hostpart.substr(0, slash);
  std::string dbname = hostpart.substr(slash + 1);
  if (auto q = dbname.find('?'); q != std::string::npos)
    dbname = dbname.substr(0, q);
  std::string out = "dbname=" + dbname;
  if (!hostport.empty()) {
    auto colon = hostport.rfind(':');
    if (colon != std::string::npos) {
      out += " host=" + hostport.substr(0, colon) + " port=" + hostport.substr(colon + 1);
    } else {
      out += " host=" + hostport;
    }
  }
  if (!auth.empty()) {
    auto colon = auth.find(':');
    out += " user=" + auth.substr(0, colon);
    if (colon != std::string::npos)
      out += " password=" + auth.substr(colon + 1);
  }
  return out;
}

} // namespace

result<connection_info> parse_connection_url(const std::string& url) {
  connection_info info;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return error(errc::invalid_input, "invalid database connection URL '" + url + "'");
  std::string scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  if (auto plus = scheme.find('+'); plus != std::string::npos)
    scheme = scheme.substr(0, plus); // driver suffix, e.g. postgresql+psycopg2
  if (scheme == "sqlite") {
    // sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy reads them.
    if (rest.empty() || rest == "/")
      return error(errc::invalid_input,
                   "an in-memory SQLite database is not durable; give a file: sqlite:///path.db");
    std::string path = rest.front() == '/' ? rest.substr(1) : rest;
    if (auto q = path.find('?'); q != std::string::npos)
      path = path.substr(0, q);
    info.kind = backend::sqlite;
    info.sqlite_path = path;
    info.soci_connect = "db=" + path + " timeout=30";
    return info;
  }
  if (scheme == "postgresql" || scheme == "postgres") {
    auto connect = postgresql_connect(rest);
    if (!connect.ok())
      return std::move(connect).err();
    info.kind = backend::postgresql;
    info.soci_connect = *connect;
    return info;
  }
  return error(errc::invalid_input,
               "unsupported database back-end '" + scheme + "' (use sqlite:/// or postgresql://)");
}

result<std::optional<record>> database::find_one(const table_def& t, const std::vector<filter>& where) {
  list_query q;
  q.filters = where;
  q.limit = 1;
  auto rows = list(t, q);
  if (!rows.ok())
    return std::move(rows).err();
  if (rows->empty())
    return std::optional<record>{};
  return std::optional<record>{std::move(rows->front())};
}

} // namespace mistral::persistence
