"""Public assets (player, default branding) from `content_bucket/` to the bucket's `content/` prefix.

Locally `onramp dev` and the tests sync them into the emulator; deployed, `docs/deploy.md` syncs the
same folders. The player's scorm-again bundles are built into `content_bucket/player/vendor/` by the
install step (`content_bucket/player/build.sh`), never committed.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "content_bucket"
PUBLIC = ("branding", "player")
SKIP_PARTS = {"node_modules", ".gitignore", "package.json", "package-lock.json", "build.sh"}


def public_files(root: Path = ROOT) -> list[tuple[str, Path]]:
    """(key under content/, file) for every public asset."""
    found = []
    for folder in PUBLIC:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not SKIP_PARTS & set(rel.parts):
                found.append((rel.as_posix(), path))
    return found


def sync(root: Path = ROOT) -> int:
    """Upload the public assets (unchanged ones too: they are small); returns how many."""
    from chalicelib import aws
    from chalicelib.config import settings
    from chalicelib.content.packages import content_type
    from chalicelib.content.serve import ASSETS_PREFIX

    s3, bucket = aws.s3(), settings().bucket_name
    files = public_files(root)
    for key, path in files:
        s3.put_object(Bucket=bucket, Key=ASSETS_PREFIX + key, Body=path.read_bytes(), ContentType=content_type(key))
    return len(files)
