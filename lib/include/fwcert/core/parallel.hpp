// Runs one function on the calling thread and on up to `threads - 1` more (at most 8 in all), and waits for all of
// them. The function takes its work items itself (an atomic index). A thread that cannot be created (resource
// limits) is no error: the others do the rest.
#pragma once

#include <algorithm>
#include <system_error>
#include <thread>
#include <vector>

namespace fwcert {

template <class Work>
void run_on_threads(unsigned threads, Work&& work) {
  std::vector<std::jthread> pool;
  for (unsigned k = 1; k < std::min(threads, 8u); ++k) {
    try {
      pool.emplace_back([&work] { work(); });
    } catch (const std::system_error&) {
      break;
    }
  }
  work();
}

}  // namespace fwcert
