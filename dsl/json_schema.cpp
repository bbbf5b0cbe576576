#include "dsl/json_schema.hpp"

#include "dsl/py_regex.hpp"
#include "dsl/py_repr.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

namespace mistral::dsl {

namespace {

bool is_number(const json& v) {
  return v.is_number();
}

double as_double(const json& v) {
  if (v.is_number_integer())
    return static_cast<double>(v.get<std::int64_t>());
  if (v.is_number_unsigned())
    return static_cast<double>(v.get<std::uint64_t>());
  return v.get<double>();
}

// Draft 6+ type checker: an integral float is an "integer", bools are not numbers.
bool is_type(const json& v, const std::string& type) {
  if (type == "object")
    return v.is_object();
  if (type == "array")
    return v.is_array();
  if (type == "string")
    return v.is_string();
  if (type == "boolean")
    return v.is_boolean();
  if (type == "null")
    return v.is_null();
  if (type == "number")
    return is_number(v);
  if (type == "integer") {
    if (v.is_number_integer() || v.is_number_unsigned())
      return true;
    if (v.is_number_float()) {
      double d = v.get<double>();
      return std::isfinite(d) && std::trunc(d) == d;
    }
  }
  return false;
}

// jsonschema._utils.equal: bools never equal numbers, 1 == 1.0.
bool js_equal(const json& a, const json& b) {
  if (a.is_string() || b.is_string())
    return a.is_string() && b.is_string() &&
           a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size())
      return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!js_equal(a[i], b[i]))
        return false;
    return true;
  }
  if (a.is_object() && b.is_object()) {
    if (a.size() != b.size())
      return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto f = b.find(it.key());
      if (f == b.end() || !js_equal(*it, *f))
        return false;
    }
    return true;
  }
  if (a.is_boolean() || b.is_boolean())
    return a.is_boolean() && b.is_boolean() && a.get<bool>() == b.get<bool>();
  if (is_number(a) && is_number(b))
    return as_double(a) == as_double(b);
  return a.is_null() && b.is_null();
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

struct validator {
  std::vector<schema_error>& out;

  void add(std::string msg, const std::string& kw, const json& schema, const json& inst,
           std::vector<schema_error> context = {}) {
    schema_error e;
    e.message = std::move(msg);
    e.keyword = kw;
    e.schema = &schema;
    e.instance = &inst;
    e.context = std::move(context);
    out.push_back(std::move(e));
  }

  static std::vector<schema_error> descend(const json& inst, const json& schema,
                                           const std::string* path_elem = nullptr) {
    std::vector<schema_error> errs = iter_schema_errors(inst, schema);
    if (path_elem)
      for (auto& e : errs)
        e.path.insert(e.path.begin(), *path_elem);
    return errs;
  }

  void append(std::vector<schema_error>&& errs) {
    for (auto& e : errs)
      out.push_back(std::move(e));
  }

  void keyword(const std::string& k, const json& v, const json& inst, const json& schema) {
    if (k == "type") {
      std::vector<std::string> types;
      if (v.is_string())
        types.push_back(v.get<std::string>());
      else
        for (const auto& t : v)
          types.push_back(t.get<std::string>());
      bool ok = std::any_of(types.begin(), types.end(), [&](auto& t) { return is_type(inst, t); });
      if (!ok) {
        std::string reprs;
        for (const auto& t : types)
          reprs += (reprs.empty() ? "" : ", ") + py_repr(json(t));
        add(py_repr(inst) + " is not of type " + reprs, k, schema, inst);
      }
    } else if (k == "properties") {
      if (!inst.is_object())
        return;
      for (auto it = v.begin(); it != v.end(); ++it) {
        auto f = inst.find(it.key());
        if (f != inst.end())
          append(descend(*f, *it, &it.key()));
      }
    } else if (k == "patternProperties") {
      if (!inst.is_object())
        return;
      for (auto p = v.begin(); p != v.end(); ++p)
        for (auto it = inst.begin(); it != inst.end(); ++it)
          if (py_search(p.key(), it.key()))
            append(descend(*it, *p, &it.key()));
    } else if (k == "additionalProperties") {
      additional(v, inst, schema);
    } else if (k == "required") {
      if (!inst.is_object())
        return;
      for (const auto& r : v)
        if (!inst.contains(r.get<std::string>()))
          add(py_repr(r) + " is a required property", k, schema, inst);
    } else if (k == "minProperties") {
      if (inst.is_object() && inst.size() < v.get<std::size_t>())
        add(py_repr(inst) + " does not have enough properties", k, schema, inst);
    } else if (k == "maxProperties") {
      if (inst.is_object() && inst.size() > v.get<std::size_t>())
        add(py_repr(inst) + " has too many properties", k, schema, inst);
    } else if (k == "items") {
      if (!inst.is_array())
        return;
      for (std::size_t i = 0; i < inst.size(); ++i) {
        std::string idx = std::to_string(i);
        append(descend(inst[i], v, &idx));
      }
    } else if (k == "minItems") {
      if (inst.is_array() && inst.size() < v.get<std::size_t>())
        add(py_repr(inst) + " is too short", k, schema, inst);
    } else if (k == "maxItems") {
      if (inst.is_array() && inst.size() > v.get<std::size_t>())
        add(py_repr(inst) + " is too long", k, schema, inst);
    } else if (k == "uniqueItems") {
      if (v.get<bool>() && inst.is_array() && !unique(inst))
        add(py_repr(inst) + " has non-unique elements", k, schema, inst);
    } else if (k == "minLength") {
      if (inst.is_string() && code_points(inst.get<std::string>()) < v.get<std::size_t>())
        add(py_repr(inst) + " is too short", k, schema, inst);
    } else if (k == "pattern") {
      if (inst.is_string() && !py_search(v.get<std::string>(), inst.get<std::string>()))
        add(py_repr(inst) + " does not match " + py_repr(v), k, schema, inst);
    } else if (k == "minimum") {
      if (is_number(inst) && as_double(inst) < as_double(v))
        add(py_repr(inst) + " is less than the minimum of " + py_repr(v), k, schema, inst);
    } else if (k == "enum") {
      bool found = false;
      for (const auto& e : v)
        found = found || js_equal(inst, e);
      if (!found)
        add(py_repr(inst) + " is not one of " + py_repr(v), k, schema, inst);
    } else if (k == "anyOf") {
      std::vector<schema_error> all;
      for (const auto& sub : v) {
        auto errs = descend(inst, sub);
        if (errs.empty())
          return;
        for (auto& e : errs)
          all.push_back(std::move(e));
      }
      add(py_repr(inst) + " is not valid under any of the given schemas", k, schema, inst, std::move(all));
    } else if (k == "oneOf") {
      one_of(v, inst, schema);
    } else if (k == "not") {
      if (schema_is_valid(inst, v))
        add(py_repr(inst) + " should not be valid under " + py_repr(v), k, schema, inst);
    }
  }

  void additional(const json& ap, const json& inst, const json& schema) {
    if (!inst.is_object())
      return;
    const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    const json* patterns = schema.contains("patternProperties") ? &schema["patternProperties"] : nullptr;
    std::vector<std::string> extras;
    for (auto it = inst.begin(); it != inst.end(); ++it) {
      if (props && props->contains(it.key()))
        continue;
      bool matched = false;
      if (patterns)
        for (auto p = patterns->begin(); p != patterns->end() && !matched; ++p)
          matched = py_search(p.key(), it.key());
      if (!matched)
        extras.push_back(it.key());
    }
    if (ap.is_object()) {
      for (const auto& x : extras)
        append(descend(inst[x], ap, &x));
    } else if (ap.is_boolean() && !ap.get<bool>() && !extras.empty()) {
      if (patterns) {
        std::vector<std::string> sorted_extras = extras, pats;
        std::sort(sorted_extras.begin(), sorted_extras.end());
        for (auto p = patterns->begin(); p != patterns->end(); ++p)
          pats.push_back(p.key());
        std::sort(pats.begin(), pats.end());
        std::string joined, pj;
        for (const auto& x : sorted_extras)
          joined += (joined.empty() ? "" : ", ") + py_repr(json(x));
        for (const auto& x : pats)
          pj += (pj.empty() ? "" : ", ") + py_repr(json(x));
        add(joined + (extras.size() == 1 ? " does" : " do") + " not match any of the regexes: " + pj,
            "additionalProperties", schema, inst);
      } else {
        // Python lists a set here (hash order, different in every process);
        // sorted is as good a guess as any and stable.
        std::vector<std::string> sorted_extras = extras;
        std::sort(sorted_extras.begin(), sorted_extras.end());
        std::string joined;
        for (const auto& x : sorted_extras)
          joined += (joined.empty() ? "" : ", ") + py_repr(json(x));
        add("Additional properties are not allowed (" + joined + (extras.size() == 1 ? " was" : " were") +
              " unexpected)",
            "additionalProperties", schema, inst);
      }
    }
  }

  void one_of(const json& v, const json& inst, const json& schema) {
    std::vector<schema_error> all;
    std::size_t first_valid = v.size();
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto errs = descend(inst, v[i]);
      if (errs.empty()) {
        first_valid = i;
        break;
      }
      for (auto& e : errs)
        all.push_back(std::move(e));
    }
    if (first_valid == v.size()) {
      add(py_repr(inst) + " is not valid under any of the given schemas", "oneOf", schema, inst,
          std::move(all));
      return;
    }
    std::vector<const json*> more;
    for (std::size_t i = first_valid + 1; i < v.size(); ++i)
      if (schema_is_valid(inst, v[i]))
        more.push_back(&v[i]);
    if (!more.empty()) {
      more.push_back(&v[first_valid]);
      std::string reprs;
      for (const json* s : more)
        reprs += (reprs.empty() ? "" : ", ") + py_repr(*s);
      add(py_repr(inst) + " is valid under each of " + reprs, "oneOf", schema, inst);
    }
  }

  static bool unique(const json& arr) {
    for (std::size_t i = 0; i < arr.size(); ++i)
      for (std::size_t j = i + 1; j < arr.size(); ++j)
        if (js_equal(arr[i], arr[j]))
          return false;
    return true;
  }
};

// jsonschema.exceptions.relevance: (-len(path), not weak, strong, not matches type).
using relevance_key = std::tuple<long, bool, bool, bool>;

relevance_key relevance(const schema_error& e) {
  bool weak = e.keyword == "anyOf" || e.keyword == "oneOf";
  bool matches_type = false;
  if (e.schema && e.schema->is_object() && e.schema->contains("type")) {
    const json& t = (*e.schema)["type"];
    if (t.is_string())
      matches_type = is_type(*e.instance, t.get<std::string>());
    else if (t.is_array())
      for (const auto& x : t)
        matches_type = matches_type || is_type(*e.instance, x.get<std::string>());
  }
  return {-static_cast<long>(e.path.size()), !weak, false, !matches_type};
}

} // namespace

std::vector<schema_error> iter_schema_errors(const json& instance, const json& schema) {
  std::vector<schema_error> out;
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) {
      schema_error e;
      e.message = "False schema does not allow " + py_repr(instance);
      e.schema = &schema;
      e.instance = &instance;
      out.push_back(std::move(e));
    }
    return out;
  }
  validator v{out};
  for (auto it = schema.begin(); it != schema.end(); ++it)
    v.keyword(it.key(), *it, instance, schema);
  return out;
}

bool schema_is_valid(const json& instance, const json& schema) {
  return iter_schema_errors(instance, schema).empty();
}

std::optional<std::string> validate_json_schema(const json& instance, const json& schema,
                                                std::vector<std::string>* path_out) {
  auto errors = iter_schema_errors(instance, schema);
  if (errors.empty())
    return std::nullopt;
  // best_match: the most relevant top-level error (the first of equals) ...
  const schema_error* best = &errors.front();
  for (const auto& e : errors)
    if (relevance(e) > relevance(*best))
      best = &e;
  std::vector<std::string> path = best->path;
  // ... then down its context while one sub-error is strictly least relevant.
  while (!best->context.empty()) {
    const schema_error* first = nullptr;
    const schema_error* second = nullptr;
    for (const auto& e : best->context) {
      if (!first || relevance(e) < relevance(*first)) {
        second = first;
        first = &e;
      } else if (!second || relevance(e) < relevance(*second)) {
        second = &e;
      }
    }
    if (second && relevance(*first) == relevance(*second))
      break;
    best = first;
    path.insert(path.end(), best->path.begin(), best->path.end());
  }
  if (path_out)
    *path_out = std::move(path);
  return best->message;
}

} // namespace mistral::dsl
