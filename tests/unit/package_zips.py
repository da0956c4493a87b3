"""Zip packages built in memory for tests/unit/test_packages.py: valid ones of every format, and hostile ones."""

from __future__ import annotations

import io
import stat
import struct
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

Entry = tuple[str | zipfile.ZipInfo, bytes | str]
PAGE = b"<!doctype html><title>x</title><p>hello</p>"

_CENTRAL = b"PK\x01\x02"
_EOCD = b"PK\x05\x06"


def build_zip(files: Mapping[str, Any] | Iterable[Entry], *,
              compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name or ZipInfo, content) written verbatim: names are not sanitised, duplicates are kept."""
    entries = files.items() if isinstance(files, Mapping) else files
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name", on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in entries:
                info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name)
                if not isinstance(name, zipfile.ZipInfo):
                    info.compress_type = compression
                    info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, data)
    return buffer.getvalue()


def symlink_entry(name: str, target: str) -> Entry:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def patch_entry(data: bytes, name: str, *, set_flags: int = 0, file_size: int | None = None) -> bytes:
    """Rewrite an entry's general-purpose flags and/or declared uncompressed size, in the central directory and
    in its local header (zipfile resets the flags on writing, and never writes a lying size)."""
    out = bytearray(data)
    end = out.rfind(_EOCD)
    count, _, offset = struct.unpack("<HII", out[end + 10:end + 20])
    at = offset
    for _ in range(count):
        assert out[at:at + 4] == _CENTRAL
        name_length, extra_length, comment_length = struct.unpack("<HHH", out[at + 28:at + 34])
        (local,) = struct.unpack("<I", out[at + 42:at + 46])
        if out[at + 46:at + 46 + name_length].decode("utf-8") == name:
            _patch(out, at + 8, at + 24, set_flags, file_size)  # central: flags, uncompressed size
            _patch(out, local + 6, local + 22, set_flags, file_size)  # local header
        at += 46 + name_length + extra_length + comment_length
    return bytes(out)


def _patch(out: bytearray, flags_at: int, size_at: int, set_flags: int, file_size: int | None) -> None:
    (flags,) = struct.unpack("<H", out[flags_at:flags_at + 2])
    out[flags_at:flags_at + 2] = struct.pack("<H", flags | set_flags)
    if file_size is not None:
        out[size_at:size_at + 4] = struct.pack("<I", file_size)


# ----------------------------------------------------------------------------------------------------- SCORM 1.2

SCORM12_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.sales12" version="1.0"
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
    xmlns:imsmd="http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd
        http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
"""


def scorm12_manifest(*, schemaversion: str | None = "1.2") -> str:
    version = f"<schemaversion>{schemaversion}</schemaversion>" if schemaversion else ""
    return SCORM12_HEAD + f"""
  <metadata>
    <schema>ADL SCORM</schema>{version}
    <imsmd:lom><imsmd:general>
      <imsmd:description><imsmd:langstring xml:lang="en">Selling 101</imsmd:langstring></imsmd:description>
    </imsmd:general></imsmd:lom>
  </metadata>
  <organizations default="ORG-1">
    <organization identifier="ORG-1">
      <title>Sales Basics</title>
      <item identifier="ITEM-1" identifierref="RES-1">
        <title>Prospecting</title>
        <adlcp:masteryscore>80</adlcp:masteryscore>
        <adlcp:maxtimeallowed>00:30:00</adlcp:maxtimeallowed>
        <adlcp:timelimitaction>exit,message</adlcp:timelimitaction>
        <adlcp:datafromlms>level=1</adlcp:datafromlms>
      </item>
      <item identifier="MODULE-2">
        <title>Closing</title>
        <item identifier="ITEM-2" identifierref="RES-2" isvisible="false" parameters="?chapter=2">
          <title>Closing quiz</title>
          <adlcp:prerequisites type="aicc_script">ITEM-1</adlcp:prerequisites>
        </item>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES-1" type="webcontent" adlcp:scormtype="sco" href="lesson1/index.html">
      <file href="lesson1/index.html"/>
    </resource>
    <resource identifier="RES-2" type="webcontent" adlcp:scormtype="asset" href="quiz.html">
      <file href="quiz.html"/>
    </resource>
  </resources>
</manifest>
"""


def scorm12_package() -> bytes:
    return build_zip({"imsmanifest.xml": scorm12_manifest(), "lesson1/index.html": PAGE, "quiz.html": PAGE,
                      "lesson1/": b""})


# ----------------------------------------------------------------------------------------------------- SCORM 2004

SCHEMAVERSIONS = {"2nd": "CAM 1.3", "3rd": "2004 3rd Edition", "4th": "2004 4th Edition"}

SCORM2004_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.sales2004" version="1"
    xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
    xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
    xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"
    xmlns:imsss="http://www.imsglobal.org/xsd/imsss"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
"""


def scorm2004_manifest(edition: str | None = "4th", *, body: str | None = None) -> str:
    version = f"<schemaversion>{SCHEMAVERSIONS[edition]}</schemaversion>" if edition else ""
    return SCORM2004_HEAD + f"""
  <metadata><schema>ADL SCORM</schema>{version}</metadata>
""" + (body or """
  <organizations default="ORG">
    <organization identifier="ORG">
      <title>Negotiation</title>
      <item identifier="ITEM-1" identifierref="RES-1"><title>Intro</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES-1" type="webcontent" adlcp:scormType="sco" href="index.html"/>
  </resources>
</manifest>
""")


def scorm2004_package(edition: str | None = "4th") -> bytes:
    return build_zip({"imsmanifest.xml": scorm2004_manifest(edition), "index.html": PAGE})


MULTI_SCO_BODY = """
  <organizations default="ORG-B">
    <organization identifier="ORG-A">
      <title>Not the default</title>
      <item identifier="A-1" identifierref="RES-1"><title>Unused</title></item>
    </organization>
    <organization identifier="ORG-B" adlseq:objectivesGlobalToSystem="false">
      <title>Partner onboarding</title>
      <item identifier="MOD-1">
        <title>Module 1</title>
        <item identifier="SCO-1" identifierref="RES-1" parameters="&amp;lang=en">
          <title>Welcome</title>
          <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.75"/>
          <adlcp:dataFromLMS>start=1</adlcp:dataFromLMS>
          <adlcp:timeLimitAction>continue,no message</adlcp:timeLimitAction>
          <imsss:sequencing>
            <imsss:limitConditions attemptAbsoluteDurationLimit="PT1H"/>
            <imsss:objectives>
              <imsss:primaryObjective objectiveID="pass" satisfiedByMeasure="true">
                <imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>
              </imsss:primaryObjective>
            </imsss:objectives>
          </imsss:sequencing>
        </item>
        <item identifier="SCO-2" identifierref="RES-2" parameters="#page3">
          <title>Pricing</title>
          <imsss:sequencing IDRef="SHARED"/>
        </item>
      </item>
      <item identifier="SCO-3" identifierref="RES-3" isvisible="false"><title>Quiz</title></item>
      <imsss:sequencing>
        <imsss:controlMode choice="false" flow="true"/>
      </imsss:sequencing>
    </organization>
  </organizations>
  <resources xml:base="content/">
    <resource identifier="RES-1" type="webcontent" adlcp:scormType="sco" href="m1/welcome.html?v=2"/>
    <resource identifier="RES-2" type="webcontent" adlcp:scormType="sco" xml:base="pricing" href="index.html"/>
    <resource identifier="RES-3" type="webcontent" adlcp:scormType="asset" href="my%20quiz.html"/>
  </resources>
  <imsss:sequencingCollection>
    <imsss:sequencing ID="SHARED">
      <imsss:objectives>
        <imsss:primaryObjective objectiveID="p2" satisfiedByMeasure="true"/>
      </imsss:objectives>
    </imsss:sequencing>
  </imsss:sequencingCollection>
</manifest>
"""


def multi_sco_package() -> bytes:
    return build_zip({"imsmanifest.xml": scorm2004_manifest("3rd", body=MULTI_SCO_BODY),
                      "content/m1/welcome.html": PAGE, "content/pricing/index.html": PAGE,
                      "content/my quiz.html": PAGE, "content/shared/app.js": b"var x = 1;"})


# ----------------------------------------------------------------------------------------------------- cmi5, xAPI

CMI5_XML = """<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.com/courses/discovery">
    <title><langstring lang="en-US">Discovery calls</langstring></title>
    <description><langstring lang="en-US">Ask better questions.</langstring></description>
  </course>
  <au id="https://example.com/aus/intro" moveOn="Completed" launchMethod="OwnWindow">
    <title><langstring lang="en-US">Intro</langstring></title>
    <description><langstring lang="en-US">Intro AU</langstring></description>
    <url>intro/index.html?mode=full</url>
  </au>
  <block id="https://example.com/blocks/1">
    <title><langstring lang="en-US">Practice</langstring></title>
    <description><langstring lang="en-US">Block</langstring></description>
    <block id="https://example.com/blocks/1a">
      <title><langstring lang="en-US">Deeper</langstring></title>
      <description><langstring lang="en-US">Nested</langstring></description>
      <au id="https://example.com/aus/roleplay" masteryScore="0.7" moveOn="CompletedAndPassed">
        <title><langstring lang="en-US">Role play</langstring></title>
        <description><langstring lang="en-US">Practice</langstring></description>
        <url>roleplay.html</url>
        <launchParameters>{"difficulty": "hard"}</launchParameters>
      </au>
    </block>
    <au id="https://example.com/aus/remote">
      <title><langstring lang="en-US">Remote</langstring></title>
      <description><langstring lang="en-US">Hosted elsewhere</langstring></description>
      <url>https://content.example.com/remote/index.html</url>
    </au>
  </block>
</courseStructure>
"""


def cmi5_package() -> bytes:
    return build_zip({"cmi5.xml": CMI5_XML, "intro/index.html": PAGE, "roleplay.html": PAGE})


TINCAN_XML = """<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<tincan xmlns="http://projecttincan.com/tincan.xsd">
  <activities>
    <activity id="https://example.com/tincan/objection-handling" type="http://adlnet.gov/expapi/activities/course">
      <name>Objection handling</name>
      <description lang="en-US">Handle the five classic objections.</description>
      <launch lang="en-us">story.html</launch>
    </activity>
    <activity id="https://example.com/tincan/objection-handling/q1"
              type="http://adlnet.gov/expapi/activities/cmi.interaction">
      <name>Question 1</name>
    </activity>
  </activities>
</tincan>
"""


def tincan_package() -> bytes:
    return build_zip({"tincan.xml": TINCAN_XML, "story.html": PAGE, "story_content/data.js": b"{}"})


# ----------------------------------------------------------------------------------------------------- hostile XML

XXE = """<?xml version="1.0"?>
<!DOCTYPE manifest [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<manifest identifier="x"><metadata><schemaversion>&xxe;</schemaversion></metadata></manifest>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<tincan>&lol9;</tincan>
"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE courseStructure SYSTEM "http://attacker.example/evil.dtd">
<courseStructure><course id="c"><title><langstring>t</langstring></title></course>
<au id="a"><title><langstring>a</langstring></title><url>a.html</url></au></courseStructure>
"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE manifest [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]>
<manifest/>
"""
