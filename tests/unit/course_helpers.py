"""Course fixtures for in-process tests: versions from a described package, the stream drained."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.unit.factories import Api


@dataclass(frozen=True)
class FakeSco:
    id: str
    title: str
    launch: str
    scorm_type: str = "sco"
    mastery_score: float | None = None
    completion_threshold: float | None = None
    prerequisites: str | None = None
    launch_data: str | None = None
    max_time_allowed: str | None = None
    time_limit_action: str | None = None
    move_on: str | None = None
    launch_method: str | None = None
    activity_id: str | None = None


@dataclass(frozen=True)
class FakePackage:
    """What `content.packages.inspect` returns, for tests that need a version but not a zip."""

    format: str = "scorm12"
    edition: str | None = None
    identifier: str = "pkg"
    title: str = "A package"
    description: str | None = None
    scos: tuple[FakeSco, ...] = (FakeSco("sco-1", "Lesson", "index.html", mastery_score=80.0),)
    choice: bool = True
    flow: bool = True
    files: tuple[str, ...] = ("imsmanifest.xml", "index.html")
    total_bytes: int = 100
    extra: dict[str, Any] = field(default_factory=dict)


def add_version(owner: str, course_id: str, package: FakePackage | None = None, prefix: str | None = None) -> int:
    from chalicelib.catalog import courses

    course = courses.load_course(owner, course_id)
    tx, number = courses.add_version(course, package or FakePackage(), prefix or f"packages/{owner}/{course_id}/x/",
                                     "up-test", "tester")
    tx.commit()
    return number


class Stream:
    """Feeds the table's new stream records to the app's consumer, as the Lambda trigger would."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seen: set[str] = set()

    def drain(self) -> int:
        import boto3

        from chalicelib.config import settings

        ddb = boto3.client("dynamodb")
        arn = ddb.describe_table(TableName=settings().table_name)["Table"]["LatestStreamArn"]
        streams = boto3.client("dynamodbstreams")
        fresh: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
                seq = record["dynamodb"]["SequenceNumber"]
                if seq not in self.seen:
                    self.seen.add(seq)
                    fresh.append(record)
        if fresh:
            result = self.api.client.lambda_.invoke("on_table_change", {"Records": fresh})
            assert result.payload == {"batchItemFailures": []}, result.payload
        return len(fresh)


# -- the player's URLs and tokens, and files in the content bucket -------------------------------------------
def player_config(api: Api, launch_url: str) -> dict[str, Any]:
    """The player page's config (its `player-config` JSON) for a launch URL."""
    import json

    resp = api.client.http.get(launch_url)
    assert resp.status_code == 200, resp.body
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
