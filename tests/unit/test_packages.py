"""chalicelib.content.packages: detecting and parsing e-learning packages, and refusing hostile zips."""

from __future__ import annotations

import io
import zipfile

import pytest

from chalicelib.content.packages import Limits, PackageInfo, PackageRejected, content_type, inspect, iter_files
from tests.unit.package_zips import (
    BILLION_LAUGHS,
    CMI5_XML,
    EXTERNAL_DTD,
    PAGE,
    PARAMETER_ENTITY,
    TINCAN_XML,
    XXE,
    build_zip,
    cmi5_package,
    multi_sco_package,
    patch_entry,
    scorm12_manifest,
    scorm12_package,
    scorm2004_manifest,
    scorm2004_package,
    symlink_entry,
    tincan_package,
)

SMALL = Limits(max_files=20, max_total_bytes=64 * 1024, max_file_bytes=32 * 1024, max_ratio=50.0,
               max_manifest_bytes=16 * 1024, ratio_floor_bytes=4 * 1024)


def rejected(data: bytes, reason: str, limits: Limits = SMALL) -> PackageRejected:
    with pytest.raises(PackageRejected) as caught:
        inspect(data, limits)
    assert caught.value.reason == reason, caught.value.detail
    return caught.value


def rejected_files(data: bytes, info: PackageInfo, reason: str, limits: Limits = SMALL) -> PackageRejected:
    produced: list[str] = []
    with pytest.raises(PackageRejected) as caught:
        for path, _ in iter_files(data, info, limits):
            produced.append(path)
    assert caught.value.reason == reason, caught.value.detail
    assert produced == []  # the whole archive is checked before the first file
    return caught.value


def with_manifest(manifest: str | bytes, **files: bytes) -> bytes:
    return build_zip({"imsmanifest.xml": manifest, "index.html": PAGE, **files})


# ------------------------------------------------------------------------------------------------ valid packages


def test_scorm12_items_resources_masteryscore_prerequisites_parameters() -> None:
    info = inspect(scorm12_package(), SMALL)
    assert (info.format, info.edition) == ("scorm12", None)
    assert (info.identifier, info.title, info.description) == ("com.example.sales12", "Sales Basics", "Selling 101")
    assert (info.choice, info.flow) == (True, True)
    assert info.files == ("imsmanifest.xml", "lesson1/index.html", "quiz.html")  # directory entries left out
    assert info.total_bytes == sum(len(content) for _, content in iter_files(scorm12_package(), info, SMALL))
    first, second = info.scos
    assert first.id == "ITEM-1" and first.title == "Prospecting" and first.launch == "lesson1/index.html"
    assert first.scorm_type == "sco" and first.mastery_score == 80.0 and first.prerequisites is None
    assert (first.max_time_allowed, first.time_limit_action, first.launch_data) == ("00:30:00", "exit,message",
                                                                                  "level=1")
    assert second.id == "ITEM-2" and second.scorm_type == "asset" and second.visible is False
    assert second.launch == "quiz.html?chapter=2" and second.prerequisites == "ITEM-1"
    assert second.mastery_score is None and second.completion_threshold is None and second.activity_id is None


@pytest.mark.parametrize("edition", ["2nd", "3rd", "4th"])
def test_scorm2004_editions(edition: str) -> None:
    info = inspect(scorm2004_package(edition), SMALL)
    assert (info.format, info.edition) == ("scorm2004", edition)
    assert (info.identifier, info.title, info.choice, info.flow) == ("com.example.sales2004", "Negotiation",
                                                                     True, False)
    (sco,) = info.scos
    assert (sco.id, sco.launch, sco.scorm_type, sco.mastery_score) == ("ITEM-1", "index.html", "sco", None)


def test_version_falls_back_to_namespaces() -> None:
    assert inspect(scorm2004_package(None), SMALL).edition == "4th"
    info = inspect(with_manifest(scorm12_manifest(schemaversion=None), **{"lesson1/index.html": PAGE,
                                                                          "quiz.html": PAGE}), SMALL)
    assert info.format == "scorm12"


def test_multi_sco_2004_sequencing_base_and_parameters() -> None:
    info = inspect(multi_sco_package(), SMALL)
    assert (info.format, info.edition, info.title) == ("scorm2004", "3rd", "Partner onboarding")
    assert (info.choice, info.flow) == (False, True)  # controlMode of the default organisation (ORG-B)
    welcome, pricing, quiz = info.scos
    assert welcome.id == "SCO-1" and welcome.launch == "content/m1/welcome.html?v=2&lang=en"
    assert welcome.mastery_score == 0.8 and welcome.completion_threshold == 0.75
    assert (welcome.launch_data, welcome.time_limit_action, welcome.max_time_allowed) == (
        "start=1", "continue,no message", "PT1H")
    assert pricing.launch == "content/pricing/index.html#page3"  # xml:base without its trailing slash
    assert pricing.mastery_score == 1.0  # from the sequencingCollection; minNormalizedMeasure defaults to 1.0
    assert quiz.launch == "content/my quiz.html" and quiz.scorm_type == "asset" and quiz.visible is False
    assert all(sco.prerequisites is None for sco in info.scos)


def test_cmi5_course_blocks_and_aus() -> None:
    info = inspect(cmi5_package(), SMALL)
    assert (info.format, info.edition) == ("cmi5", None)
    assert (info.identifier, info.title, info.description) == (
        "https://example.com/courses/discovery", "Discovery calls", "Ask better questions.")
    intro, roleplay, remote = info.scos
    assert (intro.id, intro.title, intro.launch, intro.scorm_type) == (
        "https://example.com/aus/intro", "Intro", "intro/index.html?mode=full", "au")
    assert (intro.move_on, intro.launch_method, intro.mastery_score) == ("Completed", "OwnWindow", None)
    assert intro.activity_id == "https://example.com/aus/intro"
    assert (roleplay.mastery_score, roleplay.move_on, roleplay.launch_method) == (0.7, "CompletedAndPassed",
                                                                                  "AnyWindow")
    assert roleplay.launch_data == '{"difficulty": "hard"}'
    assert remote.launch == "https://content.example.com/remote/index.html" and remote.move_on == "NotApplicable"


def test_tincan_activities_with_launch() -> None:
    info = inspect(tincan_package(), SMALL)
    assert (info.format, info.edition) == ("xapi", None)
    assert (info.identifier, info.title) == ("https://example.com/tincan/objection-handling", "Objection handling")
    assert info.description == "Handle the five classic objections."
    (activity,) = info.scos
    assert (activity.launch, activity.scorm_type, activity.activity_id) == (
        "story.html", "activity", "https://example.com/tincan/objection-handling")


def test_cmi5_is_preferred_when_manifests_coexist() -> None:
    data = build_zip({"imsmanifest.xml": scorm2004_manifest(), "cmi5.xml": CMI5_XML, "index.html": PAGE,
                      "intro/index.html": PAGE, "roleplay.html": PAGE})
    assert inspect(data, SMALL).format == "cmi5"


def test_single_top_folder_becomes_the_root() -> None:
    data = build_zip({"course/tincan.xml": TINCAN_XML, "course/story.html": PAGE,
                      "__MACOSX/course/._story.html": b"\x00\x05\x16\x07"})
    info = inspect(data, SMALL)
    assert info.files == ("tincan.xml", "story.html") and info.scos[0].launch == "story.html"
    assert dict(iter_files(data, info, SMALL)) == {"tincan.xml": TINCAN_XML.encode(), "story.html": PAGE}


def test_iter_files_yields_every_file_and_accepts_a_stream() -> None:
    data = multi_sco_package()
    info = inspect(io.BytesIO(data), SMALL)
    files = dict(iter_files(io.BytesIO(data), info, SMALL))
    assert tuple(files) == info.files
    assert files["content/shared/app.js"] == b"var x = 1;"
    assert files["imsmanifest.xml"].startswith(b"<?xml")


def test_stored_entries_and_default_limits() -> None:
    data = build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE}, compression=zipfile.ZIP_STORED)
    info = inspect(data)
    assert dict(iter_files(data, info))["story.html"] == PAGE


def test_dot_segments_and_backslashes_are_normalised() -> None:
    data = build_zip([("./tincan.xml", TINCAN_XML), ("story.html", PAGE), ("img\\logo.png", b"png")])
    assert inspect(data, SMALL).files == ("tincan.xml", "story.html", "img/logo.png")


def test_content_type() -> None:
    assert content_type("a/index.HTML") == "text/html"
    assert content_type("app.js") == "text/javascript"
    assert content_type("s.css") == "text/css"
    assert content_type("d.json") == "application/json"
    assert content_type("imsmanifest.xml") == "application/xml"
    assert content_type("i.svg") == "image/svg+xml"
    assert content_type("p.png") == "image/png" and content_type("p.jpeg") == "image/jpeg"
    assert content_type("v.mp4") == "video/mp4" and content_type("a.mp3") == "audio/mpeg"
    assert content_type("f.woff2") == "font/woff2" and content_type("doc.pdf") == "application/pdf"
    assert content_type("readme.txt") == "text/plain"
    assert content_type("Makefile") == "application/octet-stream"
    assert content_type("dir.v2/blob") == "application/octet-stream"


def test_rejection_is_a_validation_problem() -> None:
    error = rejected(b"not a zip", "not-a-zip")
    assert error.status == 400 and error.code == "package-rejected" and error.title == "Package rejected"
    assert error.errors == [{"field": "package", "pointer": "#/package", "detail": error.detail}]
    assert error.detail.startswith("not-a-zip: ")


# ------------------------------------------------------------------------------------------------- the archive


def test_not_a_zip() -> None:
    rejected(b"", "not-a-zip")
    rejected(b"PK\x03\x04 truncated", "not-a-zip")
    rejected(tincan_package()[:-30], "not-a-zip")  # end of central directory cut off


@pytest.mark.parametrize("name", ["../evil.html", "a/../../evil.html", "..\\evil.html", "a\\..\\..\\x",
                                  "ok/..", "line\nbreak.html", "tab\t.html"])
def test_zip_slip(name: str) -> None:
    rejected(build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE, name: b"x"}), "zip-slip")


def test_nul_in_a_name() -> None:
    data = build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE, "story.html_.js": b"x"})
    rejected(data.replace(b"story.html_.js", b"story.html\x00.js"), "zip-slip")  # zipfile would cut at the NUL


@pytest.mark.parametrize("name", ["/etc/cron.d/x", "\\\\server\\share\\x", "C:/Windows/x.dll", "c:evil.html",
                                  "\\evil.html"])
def test_absolute_path(name: str) -> None:
    rejected(build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE, name: b"x"}), "absolute-path")


def test_symlink() -> None:
    data = build_zip([("tincan.xml", TINCAN_XML), ("story.html", PAGE), symlink_entry("link.html", "/etc/passwd")])
    rejected(data, "symlink")


def test_duplicate_path() -> None:
    rejected(build_zip([("tincan.xml", TINCAN_XML), ("story.html", PAGE), ("story.html", b"other")]),
             "duplicate-path")
    rejected(build_zip([("tincan.xml", TINCAN_XML), ("story.html", PAGE), ("./story.html", b"other")]),
             "duplicate-path")


def test_too_many_files() -> None:
    files = {"tincan.xml": TINCAN_XML, "story.html": PAGE, **{f"f{n}.txt": b"x" for n in range(5)}}
    rejected(build_zip(files), "too-many-files", Limits(max_files=6))
    assert len(inspect(build_zip(files), Limits(max_files=7)).files) == 7
    crowded = {"tincan.xml": TINCAN_XML, "story.html": PAGE, **{f"f{n}.txt": b"x" for n in range(40)}}
    error = rejected(build_zip(crowded), "too-many-files", Limits(max_files=10))
    assert "declares 42 entries" in error.detail  # refused from the end record, before zipfile reads them


def test_encrypted() -> None:
    data = patch_entry(tincan_package(), "story.html", set_flags=0x1)
    rejected(data, "encrypted")


def test_unsupported_compression() -> None:
    data = build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE}, compression=zipfile.ZIP_BZIP2)
    assert "unsupported compression" in rejected(data, "not-a-zip").detail


def test_zip_bomb_ratio_per_entry() -> None:
    bomb = build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE, "zeros.bin": bytes(2 * 1024 * 1024)})
    assert "ratio" in rejected(bomb, "zip-bomb", Limits()).detail


def test_zip_bomb_ratio_overall() -> None:
    many = {"tincan.xml": TINCAN_XML, "story.html": PAGE, **{f"z{n}.bin": bytes(3000) for n in range(10)}}
    limits = Limits(max_ratio=20.0, ratio_floor_bytes=20_000)  # each entry is under the floor, the sum is not
    assert "the files inflate" in rejected(build_zip(many), "zip-bomb", limits).detail


def test_zip_bomb_sizes() -> None:
    big = build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE, "video.mp4": bytes(40 * 1024)})
    assert "over 32768" in rejected(big, "zip-bomb").detail  # max_file_bytes
    total = build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE,
                       **{f"v{n}.mp4": bytes(30 * 1024) for n in range(3)}})
    assert "in all" in rejected(total, "zip-bomb", Limits(max_total_bytes=64 * 1024, max_ratio=1e9)).detail


def test_zip_bomb_declared_size_lies() -> None:
    honest = build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE, "zeros.bin": bytes(200 * 1024)})
    liar = patch_entry(honest, "zeros.bin", file_size=1000)
    info = inspect(liar, SMALL)  # the declared sizes pass
    error = rejected_files(liar, info, "zip-bomb")
    assert "beyond its declared 1000 bytes" in error.detail


def test_iter_files_enforces_its_own_limits() -> None:
    data = tincan_package()
    info = inspect(data, SMALL)
    rejected_files(data, info, "zip-bomb", Limits(max_total_bytes=100))


def test_manifest_that_inflates_past_its_declared_size() -> None:
    liar = patch_entry(tincan_package(), "tincan.xml", file_size=100)
    assert "tincan.xml" in rejected(liar, "zip-bomb").detail


def test_corrupt_entry_is_not_a_zip() -> None:
    data = bytearray(build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE * 50}, compression=zipfile.ZIP_STORED))
    at = data.find(b"hello")
    data[at:at + 5] = b"HELLO"  # CRC-32 no longer matches
    info = inspect(bytes(data), SMALL)
    rejected_files(bytes(data), info, "not-a-zip")


def test_overlapping_entries() -> None:
    data = bytearray(build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE}))
    end = data.rfind(b"PK\x05\x06")
    directory = int.from_bytes(data[end + 16:end + 20], "little")
    second = data.find(b"PK\x01\x02", directory + 4)
    data[second + 42:second + 46] = data[directory + 42:directory + 46]  # story.html points at tincan.xml's data
    assert "overlap" in rejected(bytes(data), "zip-bomb").detail


def test_iter_files_refuses_a_different_archive() -> None:
    info = inspect(tincan_package(), SMALL)
    rejected_files(cmi5_package(), info, "not-a-zip")


# ----------------------------------------------------------------------------------------------------- manifests


def test_manifest_missing() -> None:
    rejected(build_zip({"index.html": PAGE}), "manifest-missing")
    rejected(build_zip({}), "manifest-missing")
    rejected(build_zip({"a/imsmanifest.xml": scorm2004_manifest(), "b/index.html": PAGE}), "manifest-missing")
    rejected(build_zip({"a/b/imsmanifest.xml": scorm2004_manifest(), "a/b/index.html": PAGE}), "manifest-missing")


def test_manifest_too_large() -> None:
    rejected(scorm12_package(), "manifest-too-large", Limits(max_manifest_bytes=200))


@pytest.mark.parametrize("document", [XXE, BILLION_LAUGHS, PARAMETER_ENTITY])
def test_xml_forbidden(document: str) -> None:
    for name in ("imsmanifest.xml", "cmi5.xml", "tincan.xml"):
        rejected(build_zip({name: document, "index.html": PAGE}), "xml-forbidden")


def test_external_dtd_is_never_fetched() -> None:
    info = inspect(build_zip({"cmi5.xml": EXTERNAL_DTD, "a.html": PAGE}), SMALL)
    assert info.scos[0].launch == "a.html"


@pytest.mark.parametrize("document", [
    "<manifest><organizations>",  # not well-formed
    b"\xff\xfe<\x00m\x00",  # truncated UTF-16
    "<?xml version='1.0' encoding='no-such-codec'?><manifest/>",
    "<package/>",  # wrong root element
    scorm2004_manifest().replace("CAM 1.3", "x").replace("2004 4th Edition", "SCORM 1.1"),  # unknown version
    "<manifest identifier='m'><organizations/><resources/></manifest>",  # no version, no namespace
    scorm2004_manifest(body="<organizations/><resources/></manifest>"),  # no organisation
    scorm2004_manifest().replace("<resources>", "<x>").replace("</resources>", "</x>"),  # no resources
    scorm2004_manifest().replace('identifierref="RES-1"', ""),  # no launchable item
    scorm2004_manifest().replace('identifierref="RES-1"', 'identifierref="NOPE"'),
    scorm2004_manifest().replace('href="index.html"', ""),
    scorm2004_manifest().replace('scormType="sco"', 'scormType="lesson"'),
    scorm12_manifest().replace(">80<", ">eighty<"),
    scorm12_manifest().replace(">80<", ">180<"),
    scorm12_manifest().replace('isvisible="false"', 'isvisible="maybe"'),
    scorm12_manifest().replace('identifier="ITEM-2"', 'identifier="ITEM-1"'),  # duplicate identifier
])
def test_manifest_invalid(document: str | bytes) -> None:
    data = with_manifest(document, **{"lesson1/index.html": PAGE, "quiz.html": PAGE})
    rejected(data, "manifest-invalid")


@pytest.mark.parametrize("document", [
    CMI5_XML.replace('masteryScore="0.7"', 'masteryScore="70"'),
    CMI5_XML.replace('moveOn="Completed"', 'moveOn="Whenever"'),
    CMI5_XML.replace('launchMethod="OwnWindow"', 'launchMethod="Popup"'),
    CMI5_XML.replace("<url>roleplay.html</url>", "<url>javascript:alert(1)</url>"),
    CMI5_XML.replace("<url>roleplay.html</url>", "<url>//evil.example/x.html</url>"),
    CMI5_XML.replace("<url>roleplay.html</url>", ""),
    CMI5_XML.replace('<course id="https://example.com/courses/discovery">', "<course>"),
    "<courseStructure><course id='c'/></courseStructure>",
    "<tincan/>",
])
def test_cmi5_and_tincan_invalid(document: str) -> None:
    name = "tincan.xml" if "<tincan" in document else "cmi5.xml"
    rejected(build_zip({name: document, "intro/index.html": PAGE, "roleplay.html": PAGE}), "manifest-invalid")


@pytest.mark.parametrize("package", [
    with_manifest(scorm2004_manifest().replace('href="index.html"', 'href="missing.html"')),
    with_manifest(scorm2004_manifest().replace('href="index.html"', 'href="../index.html"')),
    with_manifest(scorm2004_manifest().replace('href="index.html"', 'href="/index.html"')),
    with_manifest(scorm2004_manifest().replace('href="index.html"', 'href="https://example.com/index.html"')),
    with_manifest(scorm2004_manifest().replace('href="index.html"', 'href="Index.html"')),
    build_zip({"cmi5.xml": CMI5_XML, "intro/index.html": PAGE}),
    build_zip({"tincan.xml": TINCAN_XML, "story_content/data.js": b"{}"}),
])
def test_launch_missing(package: bytes) -> None:
    rejected(package, "launch-missing")


def test_launch_check_ignores_query_and_fragment() -> None:
    manifest = scorm2004_manifest().replace('href="index.html"', 'href="index.html?a=1#top"')
    assert inspect(with_manifest(manifest), SMALL).scos[0].launch == "index.html?a=1#top"


def test_zip64_end_record() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tincan.xml", TINCAN_XML)
        archive.writestr("story.html", PAGE)
    data = bytearray(buffer.getvalue())
    end = data.rfind(b"PK\x05\x06")
    directory, offset = int.from_bytes(data[end + 12:end + 16], "little"), data[end + 16:end + 20]
    record = (b"PK\x06\x06" + (44).to_bytes(8, "little") + b"\x2d\x00\x2d\x00" + bytes(8)
              + (2).to_bytes(8, "little") * 2 + directory.to_bytes(8, "little") + bytes(offset) + bytes(4))
    locator = b"PK\x06\x07" + bytes(4) + end.to_bytes(8, "little") + (1).to_bytes(4, "little")
    classic = b"PK\x05\x06" + bytes(4) + b"\xff\xff\xff\xff" + data[end + 12:end + 22]
    zip64 = bytes(data[:end]) + record + locator + classic
    assert inspect(zip64, SMALL).files == ("tincan.xml", "story.html")
    crowded = zip64.replace((2).to_bytes(8, "little") * 2, (10**6).to_bytes(8, "little") * 2)
    assert "declares 1000000 entries" in rejected(crowded, "too-many-files").detail


def test_long_details_are_cut() -> None:
    error = rejected(build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE, "../" + "a" * 5000: b"x"}), "zip-slip")
    assert len(error.detail) < 320 and error.detail.endswith("…")
