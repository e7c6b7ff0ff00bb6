#!/bin/sh
# Container entrypoint.
#   migrate          upgrade the schema to head, then load the bundled dataset if the
#                    database is empty (the one-shot step docker-compose runs before the API)
#   juriscope ...    the command as typed (`docker compose run --rm api juriscope keys ...`)
#   anything else    passed to `juriscope` (default: serve)
set -eu

if [ -z "${DATABASE_URL:-}" ]; then
    echo "juriscope: error: DATABASE_URL is not set (the container has no embedded database)" >&2
    exit 2
fi

case "${1:-serve}" in
    migrate)
        juriscope db upgrade
        exec juriscope seed --if-empty
        ;;
    juriscope)
        shift
        exec juriscope "$@"
        ;;
    *)
        exec juriscope "$@"
        ;;
esac
