/*
 * gunzipCreate(): External — one gzip stream's decompression state (ISA-L's igzip).
 * gunzipRun(state, input, inAt, output, outAt): Promise<[inAt, outAt, inMember]>
 * gunzipOutput(size): Buffer — an output block, mapped (mapped_block.h) so that it leaves
 *   memory as soon as it is collected.
 *
 * Inflates input[inAt..] into output[outAt..] on libuv's thread pool until the input is used up
 * or the output is full, across gzip members (RFC 1952 allows any number, and eStargz blobs
 * are made of them). Each member's header is parsed and its CRC32 and ISIZE are checked by
 * ISA-L. Zero bytes after the last member are padding and skipped, as zlib's gunzip does; any
 * other byte after a member must start the next one, and nothing but zeros may follow padding. inMember tells the caller whether the stream
 * stopped inside a member: at the end of the input that means it is truncated.
 *
 * One call at a time per state: the caller awaits each. The state, input and output are
 * referenced for the duration of a call, so the collector cannot take them away from the
 * thread that is using them.
 */
#include <isa-l.h>
#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <node_api.h>
#include "napi_work.h"
#include "mapped_block.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
  struct inflate_state st;
  int in_member;
  /** Zero bytes followed the last member: the stream has ended, only more zeros may follow. */
  int padding;
  int busy;
} gunzip_state;

/** Not one of ISA-L's codes: a member (or garbage) after the zero padding that ends a stream. */
#define DATA_AFTER_PADDING -100

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref refs[3];
  gunzip_state *gz;
  uint8_t *in;
  size_t in_len, in_at;
  uint8_t *out;
  size_t out_len, out_at;
  int status;
} run_job;

static const char *message_for(int status) {
  switch (status) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER: return "incorrect gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported gzip compression method";
    case ISAL_INCORRECT_CHECKSUM: return "gzip trailer does not match the data (CRC32 or size)";
    case ISAL_NEED_DICT: return "deflate stream needs a preset dictionary";
    case DATA_AFTER_PADDING: return "data after the zero padding that ends the gzip stream";
    default: return "gzip stream could not be decompressed";
  }
}

static uint32_t clamp32(size_t n) { return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n; }

static void run_inflate(napi_env env, void *data) {
  (void)env;
  run_job *job = data;
  gunzip_state *gz = job->gz;
  for (;;) {
    if (!gz->in_member) {
      while (job->in_at < job->in_len && job->in[job->in_at] == 0) {
        job->in_at++;
        gz->padding = 1;
      }
      if (job->in_at == job->in_len) return;
      // zlib's gunzip stops reading at padding and Go's refuses it: neither would see what follows.
      if (gz->padding) {
        job->status = DATA_AFTER_PADDING;
        return;
      }
      isal_inflate_reset(&gz->st);
      gz->st.crc_flag = ISAL_GZIP;
      gz->in_member = 1;
    }
    size_t in_avail = job->in_len - job->in_at, out_avail = job->out_len - job->out_at;
    gz->st.next_in = job->in + job->in_at;
    gz->st.avail_in = clamp32(in_avail);
    gz->st.next_out = job->out + job->out_at;
    gz->st.avail_out = clamp32(out_avail);
    uint32_t given_in = gz->st.avail_in, given_out = gz->st.avail_out;
    int ret = isal_inflate(&gz->st);
    job->in_at += given_in - gz->st.avail_in;
    job->out_at += given_out - gz->st.avail_out;
    if (ret < 0) {
      job->status = ret;
      return;
    }
    if (gz->st.block_state == ISAL_BLOCK_FINISH) {
      gz->in_member = 0;
      continue;
    }
    // Out of input or out of room: the caller brings more of either.
    return;
  }
}

static void settle(napi_env env, run_job *job, napi_value value, int ok) {
  if (ok)
    napi_resolve_deferred(env, job->deferred, value);
  else
    napi_reject_deferred(env, job->deferred, value);
  for (int i = 0; i < 3; i++) napi_delete_reference(env, job->refs[i]);
  napi_delete_async_work(env, job->work);
  job->gz->busy = 0;
  free(job);
}

static void run_done(napi_env env, napi_status status, void *data) {
  run_job *job = data;
  napi_value result;
  if (status != napi_ok || job->status < 0) {
    const char *text = status != napi_ok ? "gunzip was cancelled" : message_for(job->status);
    settle(env, job, error_with(env, "ERR_GZIP_DATA", text), 0);
    return;
  }
  napi_value in_at, out_at, in_member;
  napi_create_array_with_length(env, 3, &result);
  napi_create_double(env, (double)job->in_at, &in_at);
  napi_create_double(env, (double)job->out_at, &out_at);
  napi_get_boolean(env, job->gz->in_member != 0, &in_member);
  napi_set_element(env, result, 0, in_at);
  napi_set_element(env, result, 1, out_at);
  napi_set_element(env, result, 2, in_member);
  settle(env, job, result, 1);
}

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value gunzip_create(napi_env env, napi_callback_info info) {
  (void)info;
  gunzip_state *gz = calloc(1, sizeof(*gz));
  if (!gz) {
    napi_throw_error(env, NULL, "out of memory for a gunzip state");
    return NULL;
  }
  isal_inflate_init(&gz->st);
  napi_value external;
  if (napi_create_external(env, gz, free_state, NULL, &external) != napi_ok) {
    free(gz);
    napi_throw_error(env, NULL, "could not create a gunzip state");
    return NULL;
  }
  return external;
}

static const char *USAGE = "gunzipRun(state, input: Buffer, inAt: number, output: Buffer, outAt: number)";

static bool buffer_arg(napi_env env, napi_value v, uint8_t **bytes, size_t *len) {
  bool is_buffer = false;
  return napi_is_buffer(env, v, &is_buffer) == napi_ok && is_buffer &&
         napi_get_buffer_info(env, v, (void **)bytes, len) == napi_ok;
}

static bool offset_arg(napi_env env, napi_value v, size_t limit, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > (double)limit || d != (double)(size_t)d)
    return false;
  *out = (size_t)d;
  return true;
}

static napi_value gunzip_run(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype type;
  gunzip_state *gz = NULL;
  uint8_t *in, *out;
  size_t in_len, out_len, in_at, out_at;
  if (argc < 5 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, argv[0], (void **)&gz) != napi_ok || !gz || !buffer_arg(env, argv[1], &in, &in_len) ||
      !buffer_arg(env, argv[3], &out, &out_len)) {
    napi_throw_type_error(env, NULL, USAGE);
    return NULL;
  }
  if (!offset_arg(env, argv[2], in_len, &in_at) || !offset_arg(env, argv[4], out_len, &out_at)) {
    napi_throw_range_error(env, NULL, "inAt and outAt must be whole numbers within their buffers");
    return NULL;
  }
  if (gz->busy) {
    napi_throw_error(env, NULL, "gunzipRun is already running on this state");
    return NULL;
  }
  run_job *job = calloc(1, sizeof(*job));
  if (!job) {
    napi_throw_error(env, NULL, "out of memory for a gunzip call");
    return NULL;
  }
  job->gz = gz;
  job->in = in;
  job->in_len = in_len;
  job->in_at = in_at;
  job->out = out;
  job->out_len = out_len;
  job->out_at = out_at;
  napi_create_reference(env, argv[0], 1, &job->refs[0]);
  napi_create_reference(env, argv[1], 1, &job->refs[1]);
  napi_create_reference(env, argv[3], 1, &job->refs[2]);
  gz->busy = 1;
  return queue_promised_work(env, "accel:gunzipRun", run_inflate, run_done, job, &job->work, &job->deferred);
}

static napi_value gunzip_output(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double d;
  if (argc < 1 || napi_get_value_double(env, argv[0], &d) != napi_ok || !(d >= 1) || d > (double)(1u << 30) ||
      d != (double)(size_t)d) {
    napi_throw_range_error(env, NULL, "gunzipOutput(size): size must be a whole number of bytes, 1 to 1 GiB");
    return NULL;
  }
  size_t size = (size_t)d;
  unsigned char *block = block_alloc(size);
  napi_value buf;
  if (!block || !block_to_buffer(env, block, size, size, &buf)) {
    block_free(block, size);
    napi_throw_error(env, NULL, "out of memory for a gunzip output");
    return NULL;
  }
  return buf;
}

static napi_value init(napi_env env, napi_value exports) {
  export_function(env, exports, "gunzipCreate", gunzip_create);
  export_function(env, exports, "gunzipOutput", gunzip_output);
  export_function(env, exports, "gunzipRun", gunzip_run);
  char version[32];
  snprintf(version, sizeof(version), "%d.%d.%d", ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
  export_string(env, exports, "isalVersion", version);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
