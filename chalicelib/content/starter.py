"""Starter courses: two small SCORM packages written for Onramp, and a deterministic packer for them.

The sources live in `content_bucket/courses/<slug>/` (one folder per course, `imsmanifest.xml` at its root).
`build(slug)` zips a folder the same way every time (sorted entries, fixed timestamps and modes, no directory
entries), so a rebuilt package has the same bytes, the same hash and the same ETag unless a file changed.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "imsmanifest.xml"
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
FILE_MODE = 0o100644  # a regular file, rw-r--r--
COMPRESS_LEVEL = 9


@dataclass(frozen=True)
class StarterCourse:
    slug: str
    title: str
    description: str
    format: str  # "scorm12" | "scorm2004"
    answers: dict[str, str] = field(hash=False)  # the correct option per quiz question, e.g. {"q1": "b"}
    # files every package carries a copy of (a package must be self-contained): path in the package ->
    # file in content_bucket/courses/_shared/
    shared: dict[str, str] = field(default_factory=dict, hash=False)


STARTER: dict[str, StarterCourse] = {
    course.slug: course
    for course in (
        StarterCourse(
            slug="prospecting-101",
            title="Prospecting 101",
            description=(
                "Find the accounts worth your time, reach them with a multi-channel cadence and open with lines "
                "that earn a reply. Three short lessons and a three-question quiz; pass mark 80%."
            ),
            format="scorm12",
            answers={"q1": "b", "q2": "d", "q3": "a"},
            shared={"course.css": "course.css"},
        ),
        StarterCourse(
            slug="closing-techniques",
            title="Closing Techniques",
            description=(
                "Summarise the value before you ask, use trial closes to check readiness and handle the last "
                "objection calmly. A three-page lesson and a three-question quiz; pass mark 80%."
            ),
            format="scorm2004",
            answers={"q1": "c", "q2": "b", "q3": "d"},
            shared={"shared/course.css": "course.css"},
        ),
    )
}


def courses_root() -> Path:
    """`content_bucket/courses/` in this checkout."""
    return Path(__file__).resolve().parents[2] / "content_bucket" / "courses"


def source_dir(slug: str) -> Path:
    """The folder a starter course is built from. Only the slugs in STARTER are accepted."""
    if slug not in STARTER:
        raise KeyError(f"unknown starter course: {slug!r}")
    return courses_root() / slug


def package_files(slug: str) -> list[str]:
    """The files a package holds: POSIX paths relative to the course folder (plus the shared files it
    carries), sorted. Hidden files are skipped."""
    root = source_dir(slug)
    if not (root / MANIFEST).is_file():
        raise FileNotFoundError(f"{root / MANIFEST} is missing")
    names = set(STARTER[slug].shared)
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            names.add(relative.as_posix())
    return sorted(names)


def source_of(slug: str, name: str) -> Path:
    """Where the package's file `name` comes from: the course folder, or content_bucket/courses/_shared/."""
    shared = STARTER[slug].shared.get(name)
    return courses_root() / "_shared" / shared if shared else source_dir(slug) / name


def build(slug: str) -> bytes:
    """The course as a zip: the same bytes for the same files, whenever and wherever it is built."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in package_files(slug):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so external_attr carries the mode
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, source_of(slug, name).read_bytes(), compresslevel=COMPRESS_LEVEL)
    return buffer.getvalue()


def build_all(out_dir: Path) -> dict[str, Path]:
    """Writes `<slug>.zip` for every starter course into out_dir (created if need be); returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for slug in sorted(STARTER):
        target = out_dir / f"{slug}.zip"
        target.write_bytes(build(slug))
        written[slug] = target
    return written
