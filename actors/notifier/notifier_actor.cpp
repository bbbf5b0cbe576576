#include "actors/notifier/notifier_actor.hpp"

#include "actors/protocol.hpp"
#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace mistral::actors {

namespace {

// Local messages between the notifier and its lanes (they never leave the node).
using deliver_atom = caf::atom_constant<caf::atom("ntfdeliver")>;
using delivered_atom = caf::atom_constant<caf::atom("ntfdone")>;

/// Lanes are threads: past this many receivers, URLs share lanes.
constexpr std::size_t max_lanes = 32;

/// How long the client keeps using the local notifier after a lookup found none.
constexpr auto lookup_again_after = std::chrono::seconds(10);

std::string describe(const std::string& event, const std::string& execution_id, const std::string& url) {
  return "event " + (event.empty() ? std::string("None") : event) + " of " + execution_id + " to " + url;
}

/// One receiver's queue: POSTs run one at a time on this actor's own thread,
/// in the order they came. A failed one is tried again later through the
/// mailbox, so the next events do not wait for it.
caf::behavior lane(caf::event_based_actor* self, caf::actor owner, std::int32_t index, notifier::settings s,
                   std::shared_ptr<std::atomic<bool>> stopping) {
  return {
    [=](deliver_atom, const std::string& input_json, const std::string& what, std::int32_t attempt) {
      if (*stopping)
        return;
      json input = json::parse(input_json, nullptr, false);
      action::action_run run =
        action::run_std_action("std.http", input, action::action_context{}, stopping.get());
      auto failure =
        run.async ? std::optional<std::string>("no answer") : notifier::webhook_failure(run.result);
      if (!failure) {
        log::debug("notifier", "delivered " + what);
        self->send(owner, delivered_atom::value, index);
        return;
      }
      if (*stopping)
        return;
      if (attempt < s.attempts) {
        double delay = notifier::retry_delay_before(s, attempt + 1);
        log::warning("notifier", "webhook " + what + " failed (attempt " + std::to_string(attempt) + " of " +
                                   std::to_string(s.attempts) + "): " + *failure);
        self->delayed_send(self, std::chrono::microseconds(static_cast<std::int64_t>(delay * 1e6)),
                           deliver_atom::value, input_json, what, attempt + 1);
        return;
      }
      log::error("notifier", "webhook " + what + " dropped after " + std::to_string(attempt) +
                               " attempt(s): " + *failure);
      self->send(owner, delivered_atom::value, index);
    },
  };
}

struct lane_slot {
  caf::actor worker;
  std::size_t queued = 0; ///< deliveries sent to the lane and not finished (retries included)
};

struct notifier_state {
  static inline const char* name = "mistral.notifier";
  notifier::settings settings;
  std::shared_ptr<std::atomic<bool>> stopping = std::make_shared<std::atomic<bool>>(false);
  std::vector<lane_slot> lanes;
  std::unordered_map<std::string, std::size_t> lane_of; ///< by URL
};

using notifier_ptr = caf::stateful_actor<notifier_state>*;

std::size_t lane_for(notifier_ptr self, const std::string& url) {
  auto& st = self->state;
  auto it = st.lane_of.find(url);
  if (it != st.lane_of.end())
    return it->second;
  std::size_t index = st.lanes.size();
  if (index < max_lanes) {
    auto owner = caf::actor_cast<caf::actor>(self);
    st.lanes.push_back(lane_slot{self->spawn<caf::detached + caf::linked>(
      lane, owner, static_cast<std::int32_t>(index), st.settings, st.stopping)});
  } else {
    index = std::hash<std::string>{}(url) % st.lanes.size();
  }
  st.lane_of.emplace(url, index);
  return index;
}

caf::behavior notifier(notifier_ptr self, notifier::settings s) {
  self->state.settings = s;
  // Lanes blocked in a POST see this and give up at once when the node stops.
  self->attach_functor([flag = self->state.stopping] { *flag = true; });
  return {
    [self](notify_msg& m) {
      json data = json::parse(m.data_json, nullptr, false);
      json publishers = json::parse(m.publishers_json, nullptr, false);
      if (data.is_discarded() || publishers.is_discarded()) {
        log::error("notifier", "unreadable notification for " + m.execution_id);
        return;
      }
      std::string event = m.has_event ? m.event : std::string();
      for (auto& d : notifier::plan_deliveries(data, publishers, self->state.settings)) {
        switch (d.how) {
          case notifier::delivery::kind::noop:
            log::info("notifier", "The event " + (m.has_event ? m.event : std::string("None")) +
                                    " for [name=" + data.value("name", std::string()) + ", id=" +
                                    m.execution_id + "] is published by the noop notification publisher.");
            break;
          case notifier::delivery::kind::invalid: log::error("notifier", d.problem); break;
          case notifier::delivery::kind::webhook: {
            std::size_t index = lane_for(self, d.url);
            auto& slot = self->state.lanes[index];
            if (slot.queued >= self->state.settings.max_queued) {
              log::error("notifier", "webhook " + describe(event, m.execution_id, d.url) + " dropped: " +
                                       std::to_string(slot.queued) + " deliveries are already waiting");
              break;
            }
            ++slot.queued;
            self->send(slot.worker, deliver_atom::value, d.http_input.dump(),
                       describe(event, m.execution_id, d.url), std::int32_t{1});
            break;
          }
        }
      }
    },
    [self](delivered_atom, std::int32_t index) {
      auto& lanes = self->state.lanes;
      if (index >= 0 && static_cast<std::size_t>(index) < lanes.size() && lanes[index].queued > 0)
        --lanes[index].queued;
    },
  };
}

struct client_state {
  static inline const char* name = "mistral.notifier-client";
  caf::actor fallback;
  caf::actor directory;
  caf::actor remote; ///< the notifier node in use, if any
  bool looking_up = false;
  std::deque<notify_msg> held; ///< messages that came during a lookup
  std::chrono::steady_clock::time_point none_found_at{};
  bool none_found = false;
};

using client_ptr = caf::stateful_actor<client_state>*;

void release_held(client_ptr self) {
  auto& st = self->state;
  const caf::actor& to = st.remote ? st.remote : st.fallback;
  while (!st.held.empty()) {
    self->send(to, std::move(st.held.front()));
    st.held.pop_front();
  }
}

caf::behavior notifier_client(client_ptr self, caf::actor fallback, caf::actor directory) {
  self->state.fallback = std::move(fallback);
  self->state.directory = std::move(directory);
  self->set_down_handler([self](const caf::down_msg& dm) {
    if (self->state.remote && dm.source == self->state.remote.address()) {
      log::warning("notifier", "the notifier node went away; looking for another one");
      self->state.remote = nullptr;
    }
  });
  return {
    [self](notify_msg& m) {
      auto& st = self->state;
      if (st.remote) {
        self->send(st.remote, std::move(m));
        return;
      }
      bool recently_none =
        st.none_found && std::chrono::steady_clock::now() - st.none_found_at < lookup_again_after;
      if (!st.directory || recently_none) {
        self->send(st.fallback, std::move(m));
        return;
      }
      st.held.push_back(std::move(m));
      if (st.looking_up)
        return;
      st.looking_up = true;
      self
        ->request(st.directory, std::chrono::seconds(5), lookup_atom_v, std::string("notifier"),
                  std::string())
        .then(
          [self](caf::actor& found) {
            auto& st = self->state;
            st.looking_up = false;
            if (found && found != caf::actor_cast<caf::actor>(self)) {
              st.remote = found;
              st.none_found = false;
              self->monitor(found);
            } else {
              st.none_found = true;
              st.none_found_at = std::chrono::steady_clock::now();
            }
            release_held(self);
          },
          [self](caf::error&) {
            auto& st = self->state;
            st.looking_up = false;
            st.none_found = true;
            st.none_found_at = std::chrono::steady_clock::now();
            release_held(self);
          });
    },
  };
}

} // namespace

caf::actor spawn_notifier(caf::actor_system& sys, notifier::settings s) {
  return sys.spawn(notifier, s);
}

caf::actor spawn_notifier_client(caf::actor_system& sys, caf::actor local_fallback, caf::actor directory) {
  return sys.spawn(notifier_client, std::move(local_fallback), std::move(directory));
}

} // namespace mistral::actors
