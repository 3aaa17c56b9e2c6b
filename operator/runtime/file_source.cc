#include "operator/runtime/file_source.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "operator/runtime/log.h"
#include "reconcilers/partition/policy_parser.h"

namespace partop::runtime {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> yaml_files(const std::string& path) {
  if (!fs::is_directory(path)) return {path};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    const auto extension = entry.path().extension();
    if (entry.is_regular_file() && (extension == ".yaml" || extension == ".yml"))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

FileSource::FileSource(std::vector<std::string> paths, Filter accepts)
    : paths_(std::move(paths)), accepts_(std::move(accepts)) {}

std::map<std::string, FileSource::FileStamp> FileSource::stamps() const {
  std::map<std::string, FileStamp> out;
  for (const auto& path : paths_) {
    for (const auto& file : yaml_files(path)) {
      std::error_code error;
      FileStamp stamp;
      stamp.modified = fs::last_write_time(file, error);
      if (!error) stamp.size = fs::file_size(file, error);
      out[file] = error ? FileStamp{} : stamp;
    }
  }
  return out;
}

std::vector<FileProblem> FileSource::load() {
  std::vector<FileProblem> problems;
  const auto files = stamps();
  std::map<std::string, std::vector<json>> documents_by_file;
  for (const auto& [file, stamp] : files) {
    std::ifstream in(file);
    std::stringstream text;
    if (in) text << in.rdbuf();
    YamlDocuments read = in ? read_yaml_documents(text.str())
                            : YamlDocuments{{}, FieldError{file, "cannot be read"}};
    if (read.error) {
      problems.push_back({file + ": " + read.error->to_string(), true});
      if (auto last = documents_by_file_.find(file); last != documents_by_file_.end())
        documents_by_file[file] = last->second;
      continue;
    }
    auto& documents = documents_by_file[file];
    for (auto& document : read.documents) {
      json& value = document.value;
      if (!value.is_object()) value = json::object({{"document", value}});
      if (accepts_ && !accepts_(value)) continue;
      json& metadata = value["metadata"];
      if (!metadata.is_object()) metadata = json::object();
      if (!metadata.contains("name") || !metadata["name"].is_string() ||
          metadata["name"].get<std::string>().empty()) {
        metadata["name"] = file + "#" + std::to_string(document.number);
      }
      documents.push_back(std::move(value));
    }
  }

  // The new view, with each key's generation carried over or bumped on a change.
  std::vector<std::string> order;
  std::map<std::string, json> objects;
  std::vector<std::string> changed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [file, documents] : documents_by_file) {
      for (json& value : documents) {
        const std::string key = value["metadata"]["name"].get<std::string>();
        if (objects.count(key)) {
          problems.push_back(
              {file + ": a second document named \"" + key + "\" is left out", false});
          continue;
        }
        json object = value;
        const json* old = objects_.find(key);
        int64_t generation = 1;
        if (old != nullptr) {
          json old_body = *old;
          generation = old_body["metadata"].value("generation", int64_t{1});
          old_body["metadata"].erase("generation");
          if (old_body != object) ++generation;
        }
        object["metadata"]["generation"] = generation;
        order.push_back(key);
        objects.emplace(key, std::move(object));
      }
    }
    for (const auto& [key, object] : objects_.objects()) {
      if (!objects.count(key)) changed.push_back(key);
    }
    for (const auto& [key, object] : objects) {
      const json* old = objects_.find(key);
      if (old == nullptr || *old != object) changed.push_back(key);
    }
    objects_.replace(objects);
    order_ = order;
  }
  documents_by_file_ = std::move(documents_by_file);
  seen_ = files;
  for (const auto& problem : problems)
    log(LogLevel::kError, "cannot use a document", {{"problem", problem.message}});
  for (const auto& key : changed) {
    const auto object = objects.find(key);
    for (const auto& handler : handlers_)
      handler(key, object == objects.end() ? nullptr : &object->second);
  }
  synced_ = true;
  return problems;
}

std::vector<std::string> FileSource::keys() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return order_;
}

void FileSource::add_handler(Handler handler) {
  handlers_.push_back(std::move(handler));
}

void FileSource::run(const std::atomic<bool>& stop) {
  if (!synced_) load();
  while (!stop) {
    for (int i = 0; i < 10 && !stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!stop && stamps() != seen_) load();
  }
}

std::optional<json> FileSource::get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const json* object = objects_.find(key);
  if (object == nullptr) return std::nullopt;
  return *object;
}

std::vector<json> FileSource::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<json> out;
  for (const auto& key : order_) out.push_back(*objects_.find(key));
  return out;
}

void FileSource::for_each(const std::function<void(const json&)>& visit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& key : order_) visit(*objects_.find(key));
}

void FileSource::for_each_indexed(const ObjectIndex& index, const std::string& value,
                                  const std::function<void(const json&)>& visit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  objects_.for_each_indexed(index, value, visit);
}

}  // namespace partop::runtime
