#ifndef ACCEL_SCRATCH_BLOCK_H
#define ACCEL_SCRATCH_BLOCK_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Scratch blocks: zero-filled Buffers of mapped pages (resident only once written) whose pages
 * go back to the system when discarded, not when V8 collects them: a Nydus bootstrap (tens of
 * MB) is garbage the moment it is compressed, and waiting for a collection put it on top of the
 * next one's peak. A discarded block stays mapped, reading as zeros, until it is collected.
 */

static const napi_type_tag SCRATCH_TAG = {0x616363656c736372ULL, 0x61746368626c6b31ULL};

static size_t page_rounded(size_t len) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  return len ? (len + page - 1) / page * page : page;
}

static void finalize_scratch(napi_env env, void *data, void *hint) {
  size_t cap = (size_t)(uintptr_t)hint;
  int64_t ignored;
  napi_adjust_external_memory(env, -(int64_t)cap, &ignored);
  munmap(data, cap);
}

/** scratchBlock(size: number): Buffer */
static napi_value scratch_block(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], buf;
  int64_t size;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int64(env, argv[0], &size) != napi_ok || size < 0 || size > ((int64_t)1 << 40)) {
    napi_throw_range_error(env, NULL, "scratchBlock(size): size must be 0..2^40");
    return NULL;
  }
  size_t cap = page_rounded((size_t)size);
  void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    napi_throw_error(env, NULL, "out of memory for a scratch block");
    return NULL;
  }
  if (napi_create_external_buffer(env, (size_t)size, p, finalize_scratch, (void *)(uintptr_t)cap, &buf) != napi_ok) {
    munmap(p, cap);
    napi_throw_error(env, NULL, "could not hand a scratch block to JavaScript");
    return NULL;
  }
  int64_t ignored;
  napi_adjust_external_memory(env, (int64_t)cap, &ignored);
  napi_type_tag_object(env, buf, &SCRATCH_TAG);
  return buf;
}

/** discardBlock(block: Buffer): void — only a scratch block; its pages are dropped, its bytes read as zeros. */
static napi_value discard_block(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool ours = false;
  void *data;
  size_t len;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_check_object_type_tag(env, argv[0], &SCRATCH_TAG, &ours) != napi_ok || !ours ||
      napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "discardBlock(block): block must come from scratchBlock");
    return NULL;
  }
  madvise(data, page_rounded(len), MADV_DONTNEED);
  return NULL;
}

#endif
