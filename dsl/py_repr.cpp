#include "dsl/py_repr.hpp"

#include "dsl/expr/py_value.hpp"

namespace mistral::dsl {

namespace {

constexpr std::uint64_t timestamp_subtype = 42;

std::string_view timestamp_part(const json& v, bool want_repr) {
  const auto& bytes = v.get_binary();
  std::string_view all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto nl = all.find('\n');
  return want_repr ? all.substr(0, nl) : all.substr(nl + 1);
}

} // namespace

json make_timestamp(std::string_view repr, std::string_view text) {
  std::string all = std::string(repr) + "\n" + std::string(text);
  return json::binary(std::vector<std::uint8_t>(all.begin(), all.end()), timestamp_subtype);
}

bool is_timestamp(const json& v) noexcept {
  return v.is_binary() && v.get_binary().has_subtype() && v.get_binary().subtype() == timestamp_subtype;
}

std::string py_repr(const json& v) {
  if (is_timestamp(v))
    return std::string(timestamp_part(v, true));
  if (v.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i)
      out += (i ? ", " : "") + py_repr(v[i]);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += (first ? "" : ", ") + expr::py_repr(json(it.key())) + ": " + py_repr(*it);
      first = false;
    }
    return out + "}";
  }
  return expr::py_repr(v);
}

std::string py_str(const json& v) {
  if (v.is_string())
    return v.get<std::string>();
  if (is_timestamp(v)) {
    // str(date) is its ISO form, which is the YAML text for plain dates.
    return std::string(timestamp_part(v, false));
  }
  return py_repr(v);
}

void timestamps_to_strings(json& v) {
  if (is_timestamp(v)) {
    v = std::string(timestamp_part(v, false));
  } else if (v.is_array() || v.is_object()) {
    for (auto& x : v)
      timestamps_to_strings(x);
  }
}

} // namespace mistral::dsl
