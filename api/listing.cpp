#include "api/listing.hpp"

#include <algorithm>

namespace mistral::api {

namespace {

using persistence::filter;
using persistence::filter_op;

std::vector<std::string> split_csv(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    std::string item = text.substr(start, comma - start);
    auto b = item.find_first_not_of(' ');
    auto e = item.find_last_not_of(' ');
    if (b != std::string::npos)
      out.push_back(item.substr(b, e - b + 1));
    start = comma + 1;
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : sep) + s;
  return out;
}

// "uniquelist": lower-cased, duplicates dropped, order kept.
std::vector<std::string> unique_lower(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (auto s : in) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!contains(out, s))
      out.push_back(s);
  }
  return out;
}

filter make_filter(const std::string& column, const std::string& raw, std::string& link_value) {
  filter f;
  f.column = column;
  std::string value;
  persistence::parse_filter_value(raw, f.op, value);
  link_value = std::string(persistence::name_of(f.op)) + ":" + value;
  if (f.op == filter_op::in || f.op == filter_op::nin) {
    for (auto& item : split_csv(value))
      f.values.emplace_back(item);
  } else {
    f.values.emplace_back(value);
  }
  return f;
}

} // namespace

result<listing> parse_listing(const http_request& req, const listing_spec& spec) {
  listing l;
  std::vector<std::string> sort_keys{spec.default_sort_key}, sort_dirs{spec.default_sort_dir};
  for (const auto& [name, value] : req.query) {
    if (name == "marker") {
      l.marker = value;
    } else if (name == "limit") {
      try {
        std::size_t used = 0;
        long long n = std::stoll(value, &used);
        if (used != value.size())
          throw std::invalid_argument(value);
        l.limit = n;
      } catch (...) {
        return error(errc::invalid_input, "Invalid input for field/attribute limit. Value: '" + value +
                                            "'. unable to convert to int. Error: invalid literal for int() "
                                            "with base 10: '" +
                                            value + "'");
      }
    } else if (name == "sort_keys") {
      sort_keys = unique_lower(split_csv(value));
    } else if (name == "sort_dirs") {
      sort_dirs = split_csv(value);
    } else if (name == "fields") {
      l.fields = unique_lower(split_csv(value));
    } else if (contains(spec.filters, name)) {
      if (contains(spec.list_filters, name)) {
        // tags=a,b: the resource must hold every listed item.
        for (const auto& item : split_csv(value))
          l.query.filters.push_back(filter{name, filter_op::has, {"\"" + item + "\""}});
        l.filter_args.emplace_back(name, value);
        continue;
      }
      std::string link_value;
      l.query.filters.push_back(make_filter(name, value, link_value));
      l.filter_args.emplace_back(name, link_value);
    } else if (!contains(spec.extra_args, name)) {
      return error(errc::invalid_input, "Unknown argument: \"" + name + "\"");
    }
  }
  if (l.limit && *l.limit <= 0)
    return error(errc::invalid_input, "Limit must be positive.");
  if (sort_keys.size() < sort_dirs.size())
    return error(errc::invalid_input, "Length of sort_keys must be equal or greater than sort_dirs.");
  while (sort_dirs.size() < sort_keys.size())
    sort_dirs.push_back("asc");
  for (const auto& d : sort_dirs)
    if (d != "asc" && d != "desc")
      return error(errc::invalid_input, "Unknown sort direction, must be 'desc' or 'asc'.");
  if (!l.fields.empty() && !contains(l.fields, "id"))
    l.fields.insert(l.fields.begin(), "id");
  std::vector<std::string> unknown;
  for (const auto& f : l.fields)
    if (!contains(spec.fields, f))
      unknown.push_back(f);
  if (!unknown.empty())
    return error(errc::invalid_input, "Some fields do not exist  [" + join(unknown, ", ") +
                                        "], please choose from [" + join(spec.fields, ", ") + "]");
  // Paging needs a total order: the DB layer appends id, and the link shows it.
  if ((l.marker || l.limit) && !contains(sort_keys, "id")) {
    sort_keys.push_back("id");
    sort_dirs.push_back("asc");
  }
  for (std::size_t i = 0; i < sort_keys.size(); ++i) {
    if (!contains(spec.fields, sort_keys[i]))
      return error(errc::invalid_input, "Unknown sort key: " + sort_keys[i]);
    l.query.sort.push_back({sort_keys[i], sort_dirs[i] == "desc"});
  }
  l.sort_keys = sort_keys;
  l.sort_dirs = sort_dirs;
  l.query.limit = l.limit;
  l.query.marker = l.marker;
  return l;
}

json select_fields(const json& resource, const listing& l) {
  if (l.fields.empty())
    return resource;
  json out = json::object();
  for (auto it = resource.begin(); it != resource.end(); ++it)
    if (contains(l.fields, it.key()))
      out[it.key()] = it.value();
  return out;
}

json collection_body(const listing_spec& spec, const listing& l, json resources,
                     const std::string& host_url) {
  json body = json::object();
  bool full_page = l.limit && !resources.empty() && static_cast<std::int64_t>(resources.size()) == *l.limit;
  std::string last_id = full_page ? resources.back().value("id", "") : "";
  body[spec.collection] = std::move(resources);
  if (full_page) {
    std::string link = host_url + "/v2/" + spec.collection + "?sort_keys=" + join(l.sort_keys) +
                       "&sort_dirs=" + join(l.sort_dirs) + "&";
    for (const auto& [name, value] : l.filter_args)
      link += name + "=" + value + "&";
    link += "limit=" + std::to_string(*l.limit) + "&marker=" + last_id;
    if (!l.fields.empty())
      link += "&fields=" + join(l.fields);
    body["next"] = link;
  }
  return body;
}

} // namespace mistral::api
