// Shared by the libFuzzer targets: the default walker built once per process, and limits small enough that one input
// runs in milliseconds (libFuzzer wants thousands of runs a second; the real caps are tested in tests/unit).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "fwcert/core/bytes.hpp"
#include "fwcert/extract/entry.hpp"
#include "fwcert/scan/walker.hpp"

namespace fwfuzz {

inline const fwcert::Walker& walker() {
  static const std::shared_ptr<const fwcert::Walker> w = [] {
    auto r = fwcert::make_default_walker();
    if (!r.ok()) std::abort();  // the built-in signatures always compile: a failure here is a bug, not an input
    return r.value();
  }();
  return *w;
}

inline fwcert::ExtractLimits small_limits() {
  fwcert::ExtractLimits l;
  l.max_total_bytes = 64u << 20;
  l.max_file_bytes = 16u << 20;
  l.max_entries = 4096;
  l.max_depth = 4;
  return l;
}

inline fwcert::ByteView view(const uint8_t* data, size_t size) { return fwcert::ByteView(data, size); }

}  // namespace fwfuzz
