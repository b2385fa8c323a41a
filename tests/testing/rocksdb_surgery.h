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
// `root`, keeping the data. Returns how many stores it changed.
int DeleteStoredOffsets(const std::string& root, const std::string& store);

}  // namespace brook::testing

#endif  // BROOK_TESTS_TESTING_ROCKSDB_SURGERY_H_
