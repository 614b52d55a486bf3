// PrezeroedLogEnv: a leveldb::EnvWrapper that writes LevelDB's write-ahead log files
// (NNNNNN.log) into space that was zeroed and synced ahead of time. Every other file goes to the
// wrapped env unchanged.
//
// Why: a synced write ends in fdatasync(2). When the write made the file longer, fdatasync must
// also write the inode (its size) and wait for it; when it only overwrote blocks the file already
// had, the inode stays as it is and one write plus a cache flush remain. On this machine's ext4
// that is 150-167 us against 260-350 us per sync (../shared/peers/results), and the writer thread
// spends less CPU per sync. Every Paxos round of every group ends in such a sync.
//
// How: a new log file is created with `initial_bytes` of zeros, synced (with its directory), and
// then written from offset 0 with positional writes. When the data comes within half a chunk of
// the zeroed end, a background thread appends another `chunk_bytes` of zeros and syncs them, so
// the foreground keeps overwriting. If the data overtakes the zeros anyway, writes simply extend
// the file (correct, only slower). The file's name becomes durable with its first Sync (the
// directory is synced then).
//
// Write-back errors: the zeroer syncs its zeros through a duplicate of the writer's descriptor,
// and that fdatasync also writes back the data pages the writer wrote meanwhile. The kernel
// reports a write-back error once per open file description, which the two descriptors share:
// if the zeroer's sync took the error, the writer's next sync would succeed over lost pages.
// So an error of the zeroer's sync is kept with the file and every later Sync of the file
// returns it (LevelDB then fails the write, and GroupCommitWriter every later one).
//
// Recovery needs nothing new: LevelDB's log reader skips zero-filled space (a zero header is a
// "zero-length record of type 0", which it drops without reporting corruption, as it does for
// the preallocated space of its own mmap writer). A torn write inside the zeroed space looks to it
// like a torn write at the end of a file: the damaged record is dropped.
//
// POSIX only: the log files are written with pwrite/fdatasync directly, so the wrapped env must
// be one that uses the real file system (leveldb::Env::Default()).
//
// Thread safety: as leveldb::Env requires (the files are used by one writer at a time).
#ifndef MERIDIAN_SPANSERVER_STORAGE_PREZEROED_LOG_ENV_H_
#define MERIDIAN_SPANSERVER_STORAGE_PREZEROED_LOG_ENV_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace leveldb {
class Env;
}  // namespace leveldb

namespace meridian::storage {

struct PrezeroedLogOptions {
  // Zeros a new log file starts with (written synchronously when LevelDB opens the file).
  size_t initial_bytes = 1 << 20;
  // Zeros appended at a time in the background once the data is within chunk_bytes / 2 of the
  // zeroed end.
  size_t chunk_bytes = 4 << 20;
  // False: the zeros are appended by the writer itself, before its write returns (tests use it
  // to make the order of data and zeros deterministic).
  bool background = true;
  // Test seam: called after every Sync of a log file with the file's name and the number of
  // bytes from its start that the Sync made durable.
  std::function<void(const std::string& fname, uint64_t synced_bytes)> on_sync;
  // Test seam: replaces fdatasync(2) for the log files (returns 0, or -1 with errno set).
  std::function<int(int fd)> fdatasync;
};

// A new env over `base` (not owned; must outlive the result). Destroy the result only after
// every DB using it is closed.
std::unique_ptr<leveldb::Env> NewPrezeroedLogEnv(leveldb::Env* base, PrezeroedLogOptions options);

}  // namespace meridian::storage

#endif  // MERIDIAN_SPANSERVER_STORAGE_PREZEROED_LOG_ENV_H_
