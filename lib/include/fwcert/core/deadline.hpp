// A per-input time limit, checked cooperatively: long loops (the walk, every reader's loop over entries and files, the
// tree builder) ask expired() at bounded intervals and stop there with what they have. No thread is killed and no
// signal is sent. The clock is injectable, so that tests can drive it without depending on the machine's speed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace fwcert {

class Deadline {
 public:
  // Seconds on a monotonic clock (std::chrono::steady_clock by default).
  using Clock = std::function<double()>;
  static double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

  Deadline() = default;  // never expires
  // Expires `seconds` after now on `clock`; seconds <= 0: never.
  explicit Deadline(double seconds, Clock clock = steady_seconds) {
    if (seconds <= 0) return;
    state_ = std::make_shared<State>();
    state_->clock = clock ? std::move(clock) : Clock(steady_seconds);
    state_->limit = seconds;
    state_->end = state_->clock() + seconds;
  }

  bool set() const { return state_ != nullptr; }
  double limit() const { return state_ ? state_->limit : 0; }
  // Once expired, always expired, for every copy (copies share the state) and every thread.
  bool expired() const {
    if (!state_) return false;
    if (state_->hit.load(std::memory_order_relaxed)) return true;
    if (state_->clock() < state_->end) return false;
    state_->hit.store(true, std::memory_order_relaxed);
    return true;
  }
  // Whether it has expired, without asking the clock.
  bool hit() const { return state_ && state_->hit.load(std::memory_order_relaxed); }

 private:
  struct State {
    Clock clock;
    double limit = 0, end = 0;
    std::atomic<bool> hit{false};
  };
  std::shared_ptr<State> state_;
};

}  // namespace fwcert
