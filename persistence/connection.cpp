#include "persistence/database.hpp"

#include <cctype>

namespace mistral::persistence {

namespace {

// A libpq connect-string value: quoted when it holds spaces or quotes.
std::string pq_value(const std::string& v) {
  if (!v.empty() && v.find_first_of(" '\\") == std::string::npos)
    return v;
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "'";
}

// %XX escapes of a URL query value.
std::string url_decode(const std::string& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
      out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += v[i] == '+' ? ' ' : v[i];
    }
  }
  return out;
}

// "?host=/run/postgresql&options=-csearch_path%3Dx" as libpq keywords, as
// SQLAlchemy passes them on.
std::string query_keywords(const std::string& query) {
  std::string out;
  std::size_t pos = 0;
  while (pos < query.size()) {
    auto amp = query.find('&', pos);
    std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    pos = amp == std::string::npos ? query.size() : amp + 1;
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      continue;
    out += " " + pair.substr(0, eq) + "=" + pq_value(url_decode(pair.substr(eq + 1)));
  }
  return out;
}

// Splits "user:pw@host:port/db?k=v" into SOCI's key=value connect string.
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
  std::string query;
  if (auto q = dbname.find('?'); q != std::string::npos) {
    query = dbname.substr(q + 1);
    dbname = dbname.substr(0, q);
  }
  if (dbname.empty())
    return error(errc::invalid_input, "database connection URL has no database name");
  std::string out = "dbname=" + pq_value(url_decode(dbname));
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
    out += " user=" + pq_value(url_decode(auth.substr(0, colon)));
    if (colon != std::string::npos)
      out += " password=" + pq_value(url_decode(auth.substr(colon + 1)));
  }
  return out + query_keywords(query);
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

status database::execute_script(const std::string&) {
  return error(errc::internal, "this store does not run SQL scripts");
}

result<std::optional<record>> database::find_one(const table_def& t, const std::vector<filter>& where,
                                                 const std::vector<std::string>& columns) {
  list_query q;
  q.filters = where;
  q.limit = 1;
  q.columns = columns;
  auto rows = list(t, q);
  if (!rows.ok())
    return std::move(rows).err();
  if (rows->empty())
    return std::optional<record>{};
  return std::optional<record>{std::move(rows->front())};
}

} // namespace mistral::persistence
