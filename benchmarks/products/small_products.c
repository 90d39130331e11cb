// `make bench-products`: one matrix product at a time, on one core, for the shapes the core runs —
// OpenBLAS sgemm (a Linear forward with Wᵀ as the core calls it); libxsmm's JIT kernels (weights pre-transposed, so that every
// product is untransposed and nothing is packed); oneDNN's matmul with the weights reordered once
// into its own layout (pre-packed). Prints GFLOP/s per library and the largest difference from
// OpenBLAS's result. The shapes: the UvA CNN's column products (forward W·cols and backward Wᵀ·δ,
// for a group of samples: benchmarks/suites/cnn.py, Conv2d+Lowering.swift) and the MLP suite's
// Linear products (64- or 128-row chain blocks).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#define cblas_sgemm scipy_cblas_sgemm
void scipy_openblas_set_num_threads(int);
#include <libxsmm.h>
#include <oneapi/dnnl/dnnl.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static float *rnd(long n) { float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64); for (long i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX - 0.5f; return p; }
#define CHECK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { printf("dnnl error %d at %s\n", s_, #x); exit(1); } } while (0)

typedef struct { const char *name; int M, N, K; int weightLeft; } shape;
// weightLeft: C(M×N) = W(M×K) · X(K×N)  (convolution: weight on the left, columns on the right)
// else:       C(M×N) = X(M×K) · Wᵀ     (W stored N×K, a Linear layer's forward as ebm_swift calls it)

static double best_of(void (*f)(void *), void *ctx, double flops) {
    double best = 1e30; int reps = (int)(2e8 / flops) + 1;
    for (int r = 0; r < 5; r++) { double t0 = now(); for (int i = 0; i < reps; i++) f(ctx); double dt = (now() - t0) / reps; if (dt < best) best = dt; }
    return flops / best / 1e9;
}
typedef struct { shape s; float *W, *Wt, *X, *C; libxsmm_smmfunction k; dnnl_primitive_t prim; dnnl_stream_t stream; dnnl_memory_t src, wei, dst; } ctx_t;

static void run_blas(void *p) { ctx_t *c = p; shape s = c->s;
    if (s.weightLeft) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.M, s.N, s.K, 1, c->W, s.K, c->X, s.N, 0, c->C, s.N);
    else if ((long)s.M * s.N * s.K <= (1L << 19)) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.M, s.N, s.K, 1, c->X, s.K, c->Wt, s.N, 0, c->C, s.N);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.M, s.N, s.K, 1, c->X, s.K, c->W, s.K, 0, c->C, s.N); }
static void run_xsmm(void *p) { ctx_t *c = p; shape s = c->s;
    // column-major view: Cᵀ(N×M) = Bᵀ(N×K) · Aᵀ(K×M) with A, B the row-major left and right operands.
    if (s.weightLeft) c->k(c->X, c->W, c->C); else c->k(c->Wt, c->X, c->C); }
static void run_dnnl(void *p) { ctx_t *c = p;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, c->src}, {DNNL_ARG_WEIGHTS, c->wei}, {DNNL_ARG_DST, c->dst}};
    dnnl_primitive_execute(c->prim, c->stream, 3, args); }

int main(void) {
    shape shapes[] = {
        {"cnn L1 fwd  16x256x25", 16, 256, 25, 1}, {"cnn L2 fwd  32x256x144", 32, 256, 144, 1},
        {"cnn L3 fwd  64x128x288", 64, 128, 288, 1}, {"cnn L4 fwd  64x64x576", 64, 64, 576, 1},
        {"cnn L1 bwd  25x256x16", 25, 256, 16, 1}, {"cnn L2 bwd  144x256x32", 144, 256, 32, 1},
        {"cnn L3 bwd  288x128x64", 288, 128, 64, 1}, {"cnn L4 bwd  576x64x64", 576, 64, 64, 1},
        {"mnist L1 fwd 64x512x784", 64, 512, 784, 0}, {"mnist L2 fwd 64x512x512", 64, 512, 512, 0},
        {"mnist L1 bwd 64x784x512", 64, 784, 512, 0}, {"many L2 128x64x64", 128, 64, 64, 0}, {"toy L2 32x128x128", 32, 128, 128, 0}, {"digits L1 64x256x64", 64, 256, 64, 0}};
    scipy_openblas_set_num_threads(1); libxsmm_init();
    dnnl_engine_t eng; CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    printf("%-26s %9s %9s %9s  GFLOP/s, one thread\n", "product", "OpenBLAS", "libxsmm", "oneDNN");
    for (unsigned i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        ctx_t c; memset(&c, 0, sizeof c); shape s = c.s = shapes[i];
        double flops = 2.0 * s.M * s.N * s.K;
        long wn = s.weightLeft ? (long)s.M * s.K : (long)s.N * s.K;
        c.W = rnd(wn); c.Wt = rnd(wn); c.X = rnd(s.weightLeft ? (long)s.K * s.N : (long)s.M * s.K); c.C = rnd((long)s.M * s.N);
        if (!s.weightLeft) for (int n = 0; n < s.N; n++) for (int k = 0; k < s.K; k++) c.Wt[k * s.N + n] = c.W[n * s.K + k];
        run_blas(&c);
        double g_blas = best_of(run_blas, &c, flops);
        float *ref = malloc(sizeof(float) * s.M * s.N); memcpy(ref, c.C, sizeof(float) * s.M * s.N);
        float alpha = 1, beta = 0; int flags = LIBXSMM_GEMM_FLAGS('N', 'N');
        libxsmm_blasint m = s.N, n = s.M, k = s.K, lda = s.N, ldb = s.K, ldc = s.N;
        c.k = libxsmm_smmdispatch(m, n, k, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
        double g_xsmm = 0, err_x = 0;
        if (c.k) { g_xsmm = best_of(run_xsmm, &c, flops); for (long j = 0; j < (long)s.M * s.N; j++) { double e = c.C[j] - ref[j]; if (e < 0) e = -e; if (e > err_x) err_x = e; } }
        // oneDNN: dst(P×Q) = src(P×R) · wei(R×Q), strides chosen so that dst is our row-major C.
        dnnl_memory_desc_t sd, wd, dd, wany; dnnl_dims_t sdim, wdim, ddim, ss, ws, ds;
        float *srcp, *weip;
        if (s.weightLeft) { // Cᵀ(N×M) = Xᵀ(N×K) · Wᵀ(K×M)
            sdim[0] = s.N; sdim[1] = s.K; ss[0] = 1; ss[1] = s.N; wdim[0] = s.K; wdim[1] = s.M; ws[0] = 1; ws[1] = s.K;
            ddim[0] = s.N; ddim[1] = s.M; ds[0] = 1; ds[1] = s.N; srcp = c.X; weip = c.W;
        } else { // C(M×N) = X(M×K) · Wᵀ(K×N)
            sdim[0] = s.M; sdim[1] = s.K; ss[0] = s.K; ss[1] = 1; wdim[0] = s.K; wdim[1] = s.N; ws[0] = 1; ws[1] = s.K;
            ddim[0] = s.M; ddim[1] = s.N; ds[0] = s.N; ds[1] = 1; srcp = c.X; weip = c.W;
        }
        CHECK(dnnl_memory_desc_init_by_strides(&sd, 2, sdim, dnnl_f32, ss));
        CHECK(dnnl_memory_desc_init_by_strides(&wd, 2, wdim, dnnl_f32, ws));
        CHECK(dnnl_memory_desc_init_by_strides(&dd, 2, ddim, dnnl_f32, ds));
        CHECK(dnnl_memory_desc_init_by_tag(&wany, 2, wdim, dnnl_f32, dnnl_format_tag_any));
        dnnl_matmul_desc_t md; CHECK(dnnl_matmul_desc_init(&md, &sd, &wany, NULL, &dd));
        dnnl_primitive_desc_t pd; CHECK(dnnl_primitive_desc_create(&pd, &md, NULL, eng, NULL));
        const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        const dnnl_memory_desc_t *packed = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        CHECK(dnnl_stream_create(&c.stream, eng, dnnl_stream_default_flags));
        dnnl_memory_t wplain; CHECK(dnnl_memory_create(&wplain, &wd, eng, weip));
        CHECK(dnnl_memory_create(&c.wei, packed, eng, DNNL_MEMORY_ALLOCATE));
        dnnl_primitive_desc_t rpd; CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wd, eng, packed, eng, NULL));
        dnnl_primitive_t reorder; CHECK(dnnl_primitive_create(&reorder, rpd));
        dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wplain}, {DNNL_ARG_TO, c.wei}};
        CHECK(dnnl_primitive_execute(reorder, c.stream, 2, rargs)); dnnl_stream_wait(c.stream);
        CHECK(dnnl_memory_create(&c.src, &sd, eng, srcp)); CHECK(dnnl_memory_create(&c.dst, &dd, eng, c.C));
        CHECK(dnnl_primitive_create(&c.prim, pd));
        double g_dnnl = best_of(run_dnnl, &c, flops), err_d = 0;
        for (long j = 0; j < (long)s.M * s.N; j++) { double e = c.C[j] - ref[j]; if (e < 0) e = -e; if (e > err_d) err_d = e; }
        printf("%-26s %9.1f %9.1f %9.1f  (dnnl %s; max |diff| %.1e %.1e)\n", s.name, g_blas, g_xsmm, g_dnnl, impl, err_x, err_d);
    }
    return 0;
}
