/*
 * The gateway's route table: every endpoint, its method and its handler.
 * GET routes answer HEAD too.  The same table serves /c/<collection>/...
 */
#include "gateway/health.h"
#include "gateway/http.h"

const http_route_t http_routes[] = {
    {"GET", "/healthz", health_handle},
    {NULL, NULL, NULL},
};
