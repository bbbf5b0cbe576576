#include "persistence/packed_row.hpp"

#include "common/clock.hpp"

namespace mistral::persistence {

namespace {

bool to_bool(const json& v) {
  if (v.is_boolean())
    return v.get<bool>();
  if (v.is_number())
    return v.get<double>() != 0;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return s == "true" || s == "True" || s == "1" || s == "yes";
  }
  return false;
}

long long to_int(const column& c, const json& v) {
  if (v.is_number_integer())
    return v.get<long long>();
  if (v.is_number())
    return static_cast<long long>(v.get<double>());
  if (v.is_boolean())
    return v.get<bool>() ? 1 : 0;
  if (v.is_string()) {
    if (c.kind == column_kind::timestamp) {
      timestamp t = 0;
      if (parse_time(v.get<std::string>(), t))
        return t;
    }
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

} // namespace

void dump_append(std::string& out, const json& v) {
  // Most of a row's JSON columns are empty objects and lists or null: a
  // serializer (which reads the locale when made) for "{}" cost more than
  // the rest of the column.
  if (v.is_null()) {
    out += "null";
    return;
  }
  if (v.is_object() && v.empty()) {
    out += "{}";
    return;
  }
  if (v.is_array() && v.empty()) {
    out += "[]";
    return;
  }
  if (v.is_boolean()) {
    out += v.get<bool>() ? "true" : "false";
    return;
  }
  // One serializer per thread, writing to its own buffer: making one
  // allocates and fills a 512-byte indent string and reads the locale.
  thread_local std::string text;
  thread_local nlohmann::detail::serializer<json> serializer(
    nlohmann::detail::output_adapter<char, std::string>(text), ' ',
    nlohmann::detail::error_handler_t::strict);
  text.clear();
  serializer.dump(v, false, false, 0);
  out += text;
}

cell_value value_of(const column& c, const json& v, std::string& scratch) {
  if (v.is_null())
    return {};
  switch (c.kind) {
    case column_kind::text:
      if (v.is_string())
        return {cell_value::text, 0, v.get_ref<const std::string&>()};
      scratch.clear();
      dump_append(scratch, v);
      return {cell_value::text, 0, scratch};
    case column_kind::json_text:
      scratch.clear();
      dump_append(scratch, v);
      return {cell_value::text, 0, scratch};
    case column_kind::boolean: return {cell_value::number, to_bool(v) ? 1 : 0, {}};
    case column_kind::integer:
    case column_kind::timestamp: return {cell_value::number, to_int(c, v), {}};
  }
  return {};
}

bool packed_row::has(std::string_view column) const {
  if (!table_)
    return false;
  for (std::size_t i = 0; i < table_->columns.size(); ++i)
    if (table_->columns[i].name == column)
      return (present_ >> i) & 1U;
  return false;
}

cell_value packed_row::at(std::size_t i) const {
  if (i >= cells_.size() || !((present_ >> i) & 1U))
    return {};
  const cell& c = cells_[i];
  return {c.what, c.n,
          c.what == cell_value::text ? std::string_view(text_).substr(c.offset, c.size) : std::string_view()};
}

long packed_row::index_of(std::string_view name) {
  if (!table_)
    return -1;
  const std::size_t n = table_->columns.size();
  for (std::size_t tried = 0; tried < n; ++tried) {
    std::size_t i = next_ + tried < n ? next_ + tried : next_ + tried - n;
    if (table_->columns[i].name == name) {
      next_ = i + 1 < n ? i + 1 : 0;
      return static_cast<long>(i);
    }
  }
  return -1;
}

void packed_row::put_null(std::size_t i) {
  cells_[i] = {};
  present_ |= std::uint64_t{1} << i;
}

void packed_row::put_text_from(std::size_t i, std::size_t start) {
  cells_[i] = {cell_value::text, 0, static_cast<std::uint32_t>(start),
               static_cast<std::uint32_t>(text_.size() - start)};
  present_ |= std::uint64_t{1} << i;
}

void packed_row::put_text(std::size_t i, std::string_view s) {
  const auto start = text_.size();
  text_.append(s);
  put_text_from(i, start);
}

void packed_row::put_number(std::size_t i, long long n) {
  cells_[i] = {cell_value::number, n, 0, 0};
  present_ |= std::uint64_t{1} << i;
}

void packed_row::put_json(std::size_t i, const json& v) {
  const column& c = table_->columns[i];
  if (v.is_null()) {
    put_null(i);
  } else if (c.kind == column_kind::json_text || (c.kind == column_kind::text && !v.is_string())) {
    const auto start = text_.size();
    dump_append(text_, v); // straight into the row's text, as value_of would dump it
    put_text_from(i, start);
  } else {
    std::string scratch;
    cell_value value = value_of(c, v, scratch);
    if (value.what == cell_value::text)
      put_text(i, value.s);
    else
      put_number(i, value.n);
  }
}

packed_row& packed_row::set(std::string_view name, const json& v) {
  if (long i = index_of(name); i >= 0)
    put_json(static_cast<std::size_t>(i), v);
  return *this;
}

packed_row& packed_row::set(std::string_view name, std::string_view v) {
  long i = index_of(name);
  if (i < 0)
    return *this;
  const auto at = static_cast<std::size_t>(i);
  if (table_->columns[at].kind == column_kind::text)
    put_text(at, v);
  else
    put_json(at, json(v));
  return *this;
}

packed_row& packed_row::set(std::string_view name, const std::string& v) {
  return set(name, std::string_view(v));
}

packed_row& packed_row::set(std::string_view name, const std::optional<std::string>& v) {
  return v ? set(name, std::string_view(*v)) : set(name, nullptr);
}

packed_row& packed_row::set(std::string_view name, long long v) {
  long i = index_of(name);
  if (i < 0)
    return *this;
  const auto at = static_cast<std::size_t>(i);
  switch (table_->columns[at].kind) {
    case column_kind::integer:
    case column_kind::timestamp: put_number(at, v); break;
    case column_kind::boolean: put_number(at, v != 0 ? 1 : 0); break;
    default: put_json(at, json(v));
  }
  return *this;
}

packed_row& packed_row::set(std::string_view name, bool v) {
  long i = index_of(name);
  if (i < 0)
    return *this;
  const auto at = static_cast<std::size_t>(i);
  const column_kind kind = table_->columns[at].kind;
  if (kind == column_kind::text || kind == column_kind::json_text)
    put_json(at, json(v));
  else
    put_number(at, v ? 1 : 0);
  return *this;
}

packed_row& packed_row::set(std::string_view name, const std::optional<long long>& v) {
  return v ? set(name, *v) : set(name, nullptr);
}

packed_row& packed_row::set(std::string_view name, const std::optional<long>& v) {
  return v ? set(name, static_cast<long long>(*v)) : set(name, nullptr);
}

packed_row& packed_row::set(std::string_view name, std::nullptr_t) {
  if (long i = index_of(name); i >= 0)
    put_null(static_cast<std::size_t>(i));
  return *this;
}

record packed_row::to_record() const {
  record out = json::object();
  if (!table_)
    return out;
  for (std::size_t i = 0; i < table_->columns.size(); ++i) {
    if (!((present_ >> i) & 1U))
      continue;
    const column& c = table_->columns[i];
    cell_value v = at(i);
    json& slot = out[c.name];
    if (v.what == cell_value::number)
      slot = c.kind == column_kind::boolean ? json(v.n != 0) : json(v.n);
    else if (v.what == cell_value::text)
      slot = c.kind == column_kind::json_text ? json::parse(v.s, nullptr, false) : json(std::string(v.s));
  }
  return out;
}

} // namespace mistral::persistence
