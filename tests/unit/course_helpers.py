"""Course fixtures for in-process tests: versions from a described package, the stream drained."""

from __future__ import annotations

from typing import Any

from tests.unit.factories import Api


def FakeSco(id: str, title: str, launch: str, scorm_type: str = "sco", **fields: Any) -> Any:  # noqa: N802
    """A SCO as `content.packages.inspect` describes it."""
    from chalicelib.content.packages import Sco

    return Sco(id=id, title=title, launch=launch, scorm_type=scorm_type, **fields)


def FakePackage(**fields: Any) -> Any:  # noqa: N802
    """What `content.packages.inspect` returns (a one-SCO SCORM 1.2 package unless told otherwise), for tests
    that need a version but not a zip."""
    from chalicelib.content.packages import PackageInfo

    defaults: dict[str, Any] = {
        "format": "scorm12", "edition": None, "identifier": "pkg", "title": "A package", "description": None,
        "scos": (FakeSco("sco-1", "Lesson", "index.html", mastery_score=80.0),), "choice": True, "flow": True,
        "files": ("imsmanifest.xml", "index.html"), "total_bytes": 100}
    return PackageInfo(**{**defaults, **fields})


def add_version(owner: str, course_id: str, package: FakePackage | None = None, prefix: str | None = None) -> int:
    from chalicelib.catalog import courses

    course = courses.load_course(owner, course_id)
    tx, number = courses.add_version(course, package or FakePackage(), prefix or f"packages/{owner}/{course_id}/x/",
                                     "up-test", "tester")
    tx.commit()
    return number


def published_course(api: Any, tenant_id: str, admin_token: str, title: str) -> str:
    """A course of the tenant's private library with version 1 published (in its catalog): its id."""
    course = api.json(api.call("POST", f"/v1/tenants/{tenant_id}/courses", admin_token, {"title": title}))
    number = add_version(tenant_id, course["id"])
    resp = api.call("POST", f"/v1/tenants/{tenant_id}/courses/{course['id']}/versions/{number}/publish", admin_token)
    assert resp.status_code == 200, resp.body
    return str(course["id"])


_READ: dict[str, Any] = {"arn": None, "records": [], "after": {}}  # what earlier calls read, per stream


def stream_records() -> list[dict[str, Any]]:
    """Every record of the table's stream so far (moto's DynamoDB Streams), in shard order. Records read
    before are kept, and each shard is read on from the last one (the stream only grows)."""
    import boto3

    from chalicelib.config import settings

    arn = boto3.client("dynamodb").describe_table(TableName=settings().table_name)["Table"]["LatestStreamArn"]
    if _READ["arn"] != arn:  # a new table (another session's moto): start over
        _READ.update(arn=arn, records=[], after={})
    streams = boto3.client("dynamodbstreams")
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        shard_id, after = shard["ShardId"], _READ["after"].get(shard["ShardId"])
        position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after
                    else {"ShardIteratorType": "TRIM_HORIZON"})
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **position)["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            _READ["records"] += page["Records"]
            if page["Records"]:
                _READ["after"][shard_id] = page["Records"][-1]["dynamodb"]["SequenceNumber"]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return list(_READ["records"])


class Stream:
    """Feeds the table's new stream records to the app's consumer, as the Lambda trigger would."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seen: set[str] = set()

    def drain(self) -> int:
        fresh = [r for r in stream_records() if r["dynamodb"]["SequenceNumber"] not in self.seen]
        self.seen |= {r["dynamodb"]["SequenceNumber"] for r in fresh}
        if fresh:
            result = self.api.client.lambda_.invoke("on_table_change", {"Records": fresh})
            assert result.payload == {"batchItemFailures": []}, result.payload
        return len(fresh)


# -- the player's URLs and tokens, and files in the content bucket -------------------------------------------
def player_config(api: Api, launch_url: str) -> dict[str, Any]:
    """The player page's config (its `player-config` JSON) for a launch URL."""
    resp = api.client.http.get(launch_url)
    assert resp.status_code == 200, resp.body
    return page_config(resp)


def page_config(resp: Any) -> dict[str, Any]:
    """The `player-config` JSON of a player page response."""
    import json

    html = resp.body.decode() if isinstance(resp.body, bytes) else resp.body
    start = html.index('id="player-config">') + len('id="player-config">')
    return dict(json.loads(html[start:html.index("</script>", start)]))


def url_token(url: str) -> str:
    """The `token` query parameter of a URL."""
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["token"][0]


def content_token(config: dict[str, Any]) -> str:
    """The content token of a player config (its SCO URLs are /play/<token>/<launch path>)."""
    return str(config["scos"][0]["url"].split("/")[2])


def player_tokens(api: Api, launch_url: str) -> dict[str, str]:
    """{launch, commit, content}: the three tokens one launch of an attempt hands the browser."""
    config = player_config(api, launch_url)
    return {"launch": url_token(launch_url), "commit": url_token(config["commitUrl"]),
            "content": content_token(config)}


def tamper(token: str, **claims: Any) -> str:
    """A launch/commit/content token whose payload is changed (claims set) and whose signature is kept."""
    import json

    from chalicelib.content import launch

    payload, signature = token.split(".")
    body = {**json.loads(launch._unb64(payload)), **claims}
    return launch._b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()) + "." + signature


def put_files(files: dict[str, str | bytes], content_type: str = "text/html") -> None:
    """Objects in the content bucket, as an ingest (or the asset sync) would leave them."""
    from chalicelib import aws
    from chalicelib.config import settings

    for key, body in files.items():
        aws.s3().put_object(Bucket=settings().bucket_name, Key=key, ContentType=content_type,
                            Body=body.encode() if isinstance(body, str) else body)


def nested(depth: int, name: str = "page.html") -> list[str]:
    """A relative file path `depth` segments deep: lvl1/…/lvl<depth-1>/<name>."""
    return [f"lvl{i}" for i in range(1, depth)] + [name]


# -- cmi5: a package of one AU, and what its launch redirect hands the AU ------------------------------------
def cmi5_package(au_id: str, title: str = "A cmi5 course", au_title: str = "The AU") -> FakePackage:
    """A cmi5 package of one AU (moveOn Completed) served from the package at au/index.html."""
    return FakePackage(format="cmi5", identifier=f"{au_id}/course", title=title, files=("cmi5.xml", "au/index.html"),
                       scos=(FakeSco(au_id, au_title, "au/index.html", scorm_type="au", move_on="Completed",
                                     activity_id=au_id),))


def query_params(url: str) -> dict[str, str]:
    """A URL's query parameters (the first value of each)."""
    from urllib.parse import parse_qs, urlsplit

    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def cmi5_fetch_url(location: str) -> str:
    """The fetch URL of a cmi5 launch redirect's `Location`, as a path with its query (what an AU POSTs to)."""
    from urllib.parse import urlsplit

    fetch = urlsplit(query_params(location)["fetch"])
    return f"{fetch.path}?{fetch.query}"


def cmi5_launch(api: Api, url: str) -> dict[str, str]:
    """Launch an AU through the cmi5 launch route (302): its launch parameters, `location` and fetch `token`."""
    resp = api.client.http.get(url)
    assert resp.status_code == 302, (url, resp.status_code, resp.body)
    location = resp.headers["Location"]
    params = query_params(location)
    return {**params, "location": location, "fetchUrl": cmi5_fetch_url(location), "token": url_token(params["fetch"])}
