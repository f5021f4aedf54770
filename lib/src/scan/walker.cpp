#include "fwcert/scan/walker.hpp"

#include <algorithm>
#include <exception>
#include <map>

namespace fwcert {

Walker::Walker(std::vector<Signature> signatures, std::vector<const Validator*> bound)
    : matcher_(std::move(signatures)), bound_(std::move(bound)) {}

Result<std::shared_ptr<const Walker>> Walker::create(std::vector<Signature> signatures,
                                                     const ValidatorRegistry& registry) {
  std::vector<const Validator*> bound;
  for (const auto& s : signatures) {
    const Validator* v = registry.find(s.validator);
    if (!v) return make_error(0, s.source + ": unknown validator '" + s.validator + "'");
    bound.push_back(v);
  }
  return std::shared_ptr<const Walker>(new Walker(std::move(signatures), std::move(bound)));
}

WalkResult Walker::walk(ByteView image, const WalkOptions& options) const {
  WalkResult result;
  struct Open {
    uint64_t start, end;
    std::string type;
  };
  std::vector<Open> containers;  // validated Container regions enclosing the cursor
  std::map<std::pair<uint64_t, std::string>, bool> seen;  // (start, type) already validated
  const auto& sigs = matcher_.signatures();
  bool capped = false;

  matcher_.scan(image, 0, [&](uint64_t pos, const Signature& sig) -> std::optional<uint64_t> {
    if (capped) return image.size();
    if (options.deadline && options.deadline->expired()) {
      result.diagnostics.push_back({image.base() + pos, Severity::Error,
                                    "time limit reached: walk stopped here, the rest was not looked at"});
      capped = true;
      return image.size();
    }
    if (pos < sig.at) return std::nullopt;
    uint64_t start = pos - sig.at;
    while (!containers.empty() && containers.back().end <= pos) containers.pop_back();
    for (const auto& c : containers)
      if (c.type == sig.type && start > c.start && start < c.end) return std::nullopt;  // the container's own parts
    auto key = std::make_pair(start, sig.type);
    if (seen.count(key)) return std::nullopt;

    const size_t idx = static_cast<size_t>(&sig - sigs.data());
    std::optional<Hit> hit;
    try {
      hit = bound_[idx]->fn(ValidateInput{image, start, &sig, options.keep_decoded});
    } catch (const std::exception& e) {
      result.diagnostics.push_back({image.base() + start, Severity::Error,
                                    "validator " + sig.validator + " failed: " + e.what()});
      return std::nullopt;
    }
    if (!hit) return std::nullopt;
    seen[key] = true;
    if (hit->type.empty()) hit->type = sig.type;
    const bool confident = hit->confidence >= Confidence::Medium;
    const uint64_t rel = hit->offset >= image.base() ? hit->offset - image.base() : start;
    const uint64_t end = hit->size ? rel + hit->size : 0;
    const Nesting nesting = hit->nesting;
    const bool open_ended = hit->open_ended;
    const std::string type = hit->type;
    if (hit->confidence >= options.min_confidence) {
      if (result.hits.size() >= options.max_hits) {
        result.diagnostics.push_back({image.base() + pos, Severity::Warning,
                                      "stopped after " + std::to_string(options.max_hits) + " hits (cap)"});
        capped = true;
        return image.size();
      }
      result.hits.push_back(std::move(*hit));
      if (options.on_hit) options.on_hit(result.hits.back());
    }
    // A structure that claims more bytes than the image holds (truncated), or a stream that ran into the end of the
    // image, has not proved its extent: what lies after the cut may be anything (a certificate appended to a cut image), so the walk goes on inside it.
    if (!confident || end <= pos || end > image.size() || open_ended) return std::nullopt;
    if (nesting == Nesting::Opaque) return end;
    containers.push_back({rel, end, type});
    std::sort(containers.begin(), containers.end(), [](const Open& a, const Open& b) { return a.end > b.end; });
    return std::nullopt;
  });

  std::stable_sort(result.hits.begin(), result.hits.end(),
                   [](const Hit& a, const Hit& b) { return a.offset < b.offset; });
  return result;
}

Result<std::shared_ptr<const Walker>> make_default_walker(const std::string& signature_path) {
  static const ValidatorRegistry* registry = [] {
    auto* r = new ValidatorRegistry();
    register_builtin_validators(*r);
    return r;
  }();
  std::vector<Signature> sigs;
  if (signature_path.empty()) {
    sigs = builtin_signatures();
  } else {
    auto loaded = load_signatures(signature_path);
    if (!loaded) return loaded.error();
    sigs = std::move(*loaded);
  }
  return Walker::create(std::move(sigs), *registry);
}

}  // namespace fwcert
