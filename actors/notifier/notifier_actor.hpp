#pragma once

#include "actors/notifier/delivery.hpp"

#include <caf/fwd.hpp>

namespace mistral::actors {

/// Spawns the notifier role's actor (Mistral's NotificationServer with its
/// DefaultNotifier).
///
/// Messages:
/// - notify_msg: publish one event. Each publisher of the message gets it:
///   `noop` logs it, `webhook` POSTs the data to its `url` with its
///   `headers`, an unknown or missing type is logged as an error. Webhook
///   deliveries queue per URL on a thread of their own (a lane), so a slow
///   receiver holds up nobody else and one receiver gets its events in the
///   order they were committed. A failed POST (no HTTP 200/201, or no
///   answer) is tried again after `retry_delay_before` until
///   `settings.attempts` tries were made, then dropped with an error in
///   the log; meanwhile the lane goes on with the next events, so a retried
///   event may arrive after later ones.
///
/// Nothing is answered: the engine never waits for a notification.
caf::actor spawn_notifier(caf::actor_system& sys, notifier::settings s);

/// Spawns the engine's way to a notifier when this process has no notifier
/// role: it forwards notify_msg to the notifier that `directory` (the
/// cluster directory, see protocol.hpp) names for `(lookup_atom,
/// "notifier", "")`, and to `local_fallback` while none is known (no
/// directory, no live notifier node, or the lookup failed), so a
/// notification is never dropped for want of a notifier. Messages keep
/// their order while a lookup is under way. A notifier node that goes down
/// is looked up again for the next message.
caf::actor spawn_notifier_client(caf::actor_system& sys, caf::actor local_fallback, caf::actor directory);

} // namespace mistral::actors
