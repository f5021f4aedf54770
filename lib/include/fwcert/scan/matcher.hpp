// One pass over the input for all magics at once: a 64 Ki-bit table on each position's first two bytes filters
// candidates, then the few definitions sharing that prefix are compared in full.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/scan/signature.hpp"

namespace fwcert {

class Matcher {
 public:
  explicit Matcher(std::vector<Signature> signatures);

  const std::vector<Signature>& signatures() const { return signatures_; }

  // Calls on_match(position_of_magic, signature) for every match at positions >= from, in increasing order. The
  // callback returns a position to resume from (to jump past a validated region) or nullopt to go on.
  using OnMatch = std::function<std::optional<uint64_t>(uint64_t, const Signature&)>;
  void scan(ByteView data, uint64_t from, const OnMatch& on_match) const;

 private:
  std::vector<Signature> signatures_;
  std::array<uint64_t, 1024> prefix_bits_{};          // bit (b0 | b1 << 8) set when some magic starts with b0 b1
  std::vector<std::vector<uint32_t>> buckets_;         // per prefix: signature indices, longest magic first
  std::vector<int32_t> bucket_of_prefix_;              // 65536 entries, -1 when empty
};

}  // namespace fwcert
