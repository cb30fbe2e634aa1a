#!/usr/bin/env python3
"""Writes a CycloneDX 1.5 SBOM (JSON) of a static binary's crates to stdout.

    scripts/sbom.py BINARY [Cargo.toml]

The crates are read from the binary itself: the `.dep-v0` section that
`cargo auditable` embeds (zlib-compressed JSON: every package the binary was
built from, with its version, source, kind and dependencies), so the SBOM
lists exactly what is inside. Licenses come from `cargo metadata` and the
crates' SHA-256 from Cargo.lock. The output is reproducible: the timestamp is
SOURCE_DATE_EPOCH (else the commit time of HEAD), the serial number is
derived from the binary's SHA-256, and SBOM_RUSTC names the compiler.
Build dependencies (build scripts' crates) are listed with scope "excluded":
they ran at build time and are not in the binary.
"""

import hashlib
import json
import os
import struct
import subprocess
import sys
import tomllib
import uuid
import zlib
from datetime import datetime, timezone


def fail(msg):
    sys.stderr.write(f"sbom.py: {msg}\n")
    sys.exit(1)


def section(path, wanted):
    """The bytes of ELF64 section `wanted` of the file at `path`."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        fail(f"{path} is not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i):
        # name, type, flags, addr, offset, size
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)

    names_off = header(shstrndx)[4]
    for i in range(shnum):
        name_off, _, _, _, off, size = header(i)
        end = data.index(b"\0", names_off + name_off)
        if data[names_off + name_off:end].decode() == wanted:
            return data[off:off + size]
    fail(f"{path} has no {wanted} section: build it with `cargo auditable build` (scripts/build-static.sh does)")


def licenses_and_checksums(manifest):
    """(name, version) -> license expression, and -> SHA-256 of the .crate."""
    lic = {}
    try:
        out = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform",
             os.environ.get("SBOM_TARGET", "x86_64-unknown-linux-musl"), "--manifest-path", manifest],
            capture_output=True, check=True, text=True).stdout
        for p in json.loads(out)["packages"]:
            if p.get("license"):
                # Old-style "MIT/Apache-2.0" is "MIT OR Apache-2.0".
                lic[(p["name"], p["version"])] = p["license"].replace("/", " OR ")
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
        sys.stderr.write(f"sbom.py: warning: no licenses (cargo metadata: {e})\n")
    sums = {}
    lock = os.path.join(os.path.dirname(os.path.abspath(manifest)), "Cargo.lock")
    try:
        with open(lock, "rb") as f:
            for p in tomllib.load(f).get("package", []):
                if "checksum" in p:
                    sums[(p["name"], p["version"])] = p["checksum"]
    except (OSError, tomllib.TOMLDecodeError) as e:
        sys.stderr.write(f"sbom.py: warning: no crate checksums ({lock}: {e})\n")
    return lic, sums


def timestamp(repo):
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        try:
            epoch = subprocess.run(["git", "-C", repo, "log", "-1", "--format=%ct"],
                                   capture_output=True, check=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: scripts/sbom.py BINARY [Cargo.toml]")
    binary = sys.argv[1]
    manifest = sys.argv[2] if len(sys.argv) == 3 else "Cargo.toml"
    try:
        deps = json.loads(zlib.decompress(section(binary, ".dep-v0")))
    except (zlib.error, ValueError) as e:
        fail(f"the .dep-v0 section of {binary} is not zlib-compressed JSON: {e}")
    with open(binary, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    lic, sums = licenses_and_checksums(manifest)
    packages = deps["packages"]

    def ref(p):
        return f"pkg:cargo/{p['name']}@{p['version']}"

    def component(p, kind):
        c = {"type": kind, "bom-ref": ref(p), "name": p["name"], "version": p["version"]}
        if p.get("source") == "crates.io":
            c["purl"] = ref(p)
        if (p["name"], p["version"]) in lic:
            c["licenses"] = [{"expression": lic[(p["name"], p["version"])]}]
        if (p["name"], p["version"]) in sums:
            c["hashes"] = [{"alg": "SHA-256", "content": sums[(p["name"], p["version"])]}]
        if p.get("kind") == "build":
            c["scope"] = "excluded"
            c["properties"] = [{"name": "cargo:dependency_kind", "value": "build"}]
        return c

    roots = [p for p in packages if p.get("root")]
    if len(roots) != 1:
        fail(f"{binary}: expected one root package in .dep-v0, found {len(roots)}")
    root = component(roots[0], "application")
    root["hashes"] = [{"alg": "SHA-256", "content": digest}]
    tools = [{"type": "application", "name": "cargo-auditable",
              "description": "the .dep-v0 section this SBOM is read from"}]
    if os.environ.get("SBOM_RUSTC"):
        tools.append({"type": "application", "name": "rustc", "version": os.environ["SBOM_RUSTC"]})
    metadata = {"tools": {"components": tools}, "component": root}
    ts = timestamp(os.path.dirname(os.path.abspath(manifest)))
    if ts:
        metadata = {"timestamp": ts, **metadata}
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'credhook-sbom:sha256:' + digest)}",
        "version": 1,
        "metadata": metadata,
        "components": [component(p, "library") for p in packages if not p.get("root")],
        "dependencies": [
            {"ref": ref(p), "dependsOn": [ref(packages[i]) for i in p.get("dependencies", [])]}
            for p in packages
        ],
    }
    json.dump(bom, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
