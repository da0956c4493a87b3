"""The starter courses: packages build deterministically, manifests agree with the files, answers agree with the JS."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree

from chalicelib.content import starter

SLUGS = sorted(starter.STARTER)
ANSWER_KEY = re.compile(r"const ANSWER_KEY = (\{[^}\n]*\});")
IMSCP_12 = "{http://www.imsproject.org/xsd/imscp_rootv1p1p2}"
ADLCP_12 = "{http://www.adlnet.org/xsd/adlcp_rootv1p2}"
IMSCP_2004 = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
ADLCP_2004 = "{http://www.adlnet.org/xsd/adlcp_v1p3}"
IMSSS = "{http://www.imsglobal.org/xsd/imsss}"


def _ns(course: starter.StarterCourse) -> str:
    return IMSCP_12 if course.format == "scorm12" else IMSCP_2004


def _manifest(slug: str) -> Any:
    return ElementTree.parse(starter.source_dir(slug) / starter.MANIFEST).getroot()


def _js_files() -> list[Path]:
    return sorted(path for slug in SLUGS for path in starter.source_dir(slug).rglob("*.js"))


def test_the_catalogue_names_two_courses_with_their_formats() -> None:
    assert {slug: course.format for slug, course in starter.STARTER.items()} == {
        "prospecting-101": "scorm12",
        "closing-techniques": "scorm2004",
    }
    for slug, course in starter.STARTER.items():
        assert course.slug == slug and course.title and course.description
        assert sorted(course.answers) == ["q1", "q2", "q3"]
        assert set(course.answers.values()) <= set("abcd")
        repo = Path(starter.__file__).resolve().parents[2]
        assert starter.source_dir(slug) == repo / "content_bucket" / "courses" / slug


def test_unknown_slugs_are_refused() -> None:
    for slug in ("nope", "../branding", ""):
        with pytest.raises(KeyError):
            starter.source_dir(slug)
        with pytest.raises(KeyError):
            starter.build(slug)


@pytest.mark.parametrize("slug", SLUGS)
def test_build_is_deterministic_and_normalised(slug: str) -> None:
    first, second = starter.build(slug), starter.build(slug)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names) == starter.package_files(slug)
        assert starter.MANIFEST in names
        for info in infos:
            assert not info.is_dir()
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.create_system == 3 and info.external_attr >> 16 == 0o100644
            assert archive.read(info) == starter.source_of(slug, info.filename).read_bytes()


def test_build_all_writes_one_zip_per_course(tmp_path: Path) -> None:
    written = starter.build_all(tmp_path / "out")
    assert sorted(written) == SLUGS
    for slug, path in written.items():
        assert path == tmp_path / "out" / f"{slug}.zip"
        assert path.read_bytes() == starter.build(slug)


@pytest.mark.parametrize("slug", SLUGS)
def test_manifest_lists_exactly_the_files_in_the_folder(slug: str) -> None:
    ns = _ns(starter.STARTER[slug])
    root = _manifest(slug)
    listed = [file.get("href") for file in root.iter(f"{ns}file")]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    for href in listed:
        assert starter.source_of(slug, href).is_file(), f"{href} is listed but missing"
    assert set(listed) | {starter.MANIFEST} == set(starter.package_files(slug))
    for resource in root.iter(f"{ns}resource"):
        if resource.get("href"):
            assert resource.get("href") in listed


@pytest.mark.parametrize("slug", SLUGS)
def test_manifest_references_resolve(slug: str) -> None:
    ns = _ns(starter.STARTER[slug])
    root = _manifest(slug)
    resources = {res.get("identifier") for res in root.iter(f"{ns}resource")}
    organizations = root.find(f"{ns}organizations")
    assert organizations is not None
    assert organizations.get("default") in {org.get("identifier") for org in organizations.iter(f"{ns}organization")}
    for item in root.iter(f"{ns}item"):
        assert item.get("identifierref") in resources
    for dependency in root.iter(f"{ns}dependency"):
        assert dependency.get("identifierref") in resources


def test_scorm12_manifest() -> None:
    root = _manifest("prospecting-101")
    assert root.tag == f"{IMSCP_12}manifest"
    assert root.findtext(f"{IMSCP_12}metadata/{IMSCP_12}schemaversion") == "1.2"
    items = list(root.iter(f"{IMSCP_12}item"))
    assert len(items) == 1
    assert items[0].findtext(f"{ADLCP_12}masteryscore") == "80"
    (resource,) = root.iter(f"{IMSCP_12}resource")
    assert resource.get(f"{ADLCP_12}scormtype") == "sco" and resource.get("href") == "index.html"


def test_scorm2004_manifest() -> None:
    root = _manifest("closing-techniques")
    assert root.tag == f"{IMSCP_2004}manifest"
    assert root.findtext(f"{IMSCP_2004}metadata/{IMSCP_2004}schemaversion") == "2004 4th Edition"
    organization = root.find(f"{IMSCP_2004}organizations/{IMSCP_2004}organization")
    assert organization is not None
    control = organization.find(f"{IMSSS}sequencing/{IMSSS}controlMode")
    assert control is not None and control.get("choice") == "true" and control.get("flow") == "true"
    items = {item.get("identifier"): item for item in organization.findall(f"{IMSCP_2004}item")}
    assert list(items) == ["item-lesson", "item-quiz"]
    objective = items["item-quiz"].find(f"{IMSSS}sequencing/{IMSSS}objectives/{IMSSS}primaryObjective")
    assert objective is not None and objective.get("satisfiedByMeasure") == "true"
    assert objective.findtext(f"{IMSSS}minNormalizedMeasure") == "0.8"
    scos = {
        res.get("identifier"): res.get("href")
        for res in root.iter(f"{IMSCP_2004}resource")
        if res.get(f"{ADLCP_2004}scormType") == "sco"
    }
    assert scos == {"res-lesson": "lesson/index.html", "res-quiz": "quiz/index.html"}


@pytest.mark.parametrize("slug", SLUGS)
def test_answers_match_the_key_in_the_course_js(slug: str) -> None:
    keys = []
    for path in sorted(starter.source_dir(slug).rglob("*.js")):
        keys += [json.loads(found) for found in ANSWER_KEY.findall(path.read_text(encoding="utf-8"))]
    assert keys == [starter.STARTER[slug].answers]


@pytest.mark.parametrize("slug", SLUGS)
def test_quiz_markup_offers_four_options_per_question(slug: str) -> None:
    folder = starter.source_dir(slug)
    quiz = folder / ("index.html" if starter.STARTER[slug].format == "scorm12" else "quiz/index.html")
    html = quiz.read_text(encoding="utf-8")
    for question in starter.STARTER[slug].answers:
        values = re.findall(rf'<input type="radio" name="{question}" value="([a-d])">', html)
        assert values == ["a", "b", "c", "d"]
    for testid in ("page-title", "submit-quiz", "result", "exit"):
        assert html.count(f'data-testid="{testid}"') == 1


@pytest.mark.parametrize("slug", SLUGS)
def test_pages_are_self_contained(slug: str) -> None:
    for path in sorted(starter.source_dir(slug).rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", html), f"{path.name} has an inline event handler"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"{path.name} has an inline script"
        files = set(starter.package_files(slug))
        for url in re.findall(r'(?:src|href)="([^"]*)"', html):
            assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//|/)", url, re.I), f"{path.name}: {url} is not relative"
            target = (path.parent / url).resolve().relative_to(starter.source_dir(slug).resolve()).as_posix()
            assert target in files, f"{path.name}: {url} is not in the package"
    for path in sorted({starter.source_of(slug, name) for name in starter.package_files(slug)
                        if name.endswith(".css")}):
        assert "url(" not in path.read_text(encoding="utf-8") and "@import" not in path.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("path", _js_files(), ids=lambda path: "/".join(path.parts[-3:]))
def test_node_accepts_the_js(path: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
