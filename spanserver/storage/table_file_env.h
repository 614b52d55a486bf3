// TableFileEnv: a leveldb::EnvWrapper whose table files (NNNNNN.ldb, NNNNNN.sst) are written in
// large pieces. Every other file goes to the wrapped env unchanged.
//
// Why: LevelDB's TableBuilder calls Flush() on its file after every data block (4 KB of keys and
// values before compression), and the default env's Flush() is a write(2). A memtable flush or
// compaction of 4 KB values is then one system call per value: 16,000 for a 64 MiB memtable.
// On this machine's VM a system call costs enough that LevelDB's compaction thread spent more
// time entering the kernel than compressing (bench/txn_bench, table 4).
//
// How: Flush() of a table file does nothing. Its appends stay in the wrapped file's buffer
// (the default env's is 64 KiB) until that fills, and Sync() and Close() write out the rest, as
// they already did. Nothing reads a table file before LevelDB has synced and closed it, and a
// table file that was not synced when the process died is not in the MANIFEST, so holding its
// data in the process until then loses nothing.
//
// Thread safety: as leveldb::Env requires (a file is used by one thread at a time).
#ifndef MERIDIAN_SPANSERVER_STORAGE_TABLE_FILE_ENV_H_
#define MERIDIAN_SPANSERVER_STORAGE_TABLE_FILE_ENV_H_

#include <memory>
#include <string>

namespace leveldb {
class Env;
}  // namespace leveldb

namespace meridian::storage {

// A new env over `base` (not owned; must outlive the result). Destroy the result only after
// every DB using it is closed.
std::unique_ptr<leveldb::Env> NewTableFileEnv(leveldb::Env* base);

// Whether LevelDB names `fname` as a table file (its base name is digits then .ldb or .sst).
bool IsTableFileName(const std::string& fname);

}  // namespace meridian::storage

#endif  // MERIDIAN_SPANSERVER_STORAGE_TABLE_FILE_ENV_H_
