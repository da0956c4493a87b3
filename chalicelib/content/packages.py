"""Safe inspection of uploaded e-learning packages: SCORM 1.2, SCORM 2004 (2nd, 3rd, 4th edition), cmi5, xAPI.

A package is a zip. `inspect` trusts nothing in it: it reads the central directory, rejects path tricks
(`..`, absolute paths, drive letters, control characters; backslashes count as separators), symlinks,
encryption, duplicates, overlapping entries and archives whose declared sizes exceed `Limits`, then reads only
the manifest (at most `Limits.max_manifest_bytes`) and parses it with defusedxml (no entity declarations, no
external references). `iter_files` re-checks the archive and inflates every entry itself, counting the bytes
that actually come out (declared sizes can lie): it decompresses everything once to verify sizes and CRC-32
before it yields the first file, so a rejected package yields nothing.

The manifest is looked for at the root in this order: `cmi5.xml`, `imsmanifest.xml`, `tincan.xml`. A zip whose
only top-level entry is one folder holding the manifest (someone zipped the folder instead of its contents) is
accepted with that folder as the package root; `__MACOSX/` entries are ignored for that rule and dropped.
Paths in `PackageInfo.files` and `Sco.launch` are relative to the package root.

Everything here is pure Python and touches no AWS service.
"""

from __future__ import annotations

import dataclasses
import io
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import BinaryIO
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_xml

from chalicelib.errors import ValidationFailed, field_error


@dataclass(frozen=True)
class Limits:
    max_files: int = 2000
    max_total_bytes: int = 200 * 1024 * 1024  # uncompressed total
    max_file_bytes: int = 100 * 1024 * 1024
    max_ratio: float = 100.0  # per entry and overall, uncompressed/compressed
    max_manifest_bytes: int = 2 * 1024 * 1024
    ratio_floor_bytes: int = 1024 * 1024  # entries (and packages) inflating to less than this skip the ratio check


@dataclass(frozen=True)
class Sco:
    """A launchable unit: a SCORM SCO or asset item, a cmi5 AU, a TinCan activity with a launch."""

    id: str
    title: str
    launch: str  # package path (its query and fragment kept as written) or, for cmi5 only, an absolute http(s) URL
    scorm_type: str  # "sco" | "asset" | "au" | "activity"
    mastery_score: float | None = None  # SCORM 1.2: 0..100; SCORM 2004 and cmi5: 0..1
    completion_threshold: float | None = None
    prerequisites: str | None = None
    launch_data: str | None = None
    max_time_allowed: str | None = None
    time_limit_action: str | None = None
    move_on: str | None = None
    launch_method: str | None = None
    activity_id: str | None = None
    visible: bool = True  # SCORM item@isvisible


@dataclass(frozen=True)
class PackageInfo:
    format: str  # "scorm12" | "scorm2004" | "cmi5" | "xapi"
    edition: str | None  # scorm2004: "2nd" | "3rd" | "4th"
    identifier: str
    title: str
    description: str | None
    scos: tuple[Sco, ...]
    choice: bool
    flow: bool
    files: tuple[str, ...]
    total_bytes: int


_DETAIL_LENGTH = 300


class PackageRejected(ValidationFailed):
    code = "package-rejected"
    title = "Package rejected"

    def __init__(self, reason: str, detail: str) -> None:
        if len(detail) > _DETAIL_LENGTH:  # names and values from the package can be long
            detail = detail[:_DETAIL_LENGTH - 1] + "…"
        message = f"{reason}: {detail}"
        super().__init__(message, errors=[field_error("package", message)])
        self.reason = reason


# --------------------------------------------------------------------------------------------------- public API


def inspect(source: bytes | BinaryIO, limits: Limits = Limits()) -> PackageInfo:
    """Check the archive and parse its manifest; PackageRejected (with a reason code) when it is unsafe or invalid."""
    archive = _open(source, limits)
    name = next(manifest for manifest in _MANIFESTS if manifest in archive.members)
    entry = archive.members[name]
    if entry.file_size > limits.max_manifest_bytes:
        raise PackageRejected("manifest-too-large", f"{name} is {entry.file_size} bytes, over "
                                                    f"{limits.max_manifest_bytes}")
    root = _parse_xml(b"".join(_member_chunks(archive.fp, name, entry, limits.max_manifest_bytes)), name)
    info = _PARSERS[name](root, frozenset(archive.members))
    return dataclasses.replace(info, files=tuple(archive.members),
                               total_bytes=sum(entry.file_size for entry in archive.members.values()))


def iter_files(source: bytes | BinaryIO, info: PackageInfo, limits: Limits = Limits()) -> Iterator[tuple[str, bytes]]:
    """(package path, content) of every file of an inspected package, in archive order.

    Every entry is inflated and checked (actual size against its declared size and the limits, CRC-32) before the
    first file is yielded, so a rejected package yields nothing; the files are then inflated a second time.
    """
    archive = _open(source, limits)
    if tuple(archive.members) != info.files:
        raise PackageRejected("not-a-zip", "the archive is not the one that was inspected")
    for _ in _contents(archive, limits, keep=False):
        pass
    yield from _contents(archive, limits, keep=True)


_CONTENT_TYPES = {
    "html": "text/html", "htm": "text/html", "xhtml": "application/xhtml+xml",
    "js": "text/javascript", "mjs": "text/javascript", "css": "text/css",
    "json": "application/json", "map": "application/json", "xml": "application/xml", "xsd": "application/xml",
    "txt": "text/plain", "csv": "text/csv", "md": "text/markdown", "vtt": "text/vtt",
    "svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "webp": "image/webp", "avif": "image/avif", "bmp": "image/bmp", "ico": "image/x-icon",
    "mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm", "ogv": "video/ogg", "mov": "video/quicktime",
    "mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "ogg": "audio/ogg", "oga": "audio/ogg",
    "aac": "audio/aac", "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject", "pdf": "application/pdf", "wasm": "application/wasm",
    "swf": "application/x-shockwave-flash", "zip": "application/zip",
    "m3u8": "application/vnd.apple.mpegurl", "srt": "application/x-subrip",
}


def content_type(path: str) -> str:
    """The media type served for a package file, by extension; application/octet-stream when unknown."""
    extension = posixpath.splitext(path.rsplit("/", 1)[-1])[1].lstrip(".").lower()
    return _CONTENT_TYPES.get(extension, "application/octet-stream")


# ------------------------------------------------------------------------------------------------- the archive

_MANIFESTS = ("cmi5.xml", "imsmanifest.xml", "tincan.xml")  # in order of preference
_MACOSX = "__MACOSX/"
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_SIZE = 30
_DIRECTORY_BYTES_PER_ENTRY = 1024  # allowance per declared entry: 46 fixed bytes + name, extra field, comment
_ENCRYPTED = 0x01 | 0x40  # traditional PKWARE / strong encryption
_PATCHED = 0x20
_UTF8_NAME = 0x800
_AES = 99
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class _Archive:
    fp: BinaryIO
    members: dict[str, zipfile.ZipInfo]  # package path -> entry, files only, in archive order


def _open(source: bytes | BinaryIO, limits: Limits) -> _Archive:
    fp: BinaryIO = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
    try:
        _check_declared_count(fp, limits)
        with zipfile.ZipFile(fp) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error) as exc:
        raise PackageRejected("not-a-zip", f"not a readable zip archive ({exc})") from exc
    files = _checked_files(entries, limits)
    root = _package_root(files)
    return _Archive(fp, {path[len(root):]: entry for path, entry in files.items() if path.startswith(root)})


def _end_record(fp: BinaryIO) -> tuple[int, int] | None:
    """(entries, central directory bytes) the end-of-central-directory record(s) declare; None if there is none."""
    size = fp.seek(0, io.SEEK_END)
    fp.seek(max(0, size - (22 + 0xFFFF)))
    tail = fp.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    entries, directory = struct.unpack("<HI", tail[at + 10:at + 16])
    if entries != 0xFFFF and directory != 0xFFFFFFFF:
        return int(entries), int(directory)
    return _end_record64(fp, tail[:at], size)


def _end_record64(fp: BinaryIO, before: bytes, size: int) -> tuple[int, int] | None:
    """The ZIP64 end record the locator just before the classic one points at; None if it cannot be found."""
    if len(before) < 20 or before[-20:-16] != _EOCD64_LOCATOR:
        return None
    (offset,) = struct.unpack("<Q", before[-12:-4])
    if offset >= size:
        return None
    fp.seek(offset)
    record = fp.read(56)
    if len(record) < 56 or record[:4] != _EOCD64:
        return None
    entries, directory = struct.unpack("<QQ", record[32:48])
    return int(entries), int(directory)


def _check_declared_count(fp: BinaryIO, limits: Limits) -> None:
    """Refuse a huge central directory before zipfile loads it into memory (directories may double the count)."""
    declared = _end_record(fp)
    if declared is None:
        return  # zipfile says why
    entries, directory = declared
    if entries > 2 * limits.max_files or directory > 2 * limits.max_files * _DIRECTORY_BYTES_PER_ENTRY:
        raise PackageRejected("too-many-files", f"the archive declares {entries} entries in {directory} bytes "
                                                f"of central directory (at most {limits.max_files} files)")


def _checked_files(entries: list[zipfile.ZipInfo], limits: Limits) -> dict[str, zipfile.ZipInfo]:
    files: dict[str, zipfile.ZipInfo] = {}
    for entry in entries:
        _check_kind(entry)
        path = _member_path(entry.orig_filename)
        if _is_directory(entry):
            continue
        if not path:
            raise PackageRejected("zip-slip", f"{entry.orig_filename!r} names no file")
        if path in files:
            raise PackageRejected("duplicate-path", f"{path!r} occurs more than once")
        if len(files) >= limits.max_files:
            raise PackageRejected("too-many-files", f"more than {limits.max_files} files")
        _check_entry_size(path, entry, limits)
        files[path] = entry
    _check_totals(list(files.values()), limits)
    _check_overlap(entries)
    return files


def _is_directory(entry: zipfile.ZipInfo) -> bool:
    return entry.orig_filename.endswith(("/", "\\"))


def _check_kind(entry: zipfile.ZipInfo) -> None:
    name = entry.orig_filename
    if entry.flag_bits & _ENCRYPTED or entry.compress_type == _AES:
        raise PackageRejected("encrypted", f"{name!r} is encrypted")
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise PackageRejected("symlink", f"{name!r} is a symbolic link")
    if _is_directory(entry):
        return
    if entry.flag_bits & _PATCHED or entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise PackageRejected("not-a-zip", f"{name!r} uses an unsupported compression method "
                                           f"({entry.compress_type}); store or deflate it")


def _member_path(raw: str) -> str:
    """The normalised package path of an entry name ('' for the root itself); rejects path tricks."""
    if _CONTROL.search(raw):
        raise PackageRejected("zip-slip", f"{raw!r} contains control characters")
    name = raw.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise PackageRejected("absolute-path", f"{raw!r} is an absolute path")
    segments = name.split("/")
    if ".." in segments:
        raise PackageRejected("zip-slip", f"{raw!r} climbs out of the package")
    return "/".join(segment for segment in segments if segment not in ("", "."))


def _too_compressed(size: int, packed: int, limits: Limits) -> bool:
    return size >= limits.ratio_floor_bytes and size > limits.max_ratio * max(packed, 1)


def _check_entry_size(path: str, entry: zipfile.ZipInfo, limits: Limits) -> None:
    if entry.file_size > limits.max_file_bytes:
        raise PackageRejected("zip-bomb", f"{path} declares {entry.file_size} bytes, over {limits.max_file_bytes}")
    if _too_compressed(entry.file_size, entry.compress_size, limits):
        raise PackageRejected("zip-bomb", f"{path} inflates {entry.file_size} bytes from {entry.compress_size}, "
                                          f"a ratio over {limits.max_ratio:g}")


def _check_totals(files: list[zipfile.ZipInfo], limits: Limits) -> None:
    size = sum(entry.file_size for entry in files)
    packed = sum(entry.compress_size for entry in files)
    if size > limits.max_total_bytes:
        raise PackageRejected("zip-bomb", f"the files declare {size} bytes in all, over {limits.max_total_bytes}")
    if _too_compressed(size, packed, limits):
        raise PackageRejected("zip-bomb", f"the files inflate {size} bytes from {packed}, a ratio over "
                                          f"{limits.max_ratio:g}")


def _check_overlap(entries: list[zipfile.ZipInfo]) -> None:
    """Entries sharing compressed data (the overlapping-file zip bomb): each must end before the next begins."""
    spans = sorted((entry.header_offset, entry.header_offset + _LOCAL_HEADER_SIZE + entry.compress_size)
                   for entry in entries)
    for (_, end), (start, _) in pairwise(spans):
        if end > start:
            raise PackageRejected("zip-bomb", "entries overlap in the archive")


def _package_root(files: Iterable[str]) -> str:
    """'' when a manifest is at the root; 'folder/' when everything sits in one folder holding a manifest."""
    paths = set(files)
    if any(manifest in paths for manifest in _MANIFESTS):
        return ""
    tops = {path.split("/", 1)[0] for path in paths if not path.startswith(_MACOSX)}
    if len(tops) == 1:
        root = f"{tops.pop()}/"
        if any(root + manifest in paths for manifest in _MANIFESTS):
            return root
    raise PackageRejected("manifest-missing", "no imsmanifest.xml, cmi5.xml or tincan.xml at the package root")


def _contents(archive: _Archive, limits: Limits, *, keep: bool) -> Iterator[tuple[str, bytes]]:
    total = 0
    for path, entry in archive.members.items():
        cap = min(limits.max_file_bytes, limits.max_total_bytes - total)
        chunks: list[bytes] = []
        for chunk in _member_chunks(archive.fp, path, entry, cap):
            total += len(chunk)
            if keep:
                chunks.append(chunk)
        yield path, b"".join(chunks)


def _member_chunks(fp: BinaryIO, path: str, entry: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """The inflated content of an entry; zip-bomb past its declared size or `cap`, not-a-zip when corrupt."""
    size = crc = 0
    try:
        for chunk in _inflate(fp, path, entry):
            size += len(chunk)
            if size > entry.file_size:
                raise PackageRejected("zip-bomb", f"{path} inflates beyond its declared {entry.file_size} bytes")
            if size > cap:
                raise PackageRejected("zip-bomb", f"{path} inflates beyond the {cap} bytes left within the limits")
            crc = zlib.crc32(chunk, crc)
            yield chunk
    except (zlib.error, OSError, ValueError, struct.error) as exc:  # UnicodeDecodeError of a local header name
        raise PackageRejected("not-a-zip", f"{path} is corrupt ({exc})") from exc
    if size != entry.file_size or crc != entry.CRC:
        raise PackageRejected("not-a-zip", f"{path} does not match its declared size or CRC-32")


def _inflate(fp: BinaryIO, path: str, entry: zipfile.ZipInfo) -> Iterator[bytes]:
    raw = _raw_chunks(fp, path, entry)
    if entry.compress_type == zipfile.ZIP_STORED:
        yield from raw
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for data in raw:
        while True:  # output at most _CHUNK bytes a call, whatever the input expands to
            out = inflater.decompress(data, _CHUNK)
            data = inflater.unconsumed_tail
            if out:
                yield out
            if inflater.eof or (not data and len(out) < _CHUNK):
                break
        if inflater.eof:
            return
    raise PackageRejected("not-a-zip", f"{path}: the compressed data ends early")


def _raw_chunks(fp: BinaryIO, path: str, entry: zipfile.ZipInfo) -> Iterator[bytes]:
    position = _data_offset(fp, path, entry)
    left = entry.compress_size
    while left > 0:
        fp.seek(position)
        chunk = fp.read(min(_CHUNK, left))
        if not chunk:
            raise PackageRejected("not-a-zip", f"{path}: the archive ends inside its data")
        position += len(chunk)
        left -= len(chunk)
        yield chunk


def _data_offset(fp: BinaryIO, path: str, entry: zipfile.ZipInfo) -> int:
    """Where the entry's data starts, after a local header that must agree with the central directory's name."""
    fp.seek(entry.header_offset)
    header = fp.read(_LOCAL_HEADER_SIZE)
    if len(header) < _LOCAL_HEADER_SIZE or header[:4] != _LOCAL_HEADER:
        raise PackageRejected("not-a-zip", f"{path}: no local file header where the directory says")
    (flags,) = struct.unpack("<H", header[6:8])
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    name = fp.read(name_length).decode("utf-8" if flags & _UTF8_NAME else "cp437")
    if name != entry.orig_filename:
        raise PackageRejected("not-a-zip", f"{path}: the local header names {name!r}")
    return int(entry.header_offset + _LOCAL_HEADER_SIZE + name_length + extra_length)


# ------------------------------------------------------------------------------------------------------ XML


def _parse_xml(data: bytes, name: str) -> Element:
    try:
        root: Element = safe_xml.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:  # entity declarations, external references
        raise PackageRejected("xml-forbidden", f"{name}: {type(exc).__name__} ({exc})") from exc
    except (ParseError, ValueError, LookupError) as exc:
        raise PackageRejected("manifest-invalid", f"{name} is not well-formed XML ({exc})") from exc
    return root


def _invalid(detail: str) -> PackageRejected:
    return PackageRejected("manifest-invalid", detail)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(parent: Element, name: str) -> list[Element]:
    return [child for child in parent if _local(child.tag) == name]


def _child(parent: Element | None, name: str) -> Element | None:
    if parent is None:
        return None
    return next((child for child in parent if _local(child.tag) == name), None)


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _child_text(parent: Element, name: str) -> str | None:
    """Text of the first child with this local name, compared case-insensitively (adlcp spellings vary)."""
    wanted = name.lower()
    return next((_text(child) or None for child in parent if _local(child.tag).lower() == wanted), None)


def _attr(element: Element, name: str) -> str | None:
    """An attribute by local name whatever its namespace or case (adlcp:scormtype vs adlcp:scormType)."""
    wanted = name.lower()
    return next((value.strip() for key, value in element.attrib.items() if _local(key).lower() == wanted), None)


def _expect_root(root: Element, name: str, manifest: str) -> None:
    if _local(root.tag) != name:
        raise _invalid(f"{manifest}: the root element is <{_local(root.tag)}>, not <{name}>")


def _bool(value: str | None, default: bool, what: str) -> bool:
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word not in ("true", "false", "1", "0"):
        raise _invalid(f"{what} is not a boolean: {value!r}")
    return word in ("true", "1")


def _number(value: str | None, what: str, low: float, high: float) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise _invalid(f"{what} is not a number: {value!r}") from None
    if not low <= number <= high:  # NaN fails too
        raise _invalid(f"{what} {value!r} is outside {low:g}..{high:g}")
    return number


def _one_of(value: str | None, allowed: tuple[str, ...], default: str, what: str) -> str:
    if value is None or not value.strip():
        return default
    if value.strip() not in allowed:
        raise _invalid(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return value.strip()


def _check_scos(scos: tuple[Sco, ...], manifest: str) -> None:
    if not scos:
        raise _invalid(f"{manifest} has no launchable item")
    seen: set[str] = set()
    for sco in scos:
        if sco.id in seen:
            raise _invalid(f"{manifest}: the identifier {sco.id!r} is used twice")
        seen.add(sco.id)


# ------------------------------------------------------------------------------------------------ launch paths


def _join(base: str, reference: str) -> str:
    """`reference` resolved against an xml:base, which is taken as a folder even without its trailing slash."""
    if not base or urlsplit(reference).scheme or reference.startswith("/"):
        return reference
    return base if not reference else f"{base.rstrip('/')}/{reference}"


def _with_parameters(href: str, parameters: str | None) -> str:
    """SCORM CAM item parameters: leading '?'/'&' dropped; a '#fragment' only when href has neither '?' nor '#';
    otherwise joined to the query with '?' or '&' (before any fragment of href)."""
    params = (parameters or "").strip().lstrip("?&")
    if not params:
        return href
    if params.startswith("#"):
        return href if "?" in href or "#" in href else href + params
    base, hash_mark, fragment = href.partition("#")
    return f"{base}{'&' if '?' in base else '?'}{params}{hash_mark}{fragment}"


def _resolve(path: str) -> str:
    """The package path a relative URL path names; '' when it climbs out of the package."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if not segments:
                return ""
            segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    return "/".join(segments)


def _package_launch(href: str, files: frozenset[str], owner: str) -> str:
    """The file an href names (query and fragment ignored for the check, kept in the result); launch-missing."""
    parts = urlsplit(href.replace("\\", "/"))
    path = parts.path
    found = None
    if not (parts.scheme or parts.netloc or path.startswith("/")):
        found = next((c for c in (_resolve(path), _resolve(unquote(path))) if c and c in files), None)
    if found is None:
        raise PackageRejected("launch-missing", f"{owner}: {href!r} is not a file in the package")
    return found + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


# ----------------------------------------------------------------------------------------------------- SCORM

_VERSIONS = {
    "1.2": ("scorm12", None), "cam 1.3": ("scorm2004", "2nd"), "1.3": ("scorm2004", "2nd"),
    "2004 2nd edition": ("scorm2004", "2nd"), "2004 3rd edition": ("scorm2004", "3rd"),
    "2004 4th edition": ("scorm2004", "4th"),
}
_SCORM12_NAMESPACES = ("adlcp_rootv1p2", "imscp_rootv1p1p2")
_SCORM2004_NAMESPACES = ("adlcp_v1p3", "adlseq_v1p3", "adlnav_v1p3", "imsglobal.org/xsd/imsss")
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


@dataclass(frozen=True)
class _Manifest:
    format: str
    resources: dict[str, tuple[Element, str]]  # identifier -> (resource, its xml:base)
    collection: dict[str, Element]  # imsss:sequencingCollection, by ID
    files: frozenset[str]


def _scorm(root: Element, files: frozenset[str]) -> PackageInfo:
    _expect_root(root, "manifest", "imsmanifest.xml")
    format_, edition = _scorm_version(root)
    organization = _default_organization(root)
    manifest = _Manifest(format_, _resources(root), _collection(root), files)
    scos = tuple(_scorm_sco(item, manifest) for item in _leaf_items(organization))
    _check_scos(scos, "imsmanifest.xml")
    choice, flow = (True, True) if format_ == "scorm12" else _control_mode(organization, manifest.collection)
    identifier = (root.get("identifier") or organization.get("identifier") or "").strip()
    title = _text(_child(organization, "title")) or _lom(root, "title") or identifier
    return PackageInfo(format=format_, edition=edition, identifier=identifier, title=title,
                       description=_lom(root, "description"), scos=scos, choice=choice, flow=flow,
                       files=(), total_bytes=0)


def _scorm_version(root: Element) -> tuple[str, str | None]:
    """From <metadata><schemaversion>, else from the namespaces in use (an undated 2004 package counts as 4th)."""
    declared = _text(_child(_child(root, "metadata"), "schemaversion"))
    if declared:
        key = " ".join(declared.lower().split()).removeprefix("scorm ")
        if key not in _VERSIONS:
            raise _invalid(f"imsmanifest.xml: unknown SCORM version {declared!r}")
        return _VERSIONS[key]
    namespaces = {name.partition("}")[0] for element in root.iter()
                  for name in (element.tag, *element.attrib) if name.startswith("{")}
    if any(marker in namespace for namespace in namespaces for marker in _SCORM12_NAMESPACES):
        return "scorm12", None
    if any(marker in namespace for namespace in namespaces for marker in _SCORM2004_NAMESPACES):
        return "scorm2004", "4th"
    raise _invalid("imsmanifest.xml: no <schemaversion> and no SCORM namespace; unknown SCORM version")


def _default_organization(root: Element) -> Element:
    container = _child(root, "organizations")
    organizations = _children(container, "organization") if container is not None else []
    if container is None or not organizations:
        raise _invalid("imsmanifest.xml has no <organization>")
    default = container.get("default")
    return next((org for org in organizations if org.get("identifier") == default), organizations[0])


def _base(element: Element) -> str:
    return (element.get(_XML_BASE) or "").strip().replace("\\", "/")


def _resources(root: Element) -> dict[str, tuple[Element, str]]:
    container = _child(root, "resources")
    if container is None:
        raise _invalid("imsmanifest.xml has no <resources>")
    outer = _join(_base(root), _base(container))
    return {(resource.get("identifier") or "").strip(): (resource, _join(outer, _base(resource)))
            for resource in _children(container, "resource")}


def _collection(root: Element) -> dict[str, Element]:
    container = _child(root, "sequencingCollection")
    if container is None:
        return {}
    return {sequencing.get("ID", ""): sequencing for sequencing in _children(container, "sequencing")}


def _leaf_items(organization: Element) -> Iterator[Element]:
    """Leaf items that reference a resource, in document order (iteratively: nesting depth is untrusted)."""
    stack = list(reversed(_children(organization, "item")))
    while stack:
        item = stack.pop()
        nested = _children(item, "item")
        if nested:
            stack.extend(reversed(nested))
        elif item.get("identifierref"):
            yield item


def _scorm_sco(item: Element, manifest: _Manifest) -> Sco:
    identifier = (item.get("identifier") or "").strip()
    reference = (item.get("identifierref") or "").strip()
    if not identifier:
        raise _invalid("imsmanifest.xml: an <item> has no identifier")
    if reference not in manifest.resources:
        raise _invalid(f"imsmanifest.xml: item {identifier!r} references no resource {reference!r}")
    resource, base = manifest.resources[reference]
    href = (resource.get("href") or "").strip()
    if not href:
        raise _invalid(f"imsmanifest.xml: resource {reference!r} of item {identifier!r} has no href")
    launch = _package_launch(_with_parameters(_join(base, href), item.get("parameters")), manifest.files,
                             f"item {identifier!r}")
    sco = Sco(id=identifier, title=_text(_child(item, "title")) or identifier, launch=launch,
              scorm_type=_one_of((_attr(resource, "scormtype") or "").lower(), ("sco", "asset"), "sco",
                                 f"imsmanifest.xml: the scormType of resource {reference!r}"),
              visible=_bool(item.get("isvisible"), True, f"imsmanifest.xml: isvisible of item {identifier!r}"))
    if manifest.format == "scorm12":
        return _scorm12_details(sco, item)
    return _scorm2004_details(sco, item, _sequencings(item, manifest.collection))


def _scorm12_details(sco: Sco, item: Element) -> Sco:
    what = f"imsmanifest.xml: masteryscore of item {sco.id!r}"
    return dataclasses.replace(
        sco, mastery_score=_number(_child_text(item, "masteryscore"), what, 0, 100),
        prerequisites=_child_text(item, "prerequisites"), launch_data=_child_text(item, "datafromlms"),
        max_time_allowed=_child_text(item, "maxtimeallowed"), time_limit_action=_child_text(item, "timelimitaction"))


def _scorm2004_details(sco: Sco, item: Element, sequencings: list[Element]) -> Sco:
    limits = _first(sequencings, "limitConditions")
    return dataclasses.replace(
        sco, mastery_score=_mastery(sequencings, sco.id), completion_threshold=_completion_threshold(item, sco.id),
        launch_data=_child_text(item, "dataFromLMS"), time_limit_action=_child_text(item, "timeLimitAction"),
        max_time_allowed=limits.get("attemptAbsoluteDurationLimit") if limits is not None else None)


def _sequencings(element: Element, collection: dict[str, Element]) -> list[Element]:
    """An item's or organisation's imsss:sequencing, then the collection entry it references (lower priority)."""
    found: list[Element] = []
    for sequencing in _children(element, "sequencing"):
        found.append(sequencing)
        reference = sequencing.get("IDRef")
        if reference and reference in collection:
            found.append(collection[reference])
    return found


def _first(sequencings: list[Element], name: str) -> Element | None:
    return next((child for seq in sequencings if (child := _child(seq, name)) is not None), None)


def _control_mode(organization: Element, collection: dict[str, Element]) -> tuple[bool, bool]:
    mode = _first(_sequencings(organization, collection), "controlMode")
    if mode is None:
        return True, False
    return (_bool(mode.get("choice"), True, "imsmanifest.xml: controlMode@choice"),
            _bool(mode.get("flow"), False, "imsmanifest.xml: controlMode@flow"))


def _mastery(sequencings: list[Element], item: str) -> float | None:
    """minNormalizedMeasure of the primary objective when it is satisfied by measure (1.0 when left out)."""
    primary = _child(_first(sequencings, "objectives"), "primaryObjective")
    if primary is None or not _bool(primary.get("satisfiedByMeasure"), False, "imsmanifest.xml: satisfiedByMeasure"):
        return None
    measure = _child(primary, "minNormalizedMeasure")
    if measure is None:
        return 1.0
    return _number(_text(measure), f"imsmanifest.xml: minNormalizedMeasure of item {item!r}", -1, 1)


def _completion_threshold(item: Element, identifier: str) -> float | None:
    """3rd edition: the element's text; 4th edition: its minProgressMeasure (1.0 when completed by measure)."""
    threshold = next((child for child in item if _local(child.tag) == "completionThreshold"), None)
    if threshold is None:
        return None
    what = f"imsmanifest.xml: completionThreshold of item {identifier!r}"
    if threshold.get("minProgressMeasure") is not None:
        return _number(threshold.get("minProgressMeasure"), what, 0, 1)
    if _bool(threshold.get("completedByMeasure"), False, what):
        return 1.0
    return _number(_text(threshold), what, 0, 1)


def _lom(root: Element, field: str) -> str | None:
    """<metadata><lom><general><title|description> string (inline metadata only)."""
    element = _child(_child(_child(_child(root, "metadata"), "lom"), "general"), field)
    if element is None:
        return None
    return next((_text(node) for node in element.iter() if _local(node.tag) in ("string", "langstring")
                 and _text(node)), None) or _text(element) or None


# ------------------------------------------------------------------------------------------------------ cmi5

_MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")
_LAUNCH_METHODS = ("AnyWindow", "OwnWindow")


def _cmi5(root: Element, files: frozenset[str]) -> PackageInfo:
    _expect_root(root, "courseStructure", "cmi5.xml")
    course = _child(root, "course")
    identifier = (course.get("id") or "").strip() if course is not None else ""
    if not identifier:
        raise _invalid("cmi5.xml has no <course id=...>")
    scos = tuple(_cmi5_au(au, files) for au in _aus(root))
    _check_scos(scos, "cmi5.xml")
    return PackageInfo(format="cmi5", edition=None, identifier=identifier,
                       title=_langstring(_child(course, "title")) or identifier,
                       description=_langstring(_child(course, "description")), scos=scos, choice=True, flow=True,
                       files=(), total_bytes=0)


def _aus(root: Element) -> Iterator[Element]:
    """AUs in document order, through nested blocks."""
    stack = [node for node in reversed(root) if _local(node.tag) in ("au", "block")]
    while stack:
        node = stack.pop()
        if _local(node.tag) == "au":
            yield node
        else:
            stack.extend(child for child in reversed(node) if _local(child.tag) in ("au", "block"))


def _langstring(element: Element | None) -> str | None:
    if element is None:
        return None
    strings = _children(element, "langstring")
    return (_text(strings[0]) if strings else _text(element)) or None


def _cmi5_au(au: Element, files: frozenset[str]) -> Sco:
    identifier = (au.get("id") or "").strip()
    if not identifier:
        raise _invalid("cmi5.xml: an <au> has no id")
    url = _text(_child(au, "url"))
    if not url:
        raise _invalid(f"cmi5.xml: AU {identifier!r} has no <url>")
    what = f"cmi5.xml: AU {identifier!r}"
    return Sco(id=identifier, title=_langstring(_child(au, "title")) or identifier,
               launch=_cmi5_launch(url, files, what), scorm_type="au",
               mastery_score=_number(au.get("masteryScore"), f"{what} masteryScore", 0, 1),
               launch_data=_text(_child(au, "launchParameters")) or None,
               move_on=_one_of(au.get("moveOn"), _MOVE_ON, "NotApplicable", f"{what} moveOn"),
               launch_method=_one_of(au.get("launchMethod"), _LAUNCH_METHODS, "AnyWindow", f"{what} launchMethod"),
               activity_id=identifier)


def _cmi5_launch(url: str, files: frozenset[str], owner: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    if parts.scheme or parts.netloc:
        raise _invalid(f"{owner}: the url {url!r} is neither http(s) nor a path in the package")
    return _package_launch(url, files, owner)


# ---------------------------------------------------------------------------------------------- xAPI (TinCan)


def _tincan(root: Element, files: frozenset[str]) -> PackageInfo:
    _expect_root(root, "tincan", "tincan.xml")
    container = _child(root, "activities")
    activities = _children(container, "activity") if container is not None else []
    launchable = [activity for activity in activities if _text(_child(activity, "launch"))]
    scos = tuple(_tincan_activity(activity, files) for activity in launchable)
    _check_scos(scos, "tincan.xml")
    return PackageInfo(format="xapi", edition=None, identifier=scos[0].id, title=scos[0].title,
                       description=_text(_child(launchable[0], "description")) or None, scos=scos,
                       choice=True, flow=True, files=(), total_bytes=0)


def _tincan_activity(activity: Element, files: frozenset[str]) -> Sco:
    identifier = (activity.get("id") or "").strip()
    if not identifier:
        raise _invalid("tincan.xml: an <activity> with a <launch> has no id")
    launch = _package_launch(_text(_child(activity, "launch")), files, f"tincan.xml: activity {identifier!r}")
    return Sco(id=identifier, title=_text(_child(activity, "name")) or identifier, launch=launch,
               scorm_type="activity", activity_id=identifier)


_PARSERS = {"imsmanifest.xml": _scorm, "cmi5.xml": _cmi5, "tincan.xml": _tincan}
