#!/bin/sh
# CPU cost of the software transcode on ONE core: `lounge-streamer transcode` (the real pipeline,
# unpaced, libx264 forced so no hardware probing) pinned with `taskset -c 0`, for a 10 s
# 1080p30 H.264 + AAC source to 720p30 and 1080p30. Prints wall time, CPU time and the
# realtime factor (media seconds per wall second, and per CPU second). Best of three runs.
#
# Run from the workspace root after `cargo build --release -p lounge-streamer`:
#   sh streamer/benches/one-core.sh
# Needs the ffmpeg CLI, taskset (util-linux) and GNU time (/usr/bin/time).
set -eu
bin="${CARGO_TARGET_DIR:-target}/release/lounge-streamer"
seconds=10
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -t "$seconds" \
    -c:v libx264 -preset veryfast -c:a aac "$dir/source.mp4"
printf '%-8s %8s %8s %6s %10s %10s\n' target wall_s cpu_s cpu% rt_wall rt_cpu
for target in 1280x720 1920x1080; do
    w=${target%x*}
    h=${target#*x}
    best=""
    for _ in 1 2 3; do
        LOUNGE_STREAMER_ENCODER=x264 LOUNGE_STREAMER_LOG_LEVEL=warn \
            /usr/bin/time -f '%e %U %S' -o "$dir/time" \
            taskset -c 0 "$bin" transcode "$dir/source.mp4" "$dir/out.mp4" \
            --width "$w" --height "$h" --fps 30 >/dev/null
        line=$(cat "$dir/time")
        wall=${line%% *}
        if [ -z "$best" ] || [ "$(echo "$wall < ${best%% *}" | bc)" = 1 ]; then
            best=$line
        fi
    done
    set -- $best
    cpu=$(echo "$2 + $3" | bc)
    printf '%-8s %8s %8s %6s %10s %10s\n' "${h}p30" "$1" "$cpu" \
        "$(echo "scale=0; 100 * $cpu / $1" | bc)" \
        "$(echo "scale=2; $seconds / $1" | bc)" \
        "$(echo "scale=2; $seconds / $cpu" | bc)"
done
