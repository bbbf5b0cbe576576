#include "dsl/expr/data_view.hpp"
#include "dsl/expr/py_value.hpp"

namespace mistral::expr {

const json* data_view::find(std::string_view key) const {
  for (const json* layer : layers_) {
    if (layer == nullptr || !layer->is_object())
      continue;
    auto it = layer->find(key);
    if (it != layer->end())
      return &*it;
  }
  return nullptr;
}

json data_view::materialize() const {
  if (layers_.empty())
    return json();
  if (is_single())
    return *layers_.front();
  // Later layers go first so that earlier ones overwrite them, but keys keep
  // the order in which they first appear from the top layer down.
  json merged = json::object();
  for (const json* layer : layers_) {
    if (layer == nullptr || !layer->is_object())
      continue;
    for (auto it = layer->begin(); it != layer->end(); ++it)
      if (!merged.contains(it.key()))
        merged[it.key()] = it.value();
  }
  return merged;
}

std::string data_view::python_repr() const {
  if (layers_.empty())
    return "None";
  if (is_single())
    return py_str(root()); // Mistral formats the data with %s
  std::string out = "{";
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::string r = py_repr(*layers_[i]);
    if (i)
      out += ", ";
    out += r.size() >= 2 ? r.substr(1, r.size() - 2) : r;
  }
  return out + "}";
}

} // namespace mistral::expr
