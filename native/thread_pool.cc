// The persistent thread pool of thread_pool.h.
//
// A job is published as (fn, context, tasks) plus one 64-bit atomic word that
// holds the job's generation (high half) and the number of its tasks not yet
// claimed (low half). Threads claim tasks with a compare-and-swap that also
// checks the generation, so a thread that is late for one job can never run a
// task of the next one with stale parameters. Whether a task is left is read
// from that word alone: a late thread may already see the next job's fields
// (they are written while the word still holds the finished job), but its
// compare-and-swap only succeeds while its own job has tasks left, and then
// the fields it read are that job's. Idle workers spin briefly (kernels often
// come back to back), then sleep on a condition variable.
#include "thread_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sched.h>
#endif

namespace fmrlrec {
namespace {

constexpr int kSpinIterations = 4000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

struct Pool {
  std::mutex submit;  // one job at a time; also guards resizing
  std::mutex mutex;   // guards sleeping and waking
  std::condition_variable wake;
  std::condition_variable done;
  std::vector<std::thread> workers;
  int size = 0;        // threads running now, the caller included (0 = not started)
  int configured = 0;  // threads asked for by set_pool_threads (0 = one per processor)
  bool stop = false;

  // The current job.
  TaskFn fn = nullptr;
  void* context = nullptr;
  int tasks = 0;
  std::atomic<uint64_t> state{0};     // generation << 32 | tasks not yet claimed
  std::atomic<uint64_t> finished{0};  // generation << 32 | tasks finished

  static uint32_t generation_of(uint64_t s) { return static_cast<uint32_t>(s >> 32); }

  // Claims and runs tasks of generation `generation` until none is left.
  void run_tasks(uint32_t generation) {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
      if (generation_of(s) != generation) return;
      TaskFn job_fn = fn;
      void* job_context = context;
      int job_tasks = tasks;
      uint32_t left = static_cast<uint32_t>(s);
      if (left == 0) return;
      if (!state.compare_exchange_weak(s, s - 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      job_fn(job_context, job_tasks - static_cast<int>(left));
      // Count the task for its own generation only: a count can never leak
      // into the next job, whatever the interleaving.
      uint64_t f = finished.load(std::memory_order_acquire);
      while (generation_of(f) == generation &&
             !finished.compare_exchange_weak(f, f + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
      }
      if (generation_of(f) == generation && static_cast<uint32_t>(f) + 1 == static_cast<uint32_t>(job_tasks)) {
        std::lock_guard<std::mutex> lock(mutex);
        done.notify_all();
      }
      s = state.load(std::memory_order_acquire);
    }
  }

  void worker_loop() {
    uint32_t seen = generation_of(state.load(std::memory_order_acquire));
    for (;;) {
      uint32_t generation = seen;
      for (int i = 0; i < kSpinIterations && generation == seen; ++i) {
        cpu_relax();
        generation = generation_of(state.load(std::memory_order_acquire));
      }
      if (generation == seen) {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stop || generation_of(state.load(std::memory_order_acquire)) != seen; });
        if (stop) return;
        generation = generation_of(state.load(std::memory_order_acquire));
      }
      seen = generation;
      run_tasks(generation);
    }
  }

  void start(int n) {
    size = n;
    stop = false;
    for (int i = 1; i < n; ++i) workers.emplace_back([this] { worker_loop(); });
  }

  void join_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    wake.notify_all();
    for (std::thread& worker : workers) worker.join();
    workers.clear();
    size = 0;
  }
};

// Never destroyed: joining threads from a static destructor at exit is unsafe.
Pool& pool() {
  static Pool* instance = new Pool();
  return *instance;
}

}  // namespace

int available_processors() {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

void parallel_for(int tasks, TaskFn fn, void* context) {
  if (tasks <= 0) return;
  Pool& p = pool();
  std::lock_guard<std::mutex> submit(p.submit);
  if (p.size == 0) p.start(p.configured != 0 ? p.configured : available_processors());
  if (tasks == 1 || p.size == 1) {
    for (int i = 0; i < tasks; ++i) fn(context, i);
    return;
  }
  p.fn = fn;
  p.context = context;
  p.tasks = tasks;
  uint32_t generation = Pool::generation_of(p.state.load(std::memory_order_relaxed)) + 1;
  const uint64_t all_finished = (static_cast<uint64_t>(generation) << 32) | static_cast<uint32_t>(tasks);
  p.finished.store(static_cast<uint64_t>(generation) << 32, std::memory_order_release);
  p.state.store(all_finished, std::memory_order_release);  // every task unclaimed
  { std::lock_guard<std::mutex> lock(p.mutex); }
  p.wake.notify_all();
  p.run_tasks(generation);
  for (int i = 0; i < kSpinIterations && p.finished.load(std::memory_order_acquire) != all_finished; ++i) cpu_relax();
  if (p.finished.load(std::memory_order_acquire) != all_finished) {
    std::unique_lock<std::mutex> lock(p.mutex);
    p.done.wait(lock, [&] { return p.finished.load(std::memory_order_acquire) == all_finished; });
  }
}

int pool_threads() {
  Pool& p = pool();
  std::lock_guard<std::mutex> submit(p.submit);
  if (p.size != 0) return p.size;
  return p.configured != 0 ? p.configured : available_processors();
}

void set_pool_threads(int n) {
  Pool& p = pool();
  std::lock_guard<std::mutex> submit(p.submit);
  p.configured = n;
  if (p.size == n) return;
  if (p.size != 0) p.join_workers();
  p.start(n);
}

void shutdown_pool() {
  Pool& p = pool();
  std::lock_guard<std::mutex> submit(p.submit);
  if (p.size != 0) p.join_workers();
}

}  // namespace fmrlrec
