"""Create the test bucket on the stack's S3 server and prove it honours
conditional creates (PUT with If-None-Match: * must answer 412 the second time).

usage: s3_check.py <endpoint-url> <bucket>
"""
import sys
import uuid

import boto3
from botocore.exceptions import ClientError


def main() -> int:
    endpoint, bucket = sys.argv[1], sys.argv[2]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    key = f"_stack-check/{uuid.uuid4()}"
    s3.put_object(Bucket=bucket, Key=key, Body=b"first", IfNoneMatch="*")
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"second", IfNoneMatch="*")
    except ClientError as e:
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        if status != 412:
            print(f"second conditional PUT of s3://{bucket}/{key} answered {status}, expected 412", file=sys.stderr)
            return 1
    else:
        print(f"S3 server at {endpoint} accepted a second PUT with If-None-Match: * (conditional writes unsupported)", file=sys.stderr)
        return 1
    s3.delete_object(Bucket=bucket, Key=key)
    print(f"s3: bucket {bucket} ready at {endpoint}; If-None-Match: * -> 412 on overwrite", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
