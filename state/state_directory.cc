#include "brook/state/state_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

#include "brook/base/logging.h"
#include "brook/base/status_macros.h"
#include "proto/state_directory.pb.h"

namespace brook {
namespace {

constexpr char kMetadataFile[] = "brook.metadata";
constexpr uint32_t kMetadataVersion = 1;

std::string NewProcessId() {
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " '", path, "': ", std::strerror(errno)));
}

// Writes `contents` to `path` atomically: a temporary file, fsync, rename,
// fsync of the directory. A crash leaves the old file or the new one.
absl::Status WriteFileAtomically(const std::string& dir,
                                 const std::string& path,
                                 const std::string& contents) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  bool ok = ::write(fd, contents.data(), contents.size()) ==
                static_cast<ssize_t>(contents.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return ErrnoError("cannot write", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoError("cannot rename into", path);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadOrCreateProcessId(
    const std::string& dir, const std::string& application_id) {
  const std::string path = absl::StrCat(dir, "/", kMetadataFile);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    proto::StateDirectoryMetadata metadata;
    metadata.set_version(kMetadataVersion);
    metadata.set_process_id(NewProcessId());
    metadata.set_application_id(application_id);
    BROOK_RETURN_IF_ERROR(
        WriteFileAtomically(dir, path, metadata.SerializeAsString()));
    return metadata.process_id();
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  proto::StateDirectoryMetadata metadata;
  const std::string advice = absl::StrCat(
      "; if this directory is not needed, delete it and Brook restores "
      "state from the changelogs");
  if (!in.good() && !in.eof()) {
    return absl::DataLossError(
        absl::StrCat("cannot read '", path, "'", advice));
  }
  if (!metadata.ParseFromString(contents.str()) ||
      metadata.process_id().empty()) {
    return absl::DataLossError(absl::StrCat("state directory metadata '", path,
                                            "' is corrupt", advice));
  }
  if (metadata.version() != kMetadataVersion) {
    return absl::DataLossError(absl::StrCat(
        "state directory metadata '", path, "' has version ",
        metadata.version(), ", this Brook reads version ", kMetadataVersion));
  }
  if (metadata.application_id() != application_id) {
    return absl::DataLossError(absl::StrCat(
        "state directory '", dir, "' belongs to application.id '",
        metadata.application_id(), "', not '", application_id, "'"));
  }
  return metadata.process_id();
}

// Creates `path` (and missing parents) if missing. A directory created here
// gets mode 0700 by chmod, whatever the umask: state holds the
// application's data. An existing one keeps its mode, with a warning if
// group or others may enter it, unless `tighten_existing` (directories
// only Brook makes, such as task directories), which sets 0700.
absl::Status MakePrivateDirectory(const std::string& path,
                                  absl::string_view what,
                                  bool tighten_existing) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", what, " '", path, "': ", ec.message()));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("cannot stat", path);
  if ((st.st_mode & 0777) == 0700) return absl::OkStatus();
  if (created || tighten_existing) {
    if (::chmod(path.c_str(), 0700) != 0) {
      return ErrnoError("cannot set mode 0700 on", path);
    }
    return absl::OkStatus();
  }
  if ((st.st_mode & 0077) != 0) {
    LOG(WARNING) << what << " '" << path << "' has mode "
                 << absl::StrFormat("%04o", st.st_mode & 0777)
                 << ": other users may read the application's state; "
                    "chmod 700 it";
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<StateDirectory>> StateDirectory::Open(
    const std::string& root, const std::string& application_id) {
  if (root.empty()) {
    return absl::InvalidArgumentError("'state.dir' must not be empty");
  }
  if (application_id.empty() || application_id.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'application.id'='", application_id,
                     "' must be non-empty and contain no '/'"));
  }
  const std::string path = absl::StrCat(root, "/", application_id);
  BROOK_RETURN_IF_ERROR(MakePrivateDirectory(
      root, "state directory ('state.dir')", /*tighten_existing=*/false));
  BROOK_RETURN_IF_ERROR(MakePrivateDirectory(
      path, "application state directory", /*tighten_existing=*/false));
  const std::string lock_path = path + "/.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open lock file", lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "state directory '", path,
        "' is locked by another Brook instance; give each instance its own "
        "'state.dir'"));
  }
  absl::StatusOr<std::string> process_id =
      ReadOrCreateProcessId(path, application_id);
  if (!process_id.ok()) {
    ::close(fd);
    return process_id.status();
  }
  return std::unique_ptr<StateDirectory>(
      new StateDirectory(path, *std::move(process_id), fd));
}

StateDirectory::~StateDirectory() { ::close(lock_fd_); }

TaskDirectory::~TaskDirectory() {
  // The lock file's time says when the task was last released here.
  ::futimens(lock_fd_, nullptr);
  ::close(lock_fd_);
  if (release_) release_();
}

bool StateDirectory::Claim(const std::string& task) const {
  absl::MutexLock lock(&mu_);
  return claimed_.insert(task).second;
}

void StateDirectory::Unclaim(const std::string& task) const {
  absl::MutexLock lock(&mu_);
  claimed_.erase(task);
}

namespace {

// Takes the lock of a task directory without blocking; -1 if held.
int TryLock(const std::string& dir) {
  const std::string lock_path = dir + "/.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool IsTaskName(const std::string& name) {
  const size_t sep = name.find('_');
  if (sep == std::string::npos || sep == 0 || sep + 1 == name.size())
    return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (i != sep && !std::isdigit(static_cast<unsigned char>(name[i])))
      return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TaskDirectory>>
StateDirectory::LockTaskDirectory(const std::string& task) const {
  const std::string dir = absl::StrCat(path_, "/", task);
  if (!Claim(task)) {
    return absl::UnavailableError(absl::StrCat(
        "task directory '", dir,
        "' is held by another stream thread of this instance, or being "
        "cleaned up"));
  }
  if (absl::Status s = MakePrivateDirectory(dir, "task directory",
                                            /*tighten_existing=*/true);
      !s.ok()) {
    Unclaim(task);
    return s;
  }
  int fd = TryLock(dir);
  if (fd < 0) {
    Unclaim(task);
    return absl::UnavailableError(absl::StrCat(
        "task directory '", dir, "' is locked by another process"));
  }
  ::futimens(fd, nullptr);
  return std::make_unique<TaskDirectory>(dir, fd,
                                         [this, task] { Unclaim(task); });
}

std::vector<std::string> StateDirectory::CleanObsoleteTaskDirectories(
    absl::Duration delay) const {
  std::vector<std::string> removed;
  std::error_code ec;
  std::vector<std::filesystem::path> candidates;
  for (const auto& entry : std::filesystem::directory_iterator(path_, ec)) {
    if (entry.is_directory() && IsTaskName(entry.path().filename().string()))
      candidates.push_back(entry.path());
  }
  for (const std::filesystem::path& path : candidates) {
    const std::string name = path.filename().string();
    // Claimed, no thread of this instance can take it while it is judged
    // and deleted; flock keeps other processes out.
    if (!Claim(name)) continue;
    const std::string dir = path.string();
    int fd = TryLock(dir);
    if (fd >= 0) {
      struct stat st;
      const bool old = ::fstat(fd, &st) == 0 &&
                       absl::Now() - absl::TimeFromTimespec(st.st_mtim) > delay;
      if (old) {
        std::filesystem::remove_all(dir, ec);
        if (!ec) removed.push_back(name);
      }
      ::close(fd);
    }
    Unclaim(name);
  }
  return removed;
}

}  // namespace brook
