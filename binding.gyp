# The native kernels (native/): one N-API addon, build/Release/fmrlrec_kernels.node.
# The kernel sources are compiled once per variant into a static library, each
# with its own instruction-set flags and its own C++ namespace
# (FMRLREC_VARIANT); the addon links them all and picks one at load time from
# what the CPU supports (no -march=native: the build runs anywhere).
{
  'variables': {
    'kernel_sources': [
      'native/adamw.cc',
      'native/bias.cc',
      'native/gemm.cc',
      'native/layer_norm.cc',
      'native/lru_scan.cc',
      'native/rank_targets.cc',
      'native/softmax_xent.cc',
      'native/sparse_rows.cc',
      'native/top_items.cc',
      'native/variant.cc',
    ],
    'kernel_cflags': ['-O3', '-fPIC', '-ffp-contract=fast', '-fno-math-errno', '-fvisibility=hidden'],
  },
  'targets': [
    {
      'target_name': 'fmrlrec_kernels_baseline',
      'type': 'static_library',
      'sources': ['<@(kernel_sources)'],
      'defines': ['FMRLREC_VARIANT=baseline'],
      'cflags_cc': ['<@(kernel_cflags)'],
      'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['<@(kernel_cflags)']},
    },
    {
      'target_name': 'fmrlrec_kernels',
      'sources': ['native/addon.cc', 'native/thread_pool.cc'],
      'dependencies': ['fmrlrec_kernels_baseline'],
      'cflags_cc': ['-O2', '-fvisibility=hidden'],
      'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['-O2', '-fvisibility=hidden']},
      'conditions': [
        ['target_arch=="x64"', {
          'defines': ['FMRLREC_X86_VARIANTS'],
          'dependencies': ['fmrlrec_kernels_avx2', 'fmrlrec_kernels_avx512'],
        }],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'fmrlrec_kernels_avx2',
          'type': 'static_library',
          'sources': ['<@(kernel_sources)'],
          'defines': ['FMRLREC_VARIANT=avx2'],
          'cflags_cc': ['<@(kernel_cflags)', '-mavx2', '-mfma'],
          'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['<@(kernel_cflags)', '-mavx2', '-mfma']},
        },
        {
          'target_name': 'fmrlrec_kernels_avx512',
          'type': 'static_library',
          'sources': ['<@(kernel_sources)'],
          'defines': ['FMRLREC_VARIANT=avx512'],
          'cflags_cc': ['<@(kernel_cflags)', '-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl'],
          'xcode_settings': {'OTHER_CPLUSPLUSFLAGS': ['<@(kernel_cflags)', '-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512dq', '-mavx512vl']},
        },
      ],
    }],
  ],
}
