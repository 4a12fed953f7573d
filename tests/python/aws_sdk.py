"""Drives the management API with the real AWS SDK for Python.

Run by tests/tests/aws_sdk.rs with: ENDPOINT KEY_ID SECRET CONNECTION_ID.
The gateway runs with --stage prod, --api-key KEY_ID:SECRET and a maximum
message size of 1024 bytes. Prints one line per check; exits non-zero on the
first failure.
"""

import datetime
import sys

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, key_id, secret, connection_id = sys.argv[1:5]


def client(secret_key=secret, config=None):
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret_key,
        config=config,
    )


def check(name, condition, detail=""):
    if not condition:
        sys.exit(f"FAILED {name}: {detail}")
    print(f"ok {name}")


def error_of(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


api = client()

posted = api.post_to_connection(ConnectionId=connection_id, Data=b"hello from boto3")
check("post_to_connection", posted["ResponseMetadata"]["HTTPStatusCode"] == 200, posted)

info = api.get_connection(ConnectionId=connection_id)
check("get_connection dates", isinstance(info["ConnectedAt"], datetime.datetime)
      and isinstance(info["LastActiveAt"], datetime.datetime), info)
check("get_connection identity", info["Identity"]["SourceIp"] == "127.0.0.1", info)

try:
    api.post_to_connection(ConnectionId=connection_id, Data=b"x" * 1025)
    check("PayloadTooLargeException", False, "a 1025-byte post was accepted")
except api.exceptions.PayloadTooLargeException:
    check("PayloadTooLargeException", True)

deleted = api.delete_connection(ConnectionId=connection_id)
check("delete_connection", deleted["ResponseMetadata"]["HTTPStatusCode"] == 204, deleted)

for name, call in [
    ("post after delete", lambda: api.post_to_connection(ConnectionId=connection_id, Data=b"late")),
    ("get of an unknown id", lambda: api.get_connection(ConnectionId="no/such=id")),
    ("delete of an unknown id", lambda: api.delete_connection(ConnectionId="no-such-id==")),
]:
    try:
        call()
        check(f"GoneException on {name}", False, "no exception")
    except api.exceptions.GoneException:
        check(f"GoneException on {name}", True)

wrong_secret = error_of(lambda: client("not-the-secret").get_connection(ConnectionId="x"))
check("wrong secret is ForbiddenException 403", wrong_secret == ("ForbiddenException", 403), wrong_secret)

unsigned = error_of(lambda: client(config=Config(signature_version=UNSIGNED)).get_connection(ConnectionId="x"))
check("no credentials is 401", unsigned is not None and unsigned[1] == 401, unsigned)
