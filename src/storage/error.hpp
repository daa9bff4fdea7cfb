// Errors of the storage layer: a code a caller can branch on plus a message a person can act on.
//
// Every Store operation returns StoreResult<T> (common/result.hpp); nothing in storage throws
// across its interface. Threading: plain value types.
#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace bitscrape::storage {

enum class ErrorCode : std::uint8_t {
  InvalidArgument,  // a query or record outside the documented limits
  Locked,           // another process held the database lock longer than busy_timeout
  Io,               // the OS refused a read or write (permissions, missing directory, ...)
  Full,             // disk or database size limit reached
  Corrupt,          // the file is not a database, fails integrity checks, or holds bad blobs
  SchemaTooNew,     // written by a newer bitscrape: refuse rather than misread it
  Migration,        // a schema migration failed (rolled back; the database is unchanged)
  ReadOnly,         // a write through a store opened read-only, or a read-only file
  Internal,         // a bug: an SQL statement failed to prepare, an invariant broke
};

// A short, stable English name of `code` ("locked", "corrupt", ...).
std::string_view to_string(ErrorCode code) noexcept;

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;  // what failed and, where possible, how to fix it

  // Transient errors are worth retrying later (the StoreWriter does): Locked, Io, Full.
  bool transient() const noexcept {
    return code == ErrorCode::Locked || code == ErrorCode::Io || code == ErrorCode::Full;
  }
};

template <class T>
using StoreResult = Result<T, Error>;
using Status = Result<void, Error>;

inline Unexpected<Error> fail(ErrorCode code, std::string message) {
  return Unexpected<Error>{Error{code, std::move(message)}};
}

}  // namespace bitscrape::storage
