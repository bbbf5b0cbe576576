#include "actors/cluster/network.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <vector>

namespace mistral::cluster {

namespace {

std::vector<std::string> plugin_candidates() {
  std::vector<std::string> out;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec)
    out.push_back((exe.parent_path() / network_plugin_name).string());
#ifdef MISTRAL_PLUGIN_BUILD_DIR
  out.push_back(std::string(MISTRAL_PLUGIN_BUILD_DIR) + "/" + network_plugin_name);
#endif
  return out;
}

result<const network_functions*> open_plugin() {
  std::string tried;
  for (const auto& path : plugin_candidates()) {
    void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      tried += (tried.empty() ? "" : "; ") + std::string(::dlerror());
      continue;
    }
    using entry = const network_functions* (*)();
    auto get = reinterpret_cast<entry>(::dlsym(lib, "mistral_cluster_network"));
    if (get == nullptr)
      return error(errc::unavailable, path + " has no mistral_cluster_network()");
    return get(); // the plugin stays loaded for the life of the process
  }
  return error(errc::unavailable, std::string("cannot load the cluster plugin ") + network_plugin_name +
                                    " (it belongs beside mistral-server): " + tried);
}

} // namespace

result<const network_functions*> network() {
  static const result<const network_functions*> loaded = open_plugin();
  return loaded;
}

} // namespace mistral::cluster
