#pragma once

// What the notifier does with one notification, as plain data: which
// publishers get it and how (Mistral's DefaultNotifier and its webhook and
// noop publishers), the HTTP request a webhook makes, whether the receiver
// took it, and when a failed delivery is tried again. No actor here.

#include "actors/action/std_actions.hpp"
#include "common/json.hpp"
#include "config/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mistral::notifier {

/// [notifier] settings of this server (Mistral does not retry; we do).
struct settings {
  int attempts = 5;               ///< tries per webhook delivery, the first included
  double retry_delay = 1.0;       ///< seconds before the second try; doubled for each next one
  double max_retry_delay = 60.0;  ///< the longest wait between two tries
  double timeout = 30.0;          ///< seconds one HTTP request may take
  std::size_t max_queued = 10000; ///< deliveries one receiver may have waiting; more are dropped
};

/// Reads [notifier] webhook_attempts, webhook_retry_delay,
/// webhook_max_retry_delay and webhook_timeout (out-of-range values are
/// clamped: at least one attempt, no negative delay, a positive timeout).
settings read_settings(const config::config& cfg);

/// The [notifier] notify option as a publisher list: each item is a JSON
/// object (oslo's item_type=json.loads). Items that are not JSON objects
/// are left out and described in `warnings`.
json config_publishers(const config::config& cfg, std::vector<std::string>* warnings = nullptr);

/// Mistral's start_workflow: the configured publishers are appended to
/// params.notify (created when missing or empty). No-op when `configured`
/// is empty.
void add_configured_publishers(json& params, const json& configured);

/// Seconds to wait before try number `attempt` (2 for the first retry).
double retry_delay_before(const settings& s, int attempt);

/// How one publisher takes one notification.
struct delivery {
  enum class kind { webhook, noop, invalid };
  kind how = kind::invalid;
  std::string publisher_type; ///< as given ("" when missing)
  std::string problem;        ///< for invalid: what Mistral logs
  std::string url;            ///< webhook: where it is POSTed; also its queue's key
  json http_input;            ///< webhook: the std.http input of the POST
};

/// The deliveries of one notification, one per publisher, in order.
/// `data` is what is sent (its "event" included).
std::vector<delivery> plan_deliveries(const json& data, const json& publishers, const settings& s);

/// Mistral's WebhookPublisher.publish: requests.post(url,
/// data=json.dumps(data), headers=headers) — the body is Python's JSON text
/// and only the publisher's headers are added. Redirects are followed, as
/// requests.post does. The timeout is ours (requests has none).
json webhook_http_input(const std::string& url, const json& headers, const json& data, const settings& s);

/// nullopt when the receiver took the notification (HTTP 200 or 201, as
/// WebhookPublisher checks), else why not: the response text or the error.
std::optional<std::string> webhook_failure(const action::action_result& r);

} // namespace mistral::notifier
