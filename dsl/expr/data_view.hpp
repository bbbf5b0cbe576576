#pragma once

#include "common/json.hpp"

#include <string_view>
#include <vector>

namespace mistral::expr {

/// A read-only view of the expression data context (`$` in YAQL, `_` in
/// Jinja) made of one or more JSON objects layered over each other, like
/// Mistral's ContextView: the first layer that has a key wins. Nothing is
/// copied; the layers must outlive the view.
class data_view {
public:
  data_view() = default;
  /// A view of one value (any JSON type, not only objects).
  data_view(const json& single) : layers_{&single} {}
  /// A view of several objects; earlier layers win.
  explicit data_view(std::vector<const json*> layers) : layers_(std::move(layers)) {}

  /// True for a single layer: root() is then that value itself.
  bool is_single() const noexcept { return layers_.size() == 1; }
  bool empty() const noexcept { return layers_.empty(); }

  /// The value of `key` in the first layer that is an object holding it, or null.
  const json* find(std::string_view key) const;

  /// The single layer, when is_single().
  const json& root() const { return *layers_.front(); }

  /// The merged value (copies; only for expressions that need `$` whole).
  json materialize() const;

  /// Python's repr of the data as error messages show it: the value's repr
  /// for one layer; for several, Mistral's ContextView.__repr__, which joins
  /// each layer's dict repr without its braces (so an empty layer leaves ", ,").
  std::string python_repr() const;

  const std::vector<const json*>& layers() const noexcept { return layers_; }

private:
  std::vector<const json*> layers_;
};

} // namespace mistral::expr
