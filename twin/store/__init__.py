"""On-disk twin and run store: open formats, JSON manifests, atomic writes."""

from twin.store.atomic import atomic_directory, atomic_write, atomic_write_bytes, sha256_file
from twin.store.twinstore import open_twin, read_manifest, save_twin

__all__ = [
    "atomic_directory",
    "atomic_write",
    "atomic_write_bytes",
    "open_twin",
    "read_manifest",
    "save_twin",
    "sha256_file",
]
