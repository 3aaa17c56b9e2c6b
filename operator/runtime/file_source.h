// A Source over YAML files, for the command line: every document of the given files (a
// directory stands for its *.yaml / *.yml files, not recursively) becomes an object keyed by
// metadata.name ("<file>#<n>" for a document without one). run() re-reads when the set of files
// or a file's modification time or size changes, once a second, and notifies handlers of added,
// changed and removed documents; metadata.generation counts a document's changes, so a
// controller's watch_for sees an edit as a spec change.
//
// A file that cannot be read or is not YAML is reported by problems() and logged; its documents
// from the last good read stay in the cache, so a half-saved file does not stop maintenance. A
// second document with a name already taken is left out and reported.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "operator/runtime/object_cache.h"
#include "operator/runtime/source.h"

namespace partop::runtime {

struct FileProblem {
  std::string message;  // "<file>: ..."
  bool unreadable;      // the file itself could not be read or is not YAML
};

class FileSource : public Source, public ObjectStore {
 public:
  // Only the documents `accepts` returns true for are kept (all when it is empty): a source per
  // kind over the same files.
  using Filter = std::function<bool(const nlohmann::json&)>;
  explicit FileSource(std::vector<std::string> paths, Filter accepts = {});

  // Reads every file now (run() does this too); returns the problems of this read.
  std::vector<FileProblem> load();
  // Keys in file order, then document order: the order a one-shot command reports them.
  std::vector<std::string> keys() const;

  const ObjectStore& store() const override { return *this; }
  void add_handler(Handler handler) override;
  bool synced() const override { return synced_; }
  void run(const std::atomic<bool>& stop) override;

  std::optional<nlohmann::json> get(const std::string& key) const override;
  std::vector<nlohmann::json> list() const override;
  void for_each(const std::function<void(const nlohmann::json&)>& visit) const override;
  void for_each_indexed(const ObjectIndex& index, const std::string& value,
                        const std::function<void(const nlohmann::json&)>& visit) const override;

 private:
  struct FileStamp {
    std::filesystem::file_time_type modified;
    std::uintmax_t size = 0;
    bool operator==(const FileStamp&) const = default;
  };
  std::map<std::string, FileStamp> stamps() const;

  std::vector<std::string> paths_;
  Filter accepts_;
  std::map<std::string, FileStamp> seen_;
  std::map<std::string, std::vector<nlohmann::json>> documents_by_file_;  // last good read
  mutable std::mutex mutex_;
  std::vector<std::string> order_;  // keys in file, then document order
  ObjectCache objects_;             // by key
  std::vector<Handler> handlers_;
  std::atomic<bool> synced_{false};
};

// The YAML files a path names: itself, or a directory's *.yaml and *.yml files, sorted.
std::vector<std::string> yaml_files(const std::string& path);

}  // namespace partop::runtime
