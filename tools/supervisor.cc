#include "tools/supervisor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::tools {
namespace {

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exited with code ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(wait_status), " (",
                        strsignal(WTERMSIG(wait_status)), ")");
  }
  return absl::StrCat("ended with wait status ", wait_status);
}

// A JSON string literal.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string QuoteList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(Quote(item));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

}  // namespace

Supervisor::~Supervisor() { StopAll(absl::Seconds(5)); }

ProcessState* Supervisor::Find(const std::string& name) {
  for (ProcessState& p : processes_) {
    if (p.spec.name == name) return &p;
  }
  return nullptr;
}

const ProcessState* Supervisor::Find(const std::string& name) const {
  for (const ProcessState& p : processes_) {
    if (p.spec.name == name) return &p;
  }
  return nullptr;
}

absl::Status Supervisor::Start(const ProcessSpec& spec) {
  if (Find(spec.name) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("process ", spec.name, " already exists"));
  }
  if (spec.argv.empty()) return absl::InvalidArgumentError("empty argv for " + spec.name);
  ProcessState process{.spec = spec};
  if (absl::Status s = Spawn(process); !s.ok()) return s;
  processes_.push_back(std::move(process));
  return absl::OkStatus();
}

absl::Status Supervisor::Restart(const std::string& name) {
  ProcessState* process = Find(name);
  if (process == nullptr) return absl::NotFoundError("no process named " + name);
  if (process->pid != 0) TryReap(*process);
  if (process->pid != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is still running (pid ", process->pid, ")"));
  }
  return Spawn(*process);
}

absl::Status Supervisor::SetEnvironment(const std::string& name, std::vector<std::string> env) {
  ProcessState* process = Find(name);
  if (process == nullptr) return absl::NotFoundError("no process named " + name);
  process->spec.env = std::move(env);
  return absl::OkStatus();
}

absl::Status Supervisor::Spawn(ProcessState& process) {
  const ProcessSpec& spec = process.spec;
  if (access(spec.argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot execute ", spec.argv[0], ": ", std::strerror(errno)));
  }
  // Everything the child needs is prepared before fork: after fork, in a multi-threaded parent,
  // only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // The child's environment, built before fork (the child may only call async-signal-safe
  // functions): ours, with spec.env's names replaced or added.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& extra : spec.env) replaced |= extra.substr(0, extra.find('=')) == name;
    if (!replaced) env_strings.push_back(entry);
  }
  env_strings.insert(env_strings.end(), spec.env.begin(), spec.env.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int log_fd = open(spec.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", spec.log, ": ", std::strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(err)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the supervisor died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    static const char kMessage[] = "supervisor: execv failed\n";
    (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    _exit(127);
  }
  close(log_fd);
  setpgid(pid, pid);  // also from the parent, so the group exists before anyone signals it
  process.pid = pid;
  process.exit_expected = false;
  return absl::OkStatus();
}

bool Supervisor::TryReap(ProcessState& process) {
  if (process.pid == 0) return true;
  int wait_status = 0;
  const pid_t r = waitpid(process.pid, &wait_status, WNOHANG);
  if (r == 0) return false;
  process.last_exit = r == process.pid ? DescribeExit(wait_status) : "lost (waitpid failed)";
  process.pid = 0;
  return true;
}

absl::Status Supervisor::Signal(const std::string& name, int signal) {
  ProcessState* process = Find(name);
  if (process == nullptr) return absl::NotFoundError("no process named " + name);
  if (process->pid != 0) TryReap(*process);
  if (process->pid == 0) return absl::FailedPreconditionError(name + " is not running");
  if (kill(process->pid, signal) != 0) {
    return absl::InternalError(absl::StrCat("kill ", process->pid, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::vector<ProcessState*> Supervisor::AwaitExit(std::vector<ProcessState*> processes,
                                                 absl::Time deadline) {
  while (true) {
    std::vector<ProcessState*> running;
    for (ProcessState* p : processes) {
      if (!TryReap(*p)) running.push_back(p);
    }
    if (running.empty() || absl::Now() >= deadline) return running;
    processes = std::move(running);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

absl::Status Supervisor::Kill(const std::string& name) {
  ProcessState* process = Find(name);
  if (process == nullptr) return absl::NotFoundError("no process named " + name);
  if (process->pid != 0) TryReap(*process);
  if (process->pid == 0) return absl::FailedPreconditionError(name + " is not running");
  process->exit_expected = true;
  kill(process->pid, SIGKILL);
  // SIGKILL cannot be caught; the wait is bounded only to never hang on a kernel oddity.
  if (!AwaitExit({process}, absl::Now() + absl::Seconds(30)).empty()) {
    return absl::InternalError(absl::StrCat(name, " did not die after SIGKILL"));
  }
  return absl::OkStatus();
}

absl::Status Supervisor::Stop(const std::string& name, absl::Duration grace) {
  ProcessState* process = Find(name);
  if (process == nullptr) return absl::NotFoundError("no process named " + name);
  if (process->pid == 0) return absl::OkStatus();
  process->exit_expected = true;
  kill(process->pid, SIGTERM);
  for (ProcessState* p : AwaitExit({process}, absl::Now() + grace)) {
    kill(p->pid, SIGKILL);
    AwaitExit({p}, absl::Now() + absl::Seconds(30));
  }
  return absl::OkStatus();
}

void Supervisor::StopAll(absl::Duration grace) {
  std::vector<ProcessState*> running;
  for (ProcessState& p : processes_) {
    if (p.pid == 0) continue;
    p.exit_expected = true;
    kill(p.pid, SIGTERM);
    running.push_back(&p);
  }
  running = AwaitExit(std::move(running), absl::Now() + grace);
  for (ProcessState* p : running) kill(p->pid, SIGKILL);
  AwaitExit(std::move(running), absl::Now() + absl::Seconds(30));
}

std::vector<std::string> Supervisor::ReapUnexpected() {
  std::vector<std::string> names;
  for (ProcessState& p : processes_) {
    if (p.pid != 0 && TryReap(p) && !p.exit_expected) names.push_back(p.spec.name);
  }
  return names;
}

bool Supervisor::Running(const std::string& name) const { return Pid(name) != 0; }

pid_t Supervisor::Pid(const std::string& name) const {
  const ProcessState* process = Find(name);
  return process == nullptr ? 0 : process->pid;
}

absl::StatusOr<ProcessState> Supervisor::State(const std::string& name) const {
  const ProcessState* process = Find(name);
  if (process == nullptr) return absl::NotFoundError("no process named " + name);
  return *process;
}

std::vector<ProcessState> Supervisor::Processes() const { return processes_; }

absl::Status Supervisor::WriteManifest(const std::string& path, const std::string& dir,
                                       const std::vector<std::string>& placement_addresses) const {
  std::string json =
      absl::StrCat("{\n  \"dir\": ", Quote(dir),
                   ",\n  \"placement\": ", QuoteList(placement_addresses), ",\n  \"processes\": [");
  for (size_t i = 0; i < processes_.size(); ++i) {
    const ProcessState& p = processes_[i];
    absl::StrAppend(&json, i == 0 ? "\n" : ",\n", "    {\"name\": ", Quote(p.spec.name),
                    ", \"role\": ", Quote(p.spec.role), ", \"zone\": ", Quote(p.spec.zone),
                    ", \"address\": ", Quote(p.spec.address), ", \"pid\": ", p.pid,
                    ",\n     \"data_dir\": ", Quote(p.spec.data_dir),
                    ", \"log\": ", Quote(p.spec.log), ",\n     \"argv\": ", QuoteList(p.spec.argv),
                    "}");
  }
  absl::StrAppend(&json, "\n  ]\n}\n");
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json;
    out.close();
    if (!out) return absl::InternalError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", tmp, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::string TailOfFile(const std::string& path, int max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const std::string& l : lines) absl::StrAppend(&out, "    ", l, "\n");
  return out;
}

absl::Status CheckPortsFree(int first, int count) {
  for (int port = first; port < first + count; ++port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = port > 0 && port < 65536 &&
                    bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (!ok) {
      return absl::FailedPreconditionError(
          absl::StrCat("port ", port, " on 127.0.0.1 is in use (choose another --base_port)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> FindFreePorts(int start, int count) {
  for (int base = start; base + count < 65536; base += count) {
    if (CheckPortsFree(base, count).ok()) return base;
  }
  return absl::ResourceExhaustedError(absl::StrCat("no ", count, " free ports from ", start));
}

}  // namespace meridian::tools
