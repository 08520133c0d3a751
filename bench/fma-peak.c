/*
 * The CPU's FMA peak: every thread runs 16 independent chains of vector FMAs (enough to cover
 * the FMA latency on both pipes), so the loop is bound by FMA throughput alone. Usage:
 * fma-peak THREADS SECONDS; prints one JSON object. The widest ISA the CPU supports is used.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAINS 16 /* independent accumulators per thread */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Sixteen named accumulators, not an array: at -O2 compilers keep an indexed array in memory,
   and the loop then measures store forwarding instead of FMAs. */
#define DECL(T, SET) T a0 = SET(0), a1 = SET(1), a2 = SET(2), a3 = SET(3), a4 = SET(4), a5 = SET(5), a6 = SET(6), \
  a7 = SET(7), a8 = SET(8), a9 = SET(9), a10 = SET(10), a11 = SET(11), a12 = SET(12), a13 = SET(13), a14 = SET(14), a15 = SET(15)
#define STEP(F) a0 = F(a0, b, c); a1 = F(a1, b, c); a2 = F(a2, b, c); a3 = F(a3, b, c); a4 = F(a4, b, c); a5 = F(a5, b, c); \
  a6 = F(a6, b, c); a7 = F(a7, b, c); a8 = F(a8, b, c); a9 = F(a9, b, c); a10 = F(a10, b, c); a11 = F(a11, b, c); \
  a12 = F(a12, b, c); a13 = F(a13, b, c); a14 = F(a14, b, c); a15 = F(a15, b, c)
#define SUM(ADD) ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))), \
  ADD(ADD(ADD(a8, a9), ADD(a10, a11)), ADD(ADD(a12, a13), ADD(a14, a15))))

__attribute__((target("avx512f"))) static float chains512(long iters) {
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  DECL(__m512, _mm512_set1_ps);
  for (long i = 0; i < iters; i++) { STEP(_mm512_fmadd_ps); }
  return _mm512_reduce_add_ps(SUM(_mm512_add_ps));
}

__attribute__((target("avx2,fma"))) static float chains256(long iters) {
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  DECL(__m256, _mm256_set1_ps);
  for (long i = 0; i < iters; i++) { STEP(_mm256_fmadd_ps); }
  float out[8];
  _mm256_storeu_ps(out, SUM(_mm256_add_ps));
  return out[0] + out[7];
}

static int width;  /* floats per vector */
static long iters;
static volatile float sink;

static void *worker(void *arg) {
  (void)arg;
  sink = width == 16 ? chains512(iters) : chains256(iters);
  return NULL;
}

/* All threads at once; GFLOP/s of the whole machine. */
static double measure(int threads) {
  pthread_t t[256];
  double t0 = now();
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  double dt = now() - t0;
  return 2.0 * CHAINS * width * (double)iters * threads / dt / 1e9;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  double seconds = argc > 2 ? atof(argv[2]) : 1.0;
  if (threads < 1 || threads > 256) return 2;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) width = 16;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) width = 8;
  else {
    printf("{\"isa\":\"none\"}\n");
    return 0;
  }
  /* Calibrate to ~0.1 s per repetition, then keep the best of the repetitions: the peak is what
     the cores can do, other tenants only ever take from it. */
  iters = 1000000;
  double rate = measure(threads);
  iters = (long)(rate * 1e9 * 0.1 / (2.0 * CHAINS * width * threads));
  if (iters < 1000) iters = 1000;
  double best = 0, t0 = now();
  int reps = 0;
  while (now() - t0 < seconds || reps < 3) {
    double r = measure(threads);
    if (r > best) best = r;
    reps++;
  }
  printf("{\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.1f,\"reps\":%d}\n", width == 16 ? "avx512" : "avx2", threads, best, reps);
  return 0;
}
