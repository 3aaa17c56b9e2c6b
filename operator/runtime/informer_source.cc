#include "operator/runtime/informer_source.h"

#include <thread>

namespace partop::runtime {
namespace {

std::vector<std::string> collection_paths(const Resource& resource,
                                          const std::vector<std::string>& namespaces) {
  if (namespaces.empty()) return {resource.id()};
  std::vector<std::string> paths;
  for (const auto& ns : namespaces)
    paths.push_back(resource.group_version_path + "/namespaces/" + ns + "/" + resource.plural);
  return paths;
}

std::vector<const ObjectStore*> stores_of(const std::vector<std::unique_ptr<Informer>>& informers) {
  std::vector<const ObjectStore*> stores;
  for (const auto& informer : informers) stores.push_back(informer.get());
  return stores;
}

std::vector<std::unique_ptr<Informer>> make_informers(kube::Client& client,
                                                      const Resource& resource,
                                                      const std::vector<std::string>& namespaces,
                                                      const Informer::Handler& handler) {
  std::vector<std::unique_ptr<Informer>> informers;
  for (const auto& path : collection_paths(resource, namespaces))
    informers.push_back(std::make_unique<Informer>(client, path, handler));
  return informers;
}

}  // namespace

InformerSource::InformerSource(kube::Client& client, const Resource& resource,
                               const std::vector<std::string>& namespaces)
    : informers_(make_informers(
          client, resource, namespaces,
          [this](const std::string& key, const nlohmann::json* object) { notify(key, object); })),
      store_(stores_of(informers_)) {}

void InformerSource::add_handler(Handler handler) {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  handlers_.push_back(std::move(handler));
}

void InformerSource::notify(const std::string& key, const nlohmann::json* object) {
  std::vector<Handler> handlers;
  {
    std::lock_guard<std::mutex> lock(handlers_mutex_);
    handlers = handlers_;
  }
  for (const auto& handler : handlers) handler(key, object);
}

bool InformerSource::synced() const {
  for (const auto& informer : informers_) {
    if (!informer->synced()) return false;
  }
  return true;
}

void InformerSource::run(const std::atomic<bool>& stop) {
  std::vector<std::thread> threads;
  for (auto& informer : informers_)
    threads.emplace_back([&stop, i = informer.get()] { i->run(stop); });
  for (auto& thread : threads) thread.join();
}

}  // namespace partop::runtime
