// The N-API surface of the kernels (loaded by src/kernels/index.ts):
//
//   supportedVariants(): string[]  variants built into this addon that this CPU
//                                  runs, fastest first
//   createKernels(variant): Kernels an object implementing src/kernels/types.ts
//
// Every wrapper checks its arguments as src/kernels/validate.ts does (same
// messages), so that no kernel reads or writes outside the arrays it is given,
// then calls the variant's KernelTable.
#include <math.h>
#include <node_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <atomic>
#include <initializer_list>

#include "kernels.h"
#include "thread_pool.h"

namespace fmrlrec {
namespace {

#ifdef FMRLREC_X86_VARIANTS
bool cpu_runs_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma");
}

bool cpu_runs_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

bool cpu_runs_baseline() { return true; }

struct Variant {
  const char* name;
  const KernelTable* table;
  bool (*cpu_runs)();
};

const Variant kVariants[] = {
#ifdef FMRLREC_X86_VARIANTS
    {"avx512", &avx512::kernel_table, cpu_runs_avx512},
    {"avx2", &avx2::kernel_table, cpu_runs_avx2},
#endif
    {"baseline", &baseline::kernel_table, cpu_runs_baseline},
};

// ---------------------------------------------------------------------------
// Reading and checking the arguments of one call.

struct Array {
  void* data = nullptr;  // null when the argument is null / undefined
  size_t length = 0;     // elements
  size_t bytes = 0;
  const char* name = "";
};

class Call {
 public:
  Call(napi_env env, napi_callback_info info, const char* kernel, size_t expected) : env_(env), kernel_(kernel) {
    size_t argc = kMaxArgs;
    void* data = nullptr;
    if (napi_get_cb_info(env, info, &argc, argv_, nullptr, &data) != napi_ok) {
      fail_type("cannot read the arguments");
      return;
    }
    table_ = static_cast<const KernelTable*>(data);
    if (argc < expected) fail_type("expects %zu arguments, got %zu", expected, argc);
  }

  bool ok() const { return !failed_; }
  const KernelTable* table() const { return table_; }
  napi_env env() const { return env_; }

  // A non-negative integer (a size or a stride).
  int64_t count(size_t i, const char* name) {
    double value = number(i, name);
    if (failed_) return 0;
    if (!(value >= 0 && value <= 9007199254740991.0 && floor(value) == value)) {
      fail("%s must be a non-negative integer (got %g)", name, value);
      return 0;
    }
    return static_cast<int64_t>(value);
  }

  double number(size_t i, const char* name) {
    double value = 0;
    if (failed_) return 0;
    if (napi_get_value_double(env_, argv_[i], &value) != napi_ok) fail_type("%s must be a number", name);
    return value;
  }

  bool boolean(size_t i, const char* name) {
    bool value = false;
    if (failed_) return false;
    if (napi_get_value_bool(env_, argv_[i], &value) != napi_ok) fail_type("%s must be a boolean", name);
    return value;
  }

  Array f32(size_t i, const char* name, bool nullable = false) {
    return typed(i, name, napi_float32_array, "Float32Array", nullable);
  }
  Array i32(size_t i, const char* name, bool nullable = false) {
    return typed(i, name, napi_int32_array, "Int32Array", nullable);
  }
  Array f64(size_t i, const char* name, bool nullable = false) {
    return typed(i, name, napi_float64_array, "Float64Array", nullable);
  }

  // The array holds at least `needed` elements (products of sizes are passed
  // as doubles: exact up to 2^53 and never overflowing).
  void length(const Array& a, double needed) {
    if (failed_ || a.data == nullptr) return;
    if (static_cast<double>(a.length) < needed) fail("%s is too short (has %zu, needs %.0f)", a.name, a.length, needed);
  }

  // A rows × cols matrix stored with row stride ld.
  void matrix(const Array& a, int64_t rows, int64_t cols, int64_t ld) {
    if (failed_) return;
    if (ld < (cols > 1 ? cols : 1)) {
      fail("row stride of %s (%lld) must be at least max(1, %lld columns)", a.name, static_cast<long long>(ld),
           static_cast<long long>(cols));
      return;
    }
    if (rows > 0 && cols > 0) length(a, static_cast<double>(rows - 1) * ld + cols);
  }

  // Sizes of a ladder: 1..kMaxSizes entries, strictly ascending, each in 1..d.
  void dims(const Array& a, int64_t d) {
    if (failed_) return;
    const int32_t* v = static_cast<const int32_t*>(a.data);
    if (a.length == 0) return fail("dims must not be empty");
    if (a.length > static_cast<size_t>(kMaxSizes)) return fail("dims has more than %d sizes", kMaxSizes);
    for (size_t k = 0; k < a.length; ++k) {
      if (v[k] < 1 || v[k] > d || (k > 0 && v[k] <= v[k - 1])) {
        return fail("dims must be strictly ascending sizes in 1..%lld", static_cast<long long>(d));
      }
    }
  }

  // Chunk bounds [0, ..., d], strictly ascending.
  void bounds(const Array& a, int64_t d) {
    if (failed_) return;
    const int32_t* v = static_cast<const int32_t*>(a.data);
    bool good = a.length >= 2 && a.length <= static_cast<size_t>(kMaxSizes) + 1 && v[0] == 0 && v[a.length - 1] == d;
    for (size_t k = 1; good && k < a.length; ++k) good = v[k] > v[k - 1];
    if (!good)
      fail("bounds must rise strictly from 0 to %lld (at most %d chunks)", static_cast<long long>(d), kMaxSizes);
  }

  // Segment starts [0, ..., t], non-decreasing.
  void segments(const Array& a, int64_t t) {
    if (failed_) return;
    const int32_t* v = static_cast<const int32_t*>(a.data);
    bool good = a.length >= 1 && v[0] == 0 && v[a.length - 1] == t;
    for (size_t k = 1; good && k < a.length; ++k) good = v[k] >= v[k - 1];
    if (!good) fail("segments must rise from 0 to %lld (got %zu entries)", static_cast<long long>(t), a.length);
  }

  // Row starts of compressed sparse rows: a[0] = 0, non-decreasing over rows + 1 entries (length checked).
  void row_start(const Array& a, int64_t rows) {
    if (failed_) return;
    const int32_t* v = static_cast<const int32_t*>(a.data);
    bool good = v[0] == 0;
    for (int64_t r = 1; good && r <= rows; ++r) good = v[r] >= v[r - 1];
    if (!good) fail("%s must rise from 0 (non-decreasing over %lld entries)", a.name, static_cast<long long>(rows) + 1);
  }

  // Every entry of items[0..n) lies in [lo, hi).
  void items(const Array& a, int64_t n, int64_t lo, int64_t hi) {
    if (failed_) return;
    const int32_t* v = static_cast<const int32_t*>(a.data);
    for (int64_t i = 0; i < n; ++i) {
      if (v[i] < lo || v[i] >= hi) {
        return fail("%s[%lld] = %d is outside %lld..%lld", a.name, static_cast<long long>(i), v[i],
                    static_cast<long long>(lo), static_cast<long long>(hi - 1));
      }
    }
  }

  // No output overlaps an input or a later output.
  void no_overlap(std::initializer_list<const Array*> outputs, std::initializer_list<const Array*> inputs) {
    if (failed_) return;
    size_t index = 0;
    for (const Array* out : outputs) {
      ++index;
      if (out->data == nullptr) continue;
      for (const Array* in : inputs) {
        if (overlaps(*out, *in)) return fail("%s must not overlap %s", out->name, in->name);
      }
      size_t other_index = 0;
      for (const Array* other : outputs) {
        if (++other_index <= index) continue;
        if (overlaps(*out, *other)) return fail("%s must not overlap %s", out->name, other->name);
      }
    }
  }

  void fail(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list args;
    va_start(args, format);
    throw_error(false, format, args);
    va_end(args);
  }

  void fail_type(const char* format, ...) __attribute__((format(printf, 2, 3))) {
    va_list args;
    va_start(args, format);
    throw_error(true, format, args);
    va_end(args);
  }

  // Reports a kernel's out-of-memory failure.
  napi_value finish(bool kernel_ok) {
    if (!kernel_ok) fail("out of memory for scratch buffers");
    return nullptr;
  }

 private:
  static constexpr size_t kMaxArgs = 16;

  static bool overlaps(const Array& a, const Array& b) {
    if (a.data == nullptr || b.data == nullptr || a.bytes == 0 || b.bytes == 0) return false;
    const char* a0 = static_cast<const char*>(a.data);
    const char* b0 = static_cast<const char*>(b.data);
    return a0 < b0 + b.bytes && b0 < a0 + a.bytes;
  }

  Array typed(size_t i, const char* name, napi_typedarray_type want, const char* type_name, bool nullable) {
    Array a;
    a.name = name;
    if (failed_) return a;
    napi_valuetype kind;
    napi_typeof(env_, argv_[i], &kind);
    if (nullable && (kind == napi_null || kind == napi_undefined)) return a;
    bool is_typed = false;
    napi_is_typedarray(env_, argv_[i], &is_typed);
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (!is_typed || napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != want) {
      fail_type("%s must be a %s%s", name, type_name, nullable ? " or null" : "");
      return a;
    }
    a.length = length;
    a.bytes = length * (want == napi_float64_array ? 8 : 4);
    // An empty view may have no backing store; any non-null pointer will do.
    static char empty;
    a.data = data != nullptr ? data : &empty;
    return a;
  }

  void throw_error(bool type_error, const char* format, va_list args) {
    if (failed_) return;
    failed_ = true;
    char message[512];
    int prefix = snprintf(message, sizeof message, "%s: ", kernel_);
    vsnprintf(message + prefix, sizeof message - prefix, format, args);
    if (type_error)
      napi_throw_type_error(env_, nullptr, message);
    else
      napi_throw_range_error(env_, nullptr, message);
  }

  napi_env env_;
  const char* kernel_;
  napi_value argv_[kMaxArgs] = {};
  const KernelTable* table_ = nullptr;
  bool failed_ = false;
};

napi_value number_value(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

// ---------------------------------------------------------------------------
// The kernels.

napi_value Sgemm(napi_env env, napi_callback_info info) {
  Call call(env, info, "sgemm", 13);
  const bool trans_a = call.boolean(0, "transA");
  const bool trans_b = call.boolean(1, "transB");
  const int64_t m = call.count(2, "m"), n = call.count(3, "n"), k = call.count(4, "k");
  const double alpha = call.number(5, "alpha");
  Array a = call.f32(6, "a");
  const int64_t lda = call.count(7, "ld of a");
  Array b = call.f32(8, "b");
  const int64_t ldb = call.count(9, "ld of b");
  const double beta = call.number(10, "beta");
  Array c = call.f32(11, "c");
  const int64_t ldc = call.count(12, "ld of c");
  call.matrix(a, trans_a ? k : m, trans_a ? m : k, lda);
  call.matrix(b, trans_b ? n : k, trans_b ? k : n, ldb);
  call.matrix(c, m, n, ldc);
  call.no_overlap({&c}, {&a, &b});
  if (!call.ok()) return nullptr;
  return call.finish(call.table()->sgemm(trans_a, trans_b, m, n, k, static_cast<float>(alpha),
                                         static_cast<const float*>(a.data), lda, static_cast<const float*>(b.data), ldb,
                                         static_cast<float>(beta), static_cast<float*>(c.data), ldc));
}

napi_value SoftmaxXentMulti(napi_env env, napi_callback_info info) {
  Call call(env, info, "softmaxXentMulti", 12);
  Array h = call.f32(0, "h"), e = call.f32(1, "e");
  const int64_t t = call.count(2, "t"), n1 = call.count(3, "n1"), d = call.count(4, "d");
  Array targets = call.i32(5, "targets"), dims = call.i32(6, "dims");
  const double scale = call.number(7, "scale");
  Array grad_h = call.f32(8, "gradH", true), grad_e = call.f32(9, "gradE", true);
  Array loss_per_size = call.f64(10, "lossPerSize", true);
  Array size_weights = call.f32(11, "sizeWeights", true);
  if (call.ok() && n1 < 1) call.fail("n1 must be at least 1");
  call.length(h, static_cast<double>(t) * d);
  call.length(e, static_cast<double>(n1) * d);
  call.length(targets, t);
  call.items(targets, t, 0, n1);
  call.dims(dims, d);
  call.length(grad_h, static_cast<double>(t) * d);
  call.length(grad_e, static_cast<double>(n1) * d);
  call.length(loss_per_size, static_cast<double>(dims.length));
  call.length(size_weights, static_cast<double>(dims.length));
  call.no_overlap({&grad_h, &grad_e, &loss_per_size}, {&h, &e, &targets, &dims, &size_weights});
  if (!call.ok()) return nullptr;
  const int sizes = static_cast<int>(dims.length);
  double per_size[kMaxSizes];
  float scales[kMaxSizes];
  for (int k = 0; k < sizes; ++k) {
    const float weight = size_weights.data != nullptr ? static_cast<const float*>(size_weights.data)[k] : 1.0f;
    scales[k] = static_cast<float>(scale) * weight;
  }
  bool ok = call.table()->softmax_xent_multi(
      static_cast<const float*>(h.data), static_cast<const float*>(e.data), t, n1, d,
      static_cast<const int32_t*>(targets.data), static_cast<const int32_t*>(dims.data), sizes, scales,
      static_cast<float*>(grad_h.data), static_cast<float*>(grad_e.data), per_size);
  if (!ok) return call.finish(false);
  double total = 0;
  for (int k = 0; k < sizes; ++k) total += per_size[k];
  if (loss_per_size.data != nullptr) memcpy(loss_per_size.data, per_size, sizeof(double) * sizes);
  return number_value(env, total);
}

napi_value LruScanForward(napi_env env, napi_callback_info info) {
  Call call(env, info, "lruScanForward", 9);
  Array u_re = call.f32(0, "uRe"), u_im = call.f32(1, "uIm");
  Array lam_re = call.f32(2, "lamRe"), lam_im = call.f32(3, "lamIm");
  Array segments = call.i32(4, "segments");
  const int64_t t = call.count(5, "t"), d = call.count(6, "d");
  Array h_re = call.f32(7, "hRe"), h_im = call.f32(8, "hIm");
  for (const Array* a : {&u_re, &u_im, &h_re, &h_im}) call.length(*a, static_cast<double>(t) * d);
  call.length(lam_re, d);
  call.length(lam_im, d);
  call.segments(segments, t);
  call.no_overlap({&h_re, &h_im}, {&u_re, &u_im, &lam_re, &lam_im, &segments});
  if (!call.ok()) return nullptr;
  return call.finish(call.table()->lru_scan_forward(
      static_cast<const float*>(u_re.data), static_cast<const float*>(u_im.data),
      static_cast<const float*>(lam_re.data), static_cast<const float*>(lam_im.data),
      static_cast<const int32_t*>(segments.data), static_cast<int64_t>(segments.length) - 1, t, d,
      static_cast<float*>(h_re.data), static_cast<float*>(h_im.data)));
}

napi_value LruScanBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "lruScanBackward", 13);
  Array dh_re = call.f32(0, "dhRe"), dh_im = call.f32(1, "dhIm");
  Array h_re = call.f32(2, "hRe"), h_im = call.f32(3, "hIm");
  Array lam_re = call.f32(4, "lamRe"), lam_im = call.f32(5, "lamIm");
  Array segments = call.i32(6, "segments");
  const int64_t t = call.count(7, "t"), d = call.count(8, "d");
  Array du_re = call.f32(9, "duRe"), du_im = call.f32(10, "duIm");
  Array dlam_re = call.f32(11, "dLamRe"), dlam_im = call.f32(12, "dLamIm");
  for (const Array* a : {&dh_re, &dh_im, &h_re, &h_im, &du_re, &du_im}) call.length(*a, static_cast<double>(t) * d);
  call.length(lam_re, d);
  call.length(lam_im, d);
  call.segments(segments, t);
  call.length(dlam_re, d);
  call.length(dlam_im, d);
  call.no_overlap({&du_re, &du_im, &dlam_re, &dlam_im}, {&dh_re, &dh_im, &h_re, &h_im, &lam_re, &lam_im, &segments});
  if (!call.ok()) return nullptr;
  return call.finish(call.table()->lru_scan_backward(
      static_cast<const float*>(dh_re.data), static_cast<const float*>(dh_im.data),
      static_cast<const float*>(h_re.data), static_cast<const float*>(h_im.data),
      static_cast<const float*>(lam_re.data), static_cast<const float*>(lam_im.data),
      static_cast<const int32_t*>(segments.data), static_cast<int64_t>(segments.length) - 1, t, d,
      static_cast<float*>(du_re.data), static_cast<float*>(du_im.data), static_cast<float*>(dlam_re.data),
      static_cast<float*>(dlam_im.data)));
}

napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  Call call(env, info, "layerNormForward", 10);
  Array x = call.f32(0, "x");
  const int64_t t = call.count(1, "t"), d = call.count(2, "d");
  Array bounds = call.i32(3, "bounds");
  Array gamma = call.f32(4, "gamma"), beta = call.f32(5, "beta");
  const double eps = call.number(6, "eps");
  Array y = call.f32(7, "y"), mean = call.f32(8, "mean"), rstd = call.f32(9, "rstd");
  call.bounds(bounds, d);
  const int64_t chunks = static_cast<int64_t>(bounds.length) - 1;
  call.length(x, static_cast<double>(t) * d);
  call.length(gamma, d);
  call.length(beta, d);
  call.length(y, static_cast<double>(t) * d);
  call.length(mean, static_cast<double>(t) * chunks);
  call.length(rstd, static_cast<double>(t) * chunks);
  call.no_overlap({&y, &mean, &rstd}, {&x, &bounds, &gamma, &beta});
  if (!call.ok()) return nullptr;
  return call.finish(call.table()->layer_norm_forward(
      static_cast<const float*>(x.data), t, d, static_cast<const int32_t*>(bounds.data), static_cast<int>(chunks),
      static_cast<const float*>(gamma.data), static_cast<const float*>(beta.data), static_cast<float>(eps),
      static_cast<float*>(y.data), static_cast<float*>(mean.data), static_cast<float*>(rstd.data)));
}

napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "layerNormBackward", 11);
  Array dy = call.f32(0, "dy"), x = call.f32(1, "x");
  const int64_t t = call.count(2, "t"), d = call.count(3, "d");
  Array bounds = call.i32(4, "bounds");
  Array gamma = call.f32(5, "gamma"), mean = call.f32(6, "mean"), rstd = call.f32(7, "rstd");
  Array dx = call.f32(8, "dx"), dgamma = call.f32(9, "dGamma"), dbeta = call.f32(10, "dBeta");
  call.bounds(bounds, d);
  const int64_t chunks = static_cast<int64_t>(bounds.length) - 1;
  call.length(dy, static_cast<double>(t) * d);
  call.length(x, static_cast<double>(t) * d);
  call.length(gamma, d);
  call.length(mean, static_cast<double>(t) * chunks);
  call.length(rstd, static_cast<double>(t) * chunks);
  call.length(dx, static_cast<double>(t) * d);
  call.length(dgamma, d);
  call.length(dbeta, d);
  call.no_overlap({&dx, &dgamma, &dbeta}, {&dy, &x, &bounds, &gamma, &mean, &rstd});
  if (!call.ok()) return nullptr;
  return call.finish(call.table()->layer_norm_backward(
      static_cast<const float*>(dy.data), static_cast<const float*>(x.data), t, d,
      static_cast<const int32_t*>(bounds.data), static_cast<int>(chunks), static_cast<const float*>(gamma.data),
      static_cast<const float*>(mean.data), static_cast<const float*>(rstd.data), static_cast<float*>(dx.data),
      static_cast<float*>(dgamma.data), static_cast<float*>(dbeta.data)));
}

napi_value RankTargets(napi_env env, napi_callback_info info) {
  Call call(env, info, "rankTargets", 10);
  Array h = call.f32(0, "h"), e = call.f32(1, "e");
  const int64_t b = call.count(2, "b"), n1 = call.count(3, "n1"), d = call.count(4, "d");
  Array targets = call.i32(5, "targets"), dims = call.i32(6, "dims");
  Array offsets = call.i32(7, "excludeOffsets", true), items = call.i32(8, "excludeItems", true);
  Array ranks = call.i32(9, "ranks");
  call.length(h, static_cast<double>(b) * d);
  call.length(e, static_cast<double>(n1) * d);
  call.length(targets, b);
  call.items(targets, b, 1, n1);
  call.dims(dims, d);
  call.length(ranks, static_cast<double>(b) * dims.length);
  if (call.ok() && (offsets.data == nullptr) != (items.data == nullptr)) {
    call.fail("excludeOffsets and excludeItems must be given together");
  }
  if (call.ok() && offsets.data != nullptr) {
    call.length(offsets, static_cast<double>(b) + 1);
    const int32_t* o = static_cast<const int32_t*>(offsets.data);
    for (int64_t i = 0; call.ok() && i < b; ++i) {
      if (o[i] < 0 || o[i + 1] < o[i]) call.fail("excludeOffsets must be non-negative and non-decreasing");
    }
    const int64_t listed = b > 0 && call.ok() ? o[b] : 0;
    call.length(items, listed);
    call.items(items, listed, 0, n1);
  }
  call.no_overlap({&ranks}, {&h, &e, &targets, &dims, &offsets, &items});
  if (!call.ok()) return nullptr;
  return call.finish(
      call.table()->rank_targets(static_cast<const float*>(h.data), static_cast<const float*>(e.data), b, n1, d,
                                 static_cast<const int32_t*>(targets.data), static_cast<const int32_t*>(dims.data),
                                 static_cast<int>(dims.length), static_cast<const int32_t*>(offsets.data),
                                 static_cast<const int32_t*>(items.data), static_cast<int32_t*>(ranks.data)));
}

napi_value TopItems(napi_env env, napi_callback_info info) {
  Call call(env, info, "topItems", 8);
  Array h = call.f32(0, "h"), e = call.f32(1, "e");
  const int64_t b = call.count(2, "b"), n1 = call.count(3, "n1"), d = call.count(4, "d"), k = call.count(5, "k");
  Array ids = call.i32(6, "ids");
  Array scores = call.f32(7, "scores");
  call.length(h, static_cast<double>(b) * d);
  call.length(e, static_cast<double>(n1) * d);
  call.length(ids, static_cast<double>(b) * k);
  call.length(scores, static_cast<double>(b) * k);
  call.no_overlap({&ids, &scores}, {&h, &e});
  if (!call.ok()) return nullptr;
  return call.finish(call.table()->top_items(static_cast<const float*>(h.data), static_cast<const float*>(e.data), b,
                                             n1, d, k, static_cast<int32_t*>(ids.data),
                                             static_cast<float*>(scores.data)));
}

napi_value AddRowVector(napi_env env, napi_callback_info info) {
  Call call(env, info, "addRowVector", 4);
  Array y = call.f32(0, "y");
  const int64_t t = call.count(1, "t"), d = call.count(2, "d");
  Array v = call.f32(3, "v");
  call.length(y, static_cast<double>(t) * d);
  call.length(v, d);
  call.no_overlap({&y}, {&v});
  if (!call.ok()) return nullptr;
  return call.finish(
      call.table()->add_row_vector(static_cast<float*>(y.data), t, d, static_cast<const float*>(v.data)));
}

napi_value AddColumnSums(napi_env env, napi_callback_info info) {
  Call call(env, info, "addColumnSums", 4);
  Array x = call.f32(0, "x");
  const int64_t t = call.count(1, "t"), d = call.count(2, "d");
  Array acc = call.f32(3, "acc");
  call.length(x, static_cast<double>(t) * d);
  call.length(acc, d);
  call.no_overlap({&acc}, {&x});
  if (!call.ok()) return nullptr;
  return call.finish(
      call.table()->add_column_sums(static_cast<const float*>(x.data), t, d, static_cast<float*>(acc.data)));
}

napi_value AddSparseRowsProduct(napi_env env, napi_callback_info info) {
  Call call(env, info, "addSparseRowsProduct", 8);
  Array c = call.f32(0, "c");
  const int64_t rows = call.count(1, "rows"), d = call.count(2, "d");
  Array row_start = call.i32(3, "rowStart"), columns = call.i32(4, "columns");
  Array weights = call.f32(5, "weights"), b = call.f32(6, "b");
  const int64_t b_rows = call.count(7, "bRows");
  call.length(c, static_cast<double>(rows) * d);
  call.length(row_start, static_cast<double>(rows) + 1);
  call.row_start(row_start, rows);
  const int64_t entries = call.ok() ? static_cast<const int32_t*>(row_start.data)[rows] : 0;
  call.length(columns, entries);
  call.length(weights, entries);
  call.length(b, static_cast<double>(b_rows) * d);
  call.items(columns, entries, 0, b_rows);
  call.no_overlap({&c}, {&row_start, &columns, &weights, &b});
  if (!call.ok()) return nullptr;
  return call.finish(call.table()->add_sparse_rows_product(
      static_cast<float*>(c.data), rows, d, static_cast<const int32_t*>(row_start.data),
      static_cast<const int32_t*>(columns.data), static_cast<const float*>(weights.data),
      static_cast<const float*>(b.data)));
}

napi_value AdamwUpdate(napi_env env, napi_callback_info info) {
  Call call(env, info, "adamwUpdate", 12);
  Array params = call.f32(0, "params"), grads = call.f32(1, "grads"), m = call.f32(2, "m"), v = call.f32(3, "v");
  const int64_t offset = call.count(4, "offset"), size = call.count(5, "size");
  const double beta1 = call.number(6, "beta1"), beta2 = call.number(7, "beta2"), eps = call.number(8, "eps");
  const double step_size = call.number(9, "stepSize"), inv_sqrt_bc2 = call.number(10, "invSqrtBc2");
  const double keep = call.number(11, "keep");
  for (const Array* a : {&params, &grads, &m, &v}) call.length(*a, static_cast<double>(offset) + size);
  call.no_overlap({&params, &m, &v}, {&grads});
  if (!call.ok()) return nullptr;
  return call.finish(call.table()->adamw_update(
      static_cast<float*>(params.data) + offset, static_cast<const float*>(grads.data) + offset,
      static_cast<float*>(m.data) + offset, static_cast<float*>(v.data) + offset, size, beta1, beta2, eps, step_size,
      inv_sqrt_bc2, keep));
}

napi_value Threads(napi_env env, napi_callback_info) { return number_value(env, pool_threads()); }

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Call call(env, info, "setThreads", 1);
  const double n = call.number(0, "n");
  if (call.ok() && !(n >= 1 && n <= 1024 && floor(n) == n)) {
    call.fail("thread count must be an integer in 1..1024 (got %g)", n);
  }
  if (call.ok()) set_pool_threads(static_cast<int>(n));
  return nullptr;
}

// ---------------------------------------------------------------------------
// Module functions.

napi_value SupportedVariants(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_array(env, &result);
  uint32_t index = 0;
  for (const Variant& v : kVariants) {
    if (!v.cpu_runs()) continue;
    napi_value name;
    napi_create_string_utf8(env, v.name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, result, index++, name);
  }
  return result;
}

napi_value CreateKernels(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  char name[32] = "";
  size_t length = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, arg, name, sizeof name, &length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "createKernels: variant must be a string");
    return nullptr;
  }
  const Variant* variant = nullptr;
  for (const Variant& v : kVariants) {
    if (strcmp(v.name, name) == 0) variant = &v;
  }
  char message[256];
  if (variant == nullptr) {
    snprintf(message, sizeof message, "native kernels \"%s\" are not built into this addon", name);
    napi_throw_error(env, nullptr, message);
    return nullptr;
  }
  if (!variant->cpu_runs()) {
    snprintf(message, sizeof message, "native kernels \"%s\" need CPU features this processor lacks", name);
    napi_throw_error(env, nullptr, message);
    return nullptr;
  }
  napi_value object;
  napi_create_object(env, &object);
  char full_name[48];
  snprintf(full_name, sizeof full_name, "native-%s", variant->name);
  napi_value name_value;
  napi_create_string_utf8(env, full_name, NAPI_AUTO_LENGTH, &name_value);
  void* table = const_cast<KernelTable*>(variant->table);
  const napi_property_descriptor properties[] = {
      {"name", nullptr, nullptr, nullptr, nullptr, name_value, napi_enumerable, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"softmaxXentMulti", nullptr, SoftmaxXentMulti, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"lruScanForward", nullptr, LruScanForward, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"lruScanBackward", nullptr, LruScanBackward, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"layerNormForward", nullptr, LayerNormForward, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"layerNormBackward", nullptr, LayerNormBackward, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"rankTargets", nullptr, RankTargets, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"topItems", nullptr, TopItems, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"addRowVector", nullptr, AddRowVector, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"addColumnSums", nullptr, AddColumnSums, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"addSparseRowsProduct", nullptr, AddSparseRowsProduct, nullptr, nullptr, nullptr, napi_enumerable, table},
      {"adamwUpdate", nullptr, AdamwUpdate, nullptr, nullptr, nullptr, napi_enumerable, table},
  };
  napi_define_properties(env, object, sizeof properties / sizeof properties[0], properties);
  return object;
}

// The pool's threads are joined when the last environment using the addon goes.
std::atomic<int> live_environments{0};

void release_environment(void*) {
  if (live_environments.fetch_sub(1) == 1) shutdown_pool();
}

}  // namespace
}  // namespace fmrlrec

NAPI_MODULE_INIT() {
  using namespace fmrlrec;
  live_environments.fetch_add(1);
  napi_add_env_cleanup_hook(env, release_environment, nullptr);
  const napi_property_descriptor properties[] = {
      {"supportedVariants", nullptr, SupportedVariants, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"createKernels", nullptr, CreateKernels, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}
