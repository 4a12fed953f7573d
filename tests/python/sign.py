"""Signs one request with botocore's SigV4 signer, exactly as the AWS SDK for
Python signs, and prints the headers it added as a JSON object.

Run by tests/tests/aws_sdk.rs with:
METHOD URL BODY KEY_ID SECRET REGION SERVICE host|no-host.
`no-host` leaves `host` out of the signed headers, which botocore never does
by itself: the signature is otherwise botocore's own.
"""

import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

method, url, body, key_id, secret, region, service, host = sys.argv[1:9]


class WithoutHost(SigV4Auth):
    def headers_to_sign(self, request):
        headers = super().headers_to_sign(request)
        del headers["host"]
        return headers


signer = SigV4Auth if host == "host" else WithoutHost
request = AWSRequest(method=method, url=url, data=body.encode())
signer(Credentials(key_id, secret), service, region).add_auth(request)
print(json.dumps(dict(request.headers.items())))
