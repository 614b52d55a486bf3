// SyncOnCloseEnv: a leveldb::EnvWrapper that syncs each of LevelDB's write-ahead log files
// (NNNNNN.log) when LevelDB closes it, if anything was appended since its last Sync. Every other
// file goes to the wrapped env unchanged.
//
// Why: the data LevelDB holds is written without sync (the Paxos log is the durability point,
// paxos_log.h), and a checkpoint is written with sync, claiming that everything the group
// applied before it is durable. LevelDB's synced write syncs only the current log file; when a
// full memtable made it switch files, the old one was closed unsynced, and a power cut before its
// memtable reached a table file would lose those writes while keeping the checkpoint after them.
// With this env a synced write covers every write made before it. It costs one sync per
// memtable (write_buffer_size).
//
// Thread safety: as leveldb::Env requires.
#ifndef MERIDIAN_SPANSERVER_STORAGE_SYNC_ON_CLOSE_ENV_H_
#define MERIDIAN_SPANSERVER_STORAGE_SYNC_ON_CLOSE_ENV_H_

#include <memory>

namespace leveldb {
class Env;
}  // namespace leveldb

namespace meridian::storage {

// A new env over `base` (not owned; must outlive the result). Destroy the result only after
// every DB using it is closed.
std::unique_ptr<leveldb::Env> NewSyncOnCloseEnv(leveldb::Env* base);

}  // namespace meridian::storage

#endif  // MERIDIAN_SPANSERVER_STORAGE_SYNC_ON_CLOSE_ENV_H_
