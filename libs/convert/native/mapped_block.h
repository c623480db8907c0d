/*
 * Buffer-sized blocks mapped and unmapped directly, and handed to JavaScript without a copy.
 *
 * From malloc they would come, once glibc's adaptive mmap threshold has grown past them (it
 * grows each time a large block is freed), from an arena, and stay resident there after they are
 * freed: tens of MiB of a converting worker's peak. Mapped, a freed block leaves at once.
 */
#ifndef ACCEL_MAPPED_BLOCK_H
#define ACCEL_MAPPED_BLOCK_H

#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Blocks from this size on are mapped; smaller ones come from malloc. */
#define MAPPED_FROM (256 << 10)

static unsigned char *block_alloc(size_t cap) {
  if (cap < MAPPED_FROM) return malloc(cap);
  void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void block_free(unsigned char *p, size_t cap) {
  if (!p) return;
  if (cap < MAPPED_FROM) free(p);
  else munmap(p, cap);
}

/** Frees a block handed to JavaScript once V8 collects its Buffer (the hint is the block's size). */
static void finalize_block(napi_env env, void *data, void *hint) {
  size_t cap = (size_t)(uintptr_t)hint;
  int64_t ignored;
  napi_adjust_external_memory(env, -(int64_t)cap, &ignored);
  block_free(data, cap);
}

/**
 * The block becomes a Buffer of its first `len` bytes, its size told to V8 so that it is
 * collected in time (V8 otherwise lets tens of MiB of garbage pile up before it runs). On
 * failure the block is still the caller's.
 */
static bool block_to_buffer(napi_env env, unsigned char *block, size_t len, size_t cap, napi_value *buf) {
  if (napi_create_external_buffer(env, len, block, finalize_block, (void *)(uintptr_t)cap, buf) != napi_ok)
    return false;
  int64_t ignored;
  napi_adjust_external_memory(env, (int64_t)cap, &ignored);
  return true;
}

#endif
