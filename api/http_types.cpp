#include "api/http_types.hpp"

#include <algorithm>
#include <cctype>

namespace mistral::api {

std::optional<std::string> http_request::query_value(const std::string& name) const {
  for (const auto& [key, value] : query)
    if (key == name)
      return value;
  return std::nullopt;
}

std::optional<std::string> http_request::header(const std::string& name) const {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = headers.find(lower);
  if (it == headers.end())
    return std::nullopt;
  return it->second;
}

std::string http_request::host_url() const {
  auto host = header("host");
  return "http://" + (host && !host->empty() ? *host : std::string("localhost"));
}

http_response not_found_html() {
  http_response r;
  r.status = 404;
  r.content_type = "text/html; charset=UTF-8";
  r.body = "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n"
           "  The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>";
  return r;
}

} // namespace mistral::api
