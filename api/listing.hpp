#pragma once

// GET collection semantics of Mistral's rest_utils.get_all: marker, limit,
// sort_keys, sort_dirs, fields, the filter operators, and the `next` link.

#include "api/http_types.hpp"
#include "common/error.hpp"
#include "common/json.hpp"
#include "persistence/query.hpp"

#include <optional>
#include <string>
#include <vector>

namespace mistral::api {

/// What a collection accepts.
struct listing_spec {
  std::string collection;                ///< "workflows": the body key and URL segment
  std::vector<std::string> fields;       ///< the resource's fields, in Mistral's order
  std::vector<std::string> filters;      ///< query parameters that filter (column names)
  std::vector<std::string> extra_args;   ///< other accepted parameters (include_output, ...)
  std::vector<std::string> list_filters; ///< filters whose value is a comma list of all-required items (tags)
  std::string default_sort_key = "created_at";
  std::string default_sort_dir = "asc";
};

/// A parsed collection request.
struct listing {
  persistence::list_query query;
  std::vector<std::string> fields;    ///< requested fields, `id` first; empty = all
  std::vector<std::string> sort_keys; ///< after Mistral appends `id` for paging
  std::vector<std::string> sort_dirs;
  std::vector<std::pair<std::string, std::string>> filter_args; ///< name, "op:value" for the next link
  std::optional<std::int64_t> limit;
  std::optional<std::string> marker;
};

/// Parses and validates the query of a collection GET with Mistral's
/// messages ("Limit must be positive.", "Unknown sort direction...",
/// `Unknown argument: "x"`, "Some fields do not exist ...").
result<listing> parse_listing(const http_request& req, const listing_spec& spec);

/// Keeps only the requested fields of a resource (all when none were asked).
json select_fields(const json& resource, const listing& l);

/// The collection body: {"<collection>": [...], "next": link when the page is full}.
json collection_body(const listing_spec& spec, const listing& l, json resources, const std::string& host_url);

} // namespace mistral::api
