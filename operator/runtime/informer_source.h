// A Source over the API server: one Informer per watched namespace (or one cluster-wide) for a
// collection such as "/apis/partop.dev/v1alpha1" + "partitionpolicies", seen as one cache.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "operator/kube/kube_client.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/source.h"

namespace partop::runtime {

// A collection of the API: `group_version_path` is "/api/v1" or "/apis/<group>/<version>".
struct Resource {
  std::string group_version_path;
  std::string plural;
  std::string id() const { return group_version_path + "/" + plural; }
};

class InformerSource : public Source {
 public:
  // `namespaces` empty: the whole cluster.
  InformerSource(kube::Client& client, const Resource& resource,
                 const std::vector<std::string>& namespaces);

  const ObjectStore& store() const override { return store_; }
  void add_handler(Handler handler) override;
  bool synced() const override;
  void run(const std::atomic<bool>& stop) override;

 private:
  void notify(const std::string& key, const nlohmann::json* object);

  std::vector<std::unique_ptr<Informer>> informers_;
  CompositeStore store_;
  std::mutex handlers_mutex_;
  std::vector<Handler> handlers_;
};

}  // namespace partop::runtime
