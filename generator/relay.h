/*
 * The "generate" service: relays one request from the broker to Ollama and
 * Ollama's answer back, as the gateway expects it.
 *
 * Request header: {"method": "POST"|"GET"|"HEAD", "path": "/api/chat",
 * "stream": bool, "rid": "<id for logs>", "timeout_ms": n}; the payload is
 * the exact body for Ollama.
 *
 * With "stream": true every NDJSON line Ollama writes becomes one PARTIAL
 * (payload = the line without its newline) the moment the line is complete,
 * then FINAL {"status": 200} once a line said "done": true.  A line
 * {"error": "..."} ends the request with ERROR 500 and that message; the
 * stream ending before a "done" line with ERROR 502.  Without "stream" the
 * whole body comes in one FINAL {"status": s, "content_type": "..."}.
 * A non-2xx answer is an ERROR with Ollama's status and its error message;
 * an unreachable Ollama ERROR 502 with a hint; the deadline ERROR 504.
 * CANCEL closes the connection to Ollama at once, which stops generation.
 */
#ifndef LCA_GENERATOR_RELAY_H
#define LCA_GENERATOR_RELAY_H

#include "proto/ollama/client.h"
#include "proto/worker.h"

/* The default deadline of a request whose header names none. */
#define RELAY_DEFAULT_TIMEOUT_MS 300000

/* The worker handler: arg is the ollama_t to relay to (borrowed; it must
 * outlive the worker).  Always ends the job with FINAL or ERROR. */
void relay_handle_job(proto_job_t *job, void *arg);

/* Writes the message a user should see for Ollama's non-2xx answer body:
 * its "error" text (or "error.message", OpenAI style), else the body's first
 * line of text, else "Ollama answered HTTP <status>".  Always NUL-terminates. */
void relay_error_message(const char *body, size_t len, long status, char *out, size_t size);

#endif
