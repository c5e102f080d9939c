#!/bin/sh
# configurable-http-proxy for the course's hub, run apart from the hub (which is told not
# to start one): restarting the hub then leaves the proxy's routes, and so every open
# notebook, in place. Start it before the hub, as root, with the hub's environment:
#   DFNN_HUB_STATE      the hub's folder; the proxy's token is kept there (/srv/jupyterhub)
#   DFNN_HUB_URL        where users connect                 (http://127.0.0.1:8000)
#   DFNN_HUB_API_URL    the hub itself, behind the proxy    (http://127.0.0.1:8081)
#   DFNN_PROXY_API_URL  the proxy's routing API, for the hub (http://127.0.0.1:8001)
set -eu
state=${DFNN_HUB_STATE:-/srv/jupyterhub}
public=${DFNN_HUB_URL:-http://127.0.0.1:8000}
hub=${DFNN_HUB_API_URL:-http://127.0.0.1:8081}
api=${DFNN_PROXY_API_URL:-http://127.0.0.1:8001}

token="$state/proxy_auth_token"
if [ ! -s "$token" ]; then
    (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$token")
fi
CONFIGPROXY_AUTH_TOKEN=$(cat "$token")
export CONFIGPROXY_AUTH_TOKEN

hostport=${public#*://}
apihostport=${api#*://}
exec configurable-http-proxy --ip "${hostport%:*}" --port "${hostport##*:}" \
    --api-ip "${apihostport%:*}" --api-port "${apihostport##*:}" \
    --default-target "$hub" --error-target "$hub/hub/error"
