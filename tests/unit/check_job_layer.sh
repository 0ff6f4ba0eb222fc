#!/bin/sh
# The job layer (daemon/job*.c, job*.h) is apart from the wire: it emits
# events (daemon/job_events.h) and daemon/rpc_jobs.c packs them. This fails
# when a job file packs or sends a wire message itself again: msgpack,
# conn.c's sending API or a protocol packer. Usage: check_job_layer.sh SRCROOT
set -u
root=${1:?usage: check_job_layer.sh SOURCE_ROOT}
cd "$root/daemon" || exit 2
files=$(ls job*.c job*.h) || exit 2
pattern='msgpack|sbd_out\b|sbd_out_new|sbd_conn_send|sbd_conn_reply_|sbp_[a-z_]*pack[a-z_]*[[:space:]]*\('
# Comments may name what the layer does not do; code may not.
hits=$(for f in $files; do
        sed -e 's://.*$::' "$f" |
        awk -v f="$f" '
                { line = $0; out = "" }
                incomment { if ((i = index(line, "*/")) == 0) next; line = substr(line, i + 2); incomment = 0 }
                {
                        while ((i = index(line, "/*")) > 0) {
                                out = out substr(line, 1, i - 1)
                                rest = substr(line, i + 2)
                                if ((k = index(rest, "*/")) == 0) { incomment = 1; line = ""; break }
                                line = substr(rest, k + 2)
                        }
                        print f ":" NR ": " out line
                }'
done | grep -E "$pattern")
if [ -n "$hits" ]; then
        echo "job files pack or send wire messages (use an event, job_events.h):" >&2
        echo "$hits" >&2
        exit 1
fi
echo "ok: no wire packing in $(echo $files | wc -w) job files"
