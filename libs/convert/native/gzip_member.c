/*
 * gzipMember(parts: Buffer[], level: number, xfl: number): Promise<Buffer>
 *
 * One whole gzip member (RFC 1952) compressed by libdeflate on libuv's thread pool: the
 * 10-byte header without name or mtime, raw DEFLATE, CRC32 and ISIZE. The header is written
 * here rather than by libdeflate_gzip_compress so both engines emit the same header bytes.
 *
 * The parts are copied into native memory at the call and freed as soon as they are
 * compressed; the output block becomes the Buffer, its size told to V8 so that it is collected in
 * time (V8 otherwise lets tens of MiB of garbage pile up before it runs).
 *
 * Member-sized blocks are mapped (mapped_block.h): from the thread pool's malloc arenas they
 * stayed resident once freed, 20-40 MiB of a converting worker's peak. Each pool thread keeps
 * one compressor, instead of allocating a level-9 one (megabytes) per member.
 */
#include <libdeflate.h>
#include <node_api.h>
#include "napi_work.h"
#include "mapped_block.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#define GZIP_HEADER_SIZE 10
#define GZIP_TRAILER_SIZE 8

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  unsigned char *in;
  size_t in_len;
  size_t in_cap;
  int level;
  unsigned char xfl;
  unsigned char *out;
  size_t out_len;
  size_t out_cap;
  const char *error;
} member_job;

static void put_le32(unsigned char *p, uint32_t v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static __thread struct libdeflate_compressor *thread_compressor;
static __thread int thread_level = -1;

/** This pool thread's compressor for `level` (never freed: the threads live as long as the process). */
static struct libdeflate_compressor *compressor_for(int level) {
  if (thread_level != level) {
    if (thread_compressor) libdeflate_free_compressor(thread_compressor);
    thread_compressor = libdeflate_alloc_compressor(level);
    thread_level = thread_compressor ? level : -1;
  }
  return thread_compressor;
}

static void compress_member(napi_env env, void *data) {
  (void)env;
  member_job *job = data;
  struct libdeflate_compressor *c = compressor_for(job->level);
  if (!c) {
    job->error = "libdeflate could not allocate a compressor";
    return;
  }
  size_t bound = libdeflate_deflate_compress_bound(c, job->in_len);
  job->out_cap = GZIP_HEADER_SIZE + bound + GZIP_TRAILER_SIZE;
  job->out = block_alloc(job->out_cap);
  if (!job->out) {
    job->error = "out of memory for a gzip member";
    return;
  }
  static const unsigned char header[GZIP_HEADER_SIZE] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff};
  memcpy(job->out, header, GZIP_HEADER_SIZE);
  job->out[8] = job->xfl;
  size_t body = libdeflate_deflate_compress(c, job->in, job->in_len, job->out + GZIP_HEADER_SIZE, bound);
  uint32_t crc = libdeflate_crc32(0, job->in, job->in_len);
  block_free(job->in, job->in_cap);
  job->in = NULL;
  if (body == 0) {
    job->error = "libdeflate output exceeded its own bound";
    return;
  }
  unsigned char *trailer = job->out + GZIP_HEADER_SIZE + body;
  put_le32(trailer, crc);
  put_le32(trailer + 4, (uint32_t)(job->in_len & 0xffffffffu));
  job->out_len = GZIP_HEADER_SIZE + body + GZIP_TRAILER_SIZE;
}

static void member_done(napi_env env, napi_status status, void *data) {
  member_job *job = data;
  if (status != napi_ok && !job->error) job->error = "gzip member compression was cancelled";
  napi_value buf;
  // The block itself becomes the Buffer: no copy.
  if (!job->error) {
    if (block_to_buffer(env, job->out, job->out_len, job->out_cap, &buf))
      job->out = NULL;
    else
      job->error = "could not hand the gzip member to JavaScript";
  }
  if (job->error)
    napi_reject_deferred(env, job->deferred, error_with(env, NULL, job->error));
  else
    napi_resolve_deferred(env, job->deferred, buf);
  block_free(job->in, job->in_cap);
  block_free(job->out, job->out_cap);
  napi_delete_async_work(env, job->work);
  free(job);
}

static const char *USAGE = "gzipMember(parts: Buffer[], level: number, xfl: number)";

/** The i-th part's bytes, or false when it is not a Buffer. */
static bool part_at(napi_env env, napi_value parts, uint32_t i, void **bytes, size_t *len) {
  napi_value part;
  bool is_buffer = false;
  return napi_get_element(env, parts, i, &part) == napi_ok && napi_is_buffer(env, part, &is_buffer) == napi_ok &&
         is_buffer && napi_get_buffer_info(env, part, bytes, len) == napi_ok;
}

static napi_value gzip_member(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_array = false;
  uint32_t count = 0;
  if (argc < 3 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, USAGE);
    return NULL;
  }
  int32_t level, xfl;
  if (napi_get_value_int32(env, argv[1], &level) != napi_ok || level < 0 || level > 12 ||
      napi_get_value_int32(env, argv[2], &xfl) != napi_ok || xfl < 0 || xfl > 255) {
    napi_throw_range_error(env, NULL, "level must be 0..12 and xfl 0..255");
    return NULL;
  }
  size_t total = 0, len;
  void *bytes;
  for (uint32_t i = 0; i < count; i++) {
    if (!part_at(env, argv[0], i, &bytes, &len)) {
      napi_throw_type_error(env, NULL, USAGE);
      return NULL;
    }
    total += len;
  }
  member_job *job = calloc(1, sizeof(*job));
  if (job) job->in_cap = total ? total : 1;
  if (!job || !(job->in = block_alloc(job->in_cap))) {
    free(job);
    napi_throw_error(env, NULL, "out of memory for a gzip member");
    return NULL;
  }
  for (uint32_t i = 0; i < count && part_at(env, argv[0], i, &bytes, &len); i++) {
    memcpy(job->in + job->in_len, bytes, len);
    job->in_len += len;
  }
  job->level = level;
  job->xfl = (unsigned char)xfl;
  return queue_promised_work(env, "accel:gzipMember", compress_member, member_done, job, &job->work, &job->deferred);
}

static napi_value init(napi_env env, napi_value exports) {
  export_function(env, exports, "gzipMember", gzip_member);
  export_string(env, exports, "libdeflateVersion", LIBDEFLATE_VERSION_STRING);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
