# Sourced by scripts/bench.sh: the size of each image as the container engine
# stores it (`image inspect`: the uncompressed layer, tar headers included)
# next to the total of the root's files (`du -sb` of what rootfs.sh
# assembles), for the base image, an HTTPS provider (JFrog) and the
# PostgreSQL provider (--with psql), each built by scripts/image.sh.
# Needs $work and ratio(); sets image_rows (rows of the results table).
image_rows=""
image_engine=""
for e in podman docker; do
    if "$e" info >/dev/null 2>&1; then image_engine=$e; break; fi
done
if [ -n "$image_engine" ]; then
    echo "==> image sizes: $image_engine's image against the root's files"
    for spec in "base (HOOK=none)|none" "JFrog provider (HTTPS)|examples/jfrog/hook.sh" \
        "PostgreSQL provider|--with psql examples/postgres/hook.sh"; do
        label=${spec%%|*}
        read -r -a build_args <<<"${spec#*|}"
        hook=${build_args[${#build_args[@]} - 1]}
        scripts/rootfs.sh "${build_args[@]:0:${#build_args[@]}-1}" "$work/size-root" "$hook" > /dev/null
        files=$(du -sb "$work/size-root" | cut -f1)
        id=$(scripts/image.sh build "${build_args[@]}" 2> /dev/null | tail -n 1)
        size=$("$image_engine" image inspect --format '{{.Size}}' "$id")
        image_rows+="| image: $label, as $image_engine stores it | $size bytes | root's files: $files bytes | $(ratio "$size" "$files") | |"$'\n'
    done
else
    echo "==> image sizes: no container engine here (scripts/image.sh setup installs podman); skipped"
    image_rows="| images as an engine stores them | no engine (scripts/image.sh setup) | | | |"$'\n'
fi
