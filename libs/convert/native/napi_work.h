/*
 * What both addons do the same way: a promise settled by work on libuv's thread pool, a rejection
 * with a message (and a code), and the named exports.
 */
#ifndef ACCEL_NAPI_WORK_H
#define ACCEL_NAPI_WORK_H

#include <node_api.h>

/** Queues `execute` then `complete` on `data`; returns the promise `*deferred` settles. */
static napi_value queue_promised_work(napi_env env, const char *name, napi_async_execute_callback execute,
                                      napi_async_complete_callback complete, void *data, napi_async_work *work,
                                      napi_deferred *deferred) {
  napi_value promise, resource;
  napi_create_promise(env, deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
  napi_create_async_work(env, NULL, resource, execute, complete, data, work);
  napi_queue_async_work(env, *work);
  return promise;
}

/** An Error with `message` and, when given, `code`. */
static napi_value error_with(napi_env env, const char *code, const char *message) {
  napi_value msg, code_value = NULL, err;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  if (code) napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_error(env, code_value, msg, &err);
  return err;
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value value;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &value);
  napi_set_named_property(env, exports, name, value);
}

static void export_string(napi_env env, napi_value exports, const char *name, const char *text) {
  napi_value value;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, exports, name, value);
}

#endif
