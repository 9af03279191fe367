// One persistent pool of worker threads shared by every kernel and variant.
// Compiled once, with the baseline flags, into the addon (native/thread_pool.cc);
// kernel variants call it only through these plain functions.
#pragma once

namespace fmrlrec {

// A task body: runs task number `task` of a parallel_for.
typedef void (*TaskFn)(void* context, int task);

// Runs fn(context, 0..tasks-1), each task exactly once, spread over the pool's
// threads (the calling thread takes part), and returns when all are done. Which
// thread runs which task varies: kernels keep results deterministic by making
// every task's output depend on the task number only. Calls from several
// JavaScript threads at once are serialised.
void parallel_for(int tasks, TaskFn fn, void* context);

// Number of threads that run tasks (>= 1; the calling thread included).
int pool_threads();

// Resizes the pool to n threads (n >= 1). Not to be called during a parallel_for.
void set_pool_threads(int n);

// Number of processors this process may run on (the default pool size).
int available_processors();

// Stops and joins the worker threads (the next parallel_for starts them again).
void shutdown_pool();

}  // namespace fmrlrec
