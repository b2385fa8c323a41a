// Damages Brook's RocksDB stores on purpose, for recovery tests.
#ifndef BROOK_TESTS_TESTING_ROCKSDB_SURGERY_H_
#define BROOK_TESTS_TESTING_ROCKSDB_SURGERY_H_

#include <string>

namespace brook::testing {

// Overwrites the stored changelog offset of every store named `store` under
// `root` with 3 bytes (a valid offset has 8). Returns how many stores it
// damaged. REQUIRES: no process has the stores open.
int GarbleStoredOffsets(const std::string& root, const std::string& store);

// Deletes the stored changelog offset of every store named `store` under
// `root`, keeping the data (CHECK-fails if the key survives). Returns how
// many stores it changed. REQUIRES: no process has the stores open.
int DeleteStoredOffsets(const std::string& root, const std::string& store);

// Writes `key` -> `value` (raw bytes, as the store's serdes encode them) into
// the data of every store named `store` under `root`, behind Brook's back:
// no changelog record says so. A test plants such a key to tell a store that
// was kept from one that was wiped and rebuilt from its changelog. Returns
// how many stores it changed. REQUIRES: no process has the stores open.
int PutRawValue(const std::string& root, const std::string& store,
                const std::string& key, const std::string& value);

}  // namespace brook::testing

#endif  // BROOK_TESTS_TESTING_ROCKSDB_SURGERY_H_
