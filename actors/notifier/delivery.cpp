#include "actors/notifier/delivery.hpp"

#include "common/py_json.hpp"

#include <algorithm>
#include <cmath>

namespace mistral::notifier {

settings read_settings(const config::config& cfg) {
  settings s;
  s.attempts = static_cast<int>(
    std::clamp<std::int64_t>(cfg.get_int("notifier", "webhook_attempts", s.attempts), 1, 1000));
  s.retry_delay = std::max(0.0, cfg.get_float("notifier", "webhook_retry_delay", s.retry_delay));
  s.max_retry_delay =
    std::max(s.retry_delay, cfg.get_float("notifier", "webhook_max_retry_delay", s.max_retry_delay));
  double timeout = cfg.get_float("notifier", "webhook_timeout", s.timeout);
  s.timeout = timeout > 0 ? timeout : settings{}.timeout;
  return s;
}

json config_publishers(const config::config& cfg, std::vector<std::string>* warnings) {
  json out = json::array();
  for (const auto& item : cfg.get_list("notifier", "notify")) {
    json parsed = json::parse(item, nullptr, false);
    if (parsed.is_object()) {
      out.push_back(std::move(parsed));
    } else if (warnings) {
      warnings->push_back("[notifier] notify: ignoring '" + item + "', it is not a JSON object");
    }
  }
  return out;
}

void add_configured_publishers(json& params, const json& configured) {
  if (!configured.is_array() || configured.empty())
    return;
  if (!params.is_object())
    params = json::object();
  json& notify = params["notify"];
  if (!notify.is_array())
    notify = json::array();
  for (const auto& p : configured)
    notify.push_back(p);
}

double retry_delay_before(const settings& s, int attempt) {
  if (attempt < 2)
    return 0;
  double d = s.retry_delay * std::pow(2.0, attempt - 2);
  return std::min(d, s.max_retry_delay);
}

std::vector<delivery> plan_deliveries(const json& data, const json& publishers, const settings& s) {
  std::vector<delivery> out;
  if (!publishers.is_array())
    return out;
  for (const auto& p : publishers) {
    if (!p.is_object())
      continue;
    delivery d;
    json type = p.value("type", json(nullptr));
    if (type.is_string())
      d.publisher_type = type.get<std::string>();
    if (d.publisher_type.empty()) {
      d.problem = "Notification publisher type is not specified.";
    } else if (d.publisher_type == "noop") {
      d.how = delivery::kind::noop;
    } else if (d.publisher_type == "webhook") {
      json url = p.value("url", json(nullptr));
      if (url.is_string() && !url.get<std::string>().empty()) {
        d.how = delivery::kind::webhook;
        d.url = url.get<std::string>();
        d.http_input = webhook_http_input(d.url, p.value("headers", json::object()), data, s);
      } else {
        d.problem = "Unable to process event for publisher \"webhook\": no url.";
      }
    } else {
      d.problem = "Unable to process event for publisher \"" + d.publisher_type + "\": no such publisher.";
    }
    out.push_back(std::move(d));
  }
  return out;
}

json webhook_http_input(const std::string& url, const json& headers, const json& data, const settings& s) {
  return json{{"url", url},
              {"method", "POST"},
              {"body", python_json_dumps(data)},
              {"headers", headers.is_object() ? headers : json::object()},
              {"allow_redirects", true},
              {"timeout", s.timeout}};
}

std::optional<std::string> webhook_failure(const action::action_result& r) {
  const json& result = r.outcome == action::action_result::kind::success ? r.data : r.error;
  if (r.outcome == action::action_result::kind::success && result.is_object()) {
    int status = result.value("status", 0);
    if (status == 200 || status == 201)
      return std::nullopt;
  }
  if (r.outcome == action::action_result::kind::cancelled)
    return std::string("cancelled");
  if (result.is_object() && result.contains("content")) {
    const json& content = result["content"];
    std::string text = content.is_string() ? content.get<std::string>() : content.dump();
    return "HTTP " + std::to_string(result.value("status", 0)) + (text.empty() ? "" : ": " + text);
  }
  return result.is_string() ? result.get<std::string>() : result.dump();
}

} // namespace mistral::notifier
