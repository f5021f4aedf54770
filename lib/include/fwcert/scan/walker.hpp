// The walk: find every known structure at every offset, validate it, and return hits in offset order.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/deadline.hpp"
#include "fwcert/scan/hit.hpp"
#include "fwcert/scan/matcher.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {

struct WalkOptions {
  // Hits below this confidence are dropped from the result (they never cause a skip either way).
  Confidence min_confidence = Confidence::Medium;
  // Safety cap on the number of hits kept for one input; the walk stops with a diagnostic when reached.
  size_t max_hits = 100000;
  // Keep what validators decode (gzip streams) in Hit::decoded, for an extractor that reads the same streams next.
  bool keep_decoded = false;
  // Called with each hit as soon as it is validated and kept (walk order, on the walking thread), so a caller can
  // start work on it before the walk ends. The final, offset-sorted list is still WalkResult::hits.
  std::function<void(const Hit&)> on_hit;
  // A time limit (nullptr: none): checked before each candidate is validated; when it has expired the walk stops with
  // a diagnostic and returns the hits found so far.
  const Deadline* deadline = nullptr;
};

struct WalkResult {
  std::vector<Hit> hits;                // sorted by offset
  std::vector<Diagnostic> diagnostics;  // problems of the walk itself (caps reached, a validator failed)
};

// A ready-to-use walker: signatures bound to validators. Construction checks every binding.
class Walker {
 public:
  // Fails when a signature names a validator that does not exist.
  static Result<std::shared_ptr<const Walker>> create(std::vector<Signature> signatures,
                                                      const ValidatorRegistry& registry);

  WalkResult walk(ByteView image, const WalkOptions& options = {}) const;

  const Matcher& matcher() const { return matcher_; }

 private:
  Walker(std::vector<Signature> signatures, std::vector<const Validator*> bound);

  Matcher matcher_;
  std::vector<const Validator*> bound_;  // parallel to matcher_.signatures()
};

// The walker over the default signatures (signature_path if not empty, else the built-in ones) and all built-in
// validators.
Result<std::shared_ptr<const Walker>> make_default_walker(const std::string& signature_path = {});

}  // namespace fwcert
